import json

import pytest

from training.data.bpe import GPT2_SPLIT, SPECIAL_TOKENS, BPETokenizer, train_bpe

CODE = [
    "def add(a, b):\n    return a + b\n\n\nclass Foo:\n    def bar(self):\n        if self.x:\n            return 1\n        return 2\n",
    "function f(x) {\n    if (x) {\n        for (const y of x) {\n            console.log(y);\n        }\n    }\n}\n",
    "import os\nimport sys\n\n\ndef main(argv):\n    for arg in argv:\n        print(arg)\n    return 0\n",
]
TEXTS = CODE * 30


@pytest.fixture(scope="module")
def tok():
    return train_bpe(TEXTS, 320, SPECIAL_TOKENS)


def test_id_layout(tok):
    assert tok.vocab_size == 320
    assert [tok.token_to_id(s) for s in SPECIAL_TOKENS] == list(range(6))
    assert tok.token_to_id("!") == 6 + ord("!")  # bytes follow the specials, in byte order
    assert tok.token_to_id("Ġ") == 6 + ord(" ")  # GPT-2 byte->unicode map


@pytest.mark.parametrize("text", CODE + [
    "héllo wörld 你好 🚀 — ünïcödé\n", "\t\ttabs\r\nCRLF\n", "   ", "", "x" * 1000, "\u00a0\ufeff\u0085\u2028mixed space",
    "it's we'll <|endoftext|> not special by default",
])
def test_round_trip(tok, text):
    assert tok.decode(tok.encode(text)) == text


def test_specials_only_parsed_when_allowed(tok):
    text = "a<|endoftext|>b<|im_start|>"
    assert 0 not in tok.encode(text)
    ids = tok.encode(text, allow_special=True)
    assert ids.count(0) == 1 and ids[-1] == tok.token_to_id("<|im_start|>")
    assert tok.decode(ids) == text


def test_indentation_is_one_token(tok):
    # GPT-2's regex keeps "\n" + indentation minus one space as one chunk (the last space joins the word)
    assert GPT2_SPLIT.findall("\n        return") == ["\n       ", " return"]
    for n in (4, 8, 12):
        chunk = "\n" + " " * (n - 1)
        assert len(tok.encode(chunk)) == 1, n


def test_compresses(tok):
    text = CODE[0]
    assert len(tok.encode(text)) < len(text.encode()) / 2


def test_hf_round_trip(tok, tmp_path):
    path = tmp_path / "tokenizer.json"
    tok.save_hf(str(path))
    d = json.loads(path.read_text())
    assert d["model"]["type"] == "BPE" and d["pre_tokenizer"]["type"] == "ByteLevel" and d["decoder"]["type"] == "ByteLevel"
    assert [(t["id"], t["content"], t["special"]) for t in d["added_tokens"]] == [(i, s, True) for i, s in enumerate(SPECIAL_TOKENS)]
    assert len(d["model"]["merges"]) == 320 - 256 - 6
    tok2 = BPETokenizer.load_hf(str(path))
    assert tok2.vocab_size == tok.vocab_size
    for text in CODE + ["ünï 🚀"]:
        assert tok2.encode(text) == tok.encode(text)


def test_training_is_deterministic():
    a = train_bpe(TEXTS, 300, SPECIAL_TOKENS)
    b = train_bpe(list(reversed(TEXTS)), 300, SPECIAL_TOKENS)
    assert a.merges == b.merges


def test_incremental_counts_match_brute_force():
    # the first merges of the incremental trainer equal a naive full recount
    from collections import Counter
    texts = ["aaabdaaabac", "xyxyxy aa", "hello hello world"]
    tok = train_bpe(texts, 6 + 256 + 5, SPECIAL_TOKENS)
    words = [[6 + b for b in c.encode()] for t in texts for c in GPT2_SPLIT.findall(t)]
    for step, (a, b) in enumerate(tok.merges):
        counts = Counter(p for w in words for p in zip(w, w[1:]))
        best = max(counts.values())
        assert counts[(a, b)] == best and (a, b) == min(p for p, c in counts.items() if c == best)
        new = 6 + 256 + step
        for k, w in enumerate(words):
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == (a, b):
                    out.append(new); i += 2
                else:
                    out.append(w[i]); i += 1
            words[k] = out
