import random
from collections import Counter

import pytest

from bpe import SPECIAL_TOKENS, train_bpe
from fim import document_tokens, fim_split, fim_tokens, split_pieces

DOC = "def f(x):\n    y = x * 2  # double\n    return y + 1\n\nprint(f(3))\n"
EOT, PRE, MID, SUF = 0, 1, 2, 3


@pytest.fixture(scope="module")
def tok():
    return train_bpe([DOC * 20, "héllo wörld\n" * 10], 300, SPECIAL_TOKENS)


def test_split_round_trip_and_proportions():
    rng = random.Random(0)
    modes = Counter()
    for _ in range(4000):
        mode, p, m, s = fim_split(DOC, rng)
        assert p + m + s == DOC
        modes[mode] += 1
    assert abs(modes["plain"] / 4000 - 0.5) < 0.04
    assert abs(modes["psm"] / 4000 - 0.25) < 0.03 and abs(modes["spm"] / 4000 - 0.25) < 0.03


def test_formats(tok):
    rng = random.Random(1)
    seen = set()
    for _ in range(200):
        state = rng.getstate()
        ids = fim_tokens(DOC, tok, rng)
        rng2 = random.Random()
        rng2.setstate(state)
        mode, p, m, s = fim_split(DOC, rng2)  # same draws as fim_tokens made
        seen.add(mode)
        assert ids[-1] == EOT and ids.count(EOT) == 1
        if mode == "plain":
            assert ids == tok.encode(DOC) + [EOT]
        elif mode == "psm":
            assert ids == [PRE] + tok.encode(p) + [SUF] + tok.encode(s) + [MID] + tok.encode(m) + [EOT]
        else:
            assert ids == [SUF] + tok.encode(s) + [PRE] + tok.encode(p) + [MID] + tok.encode(m) + [EOT]
        # the text between sentinels decodes back to the document's pieces
        text = tok.decode(ids)
        if mode != "plain":
            pre = text.split("<|fim_prefix|>")[1].split("<|fim_")[0]
            suf = text.split("<|fim_suffix|>")[1].split("<|fim_")[0]
            mid = text.split("<|fim_middle|>")[1].split("<|endoftext|>")[0]
            assert pre + mid + suf == DOC
    assert seen == {"plain", "psm", "spm"}


def test_seeded(tok):
    assert fim_tokens(DOC, tok, random.Random(7)) == fim_tokens(DOC, tok, random.Random(7))


def test_long_documents_are_cut_into_pieces(tok):
    doc = "".join(f"line {i} = {i} * 2\n" for i in range(2000))
    pieces = split_pieces(doc, 3000)
    assert "".join(pieces) == doc and all(len(p) <= 3000 for p in pieces) and len(pieces) > 5
    ids = document_tokens(doc, tok, random.Random(0), max_chars=3000)
    assert ids[-1] == EOT
    n_fim = ids.count(MID)  # one per FIM example
    assert 0 < n_fim < len(pieces)  # some pieces FIM, some plain
    assert ids.count(EOT) in (n_fim, n_fim + 1)  # one per FIM example, plus the file's end after a plain piece
    # with FIM off the file is one plain stream with a single <|endoftext|>
    plain = document_tokens(doc, tok, random.Random(0), max_chars=3000, fim_rate=0.0)
    assert plain.count(EOT) == 1 and tok.decode(plain) == doc + "<|endoftext|>"
