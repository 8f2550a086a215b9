"""
Byte-level BPE tokenizer (GPT-2 style), trained by us, saved as a Hugging Face tokenizer.json.

Id layout: special tokens 0..S-1 (in the order given), then the 256 byte tokens, then one id per merge.
Pre-tokenization is GPT-2's regex, so a newline plus indentation is one chunk and BPE learns
indentation tokens. The regex spells out the whitespace class that JavaScript's `\\s` uses, because the
extension tokenizes with @huggingface/tokenizers (JS), whose ByteLevel pre-tokenizer runs this regex
as a JS RegExp: Python's `\\s` would differ on U+0085 and U+FEFF and break id parity.

    python3 -m training.data.bpe --write-fixture   # regenerate test/fixtures/tokenizer/{tokenizer,expected}.json
    python3 -m training.data.bpe --dump-ids TOKENIZER_JSON DOCS_JSONL OUT_JSON   # ids for the JS parity test
"""
import heapq
import json
from collections import Counter
from typing import Iterable

import regex

SPECIAL_TOKENS = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|im_start|>", "<|im_end|>"]

_WS = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"  # JS RegExp \s
GPT2_SPLIT = regex.compile(
    rf"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{{L}}+| ?\p{{N}}+| ?[^{_WS}\p{{L}}\p{{N}}]+|[{_WS}]+(?![^{_WS}])|[{_WS}]+"""
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable unicode characters (used for token strings in tokenizer.json)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {c: b for b, c in BYTE_ENCODER.items()}


class BPETokenizer:
    def __init__(self, merges: list[tuple[int, int]], special_tokens: list[str]):
        self.special_tokens = list(special_tokens)
        self.n_special = len(special_tokens)
        # id -> bytes for every non-special token; merges are (left_id, right_id) in rank order
        self.token_bytes: list[bytes] = [b""] * self.n_special + [bytes([b]) for b in range(256)]
        self.ranks: dict[tuple[int, int], int] = {}  # pair -> new id (lower id == higher priority)
        for a, b in merges:
            self.ranks[(a, b)] = len(self.token_bytes)
            self.token_bytes.append(self.token_bytes[a] + self.token_bytes[b])
        self.merges = list(merges)
        self.special_ids = {s: i for i, s in enumerate(self.special_tokens)}
        self._special_re = regex.compile("|".join(regex.escape(s) for s in self.special_tokens)) if special_tokens else None
        self._str_to_id = {self.id_to_str(i): i for i in range(len(self.token_bytes))}
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.token_bytes)

    def id_to_str(self, i: int) -> str:
        """Token string as it appears in tokenizer.json (bytes through the GPT-2 byte->unicode map)."""
        if i < self.n_special:
            return self.special_tokens[i]
        return "".join(BYTE_ENCODER[b] for b in self.token_bytes[i])

    def token_to_id(self, token: str) -> int | None:
        return self._str_to_id.get(token)

    def _bpe(self, chunk: str) -> list[int]:
        ids = self._cache.get(chunk)
        if ids is not None:
            return ids
        ids = [self.n_special + b for b in chunk.encode("utf-8")]
        ranks = self.ranks
        while len(ids) > 1:
            # merge the lowest-id (earliest learned) pair; all its occurrences left to right
            best = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, 1 << 30))
            new_id = ranks.get(best)
            if new_id is None:
                break
            out, i = [], 0
            while i < len(ids):
                if i < len(ids) - 1 and ids[i] == best[0] and ids[i + 1] == best[1]:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        if len(self._cache) < 2_000_000:  # bound memory on huge corpora
            self._cache[chunk] = ids
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        out = []
        for chunk in GPT2_SPLIT.findall(text):
            out.extend(self._bpe(chunk))
        return out

    def encode(self, text: str, allow_special: bool = False) -> list[int]:
        if not allow_special or self._special_re is None:
            return self.encode_ordinary(text)
        out, pos = [], 0
        for m in self._special_re.finditer(text):
            out.extend(self.encode_ordinary(text[pos:m.start()]))
            out.append(self.special_ids[m.group()])
            pos = m.end()
        out.extend(self.encode_ordinary(text[pos:]))
        return out

    def decode(self, ids: Iterable[int]) -> str:
        parts = []
        for i in ids:
            parts.append(self.special_tokens[i].encode("utf-8") if i < self.n_special else self.token_bytes[i])
        return b"".join(parts).decode("utf-8", errors="replace")

    # --- Hugging Face tokenizer.json -------------------------------------------------------------

    def to_hf_dict(self) -> dict:
        vocab = {self.id_to_str(i): i for i in range(self.vocab_size)}
        merges = [f"{self.id_to_str(a)} {self.id_to_str(b)}" for a, b in self.merges]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True}
                for i, s in enumerate(self.special_tokens)
            ],
            "normalizer": None,
            # JS ByteLevel runs GPT-2's regex with JS \s semantics, which GPT2_SPLIT reproduces exactly
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "model": {
                "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                "vocab": vocab, "merges": merges,
            },
        }

    def save_hf(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_hf_dict(), f, ensure_ascii=False)

    @classmethod
    def load_hf(cls, path: str) -> "BPETokenizer":
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        special = [t["content"] for t in sorted(d["added_tokens"], key=lambda t: t["id"])]
        assert [t["id"] for t in sorted(d["added_tokens"], key=lambda t: t["id"])] == list(range(len(special))), \
            "expected special tokens at ids 0..S-1"
        vocab = d["model"]["vocab"]
        merges = []
        for m in d["model"]["merges"]:
            a, b = m.split(" ") if isinstance(m, str) else m
            merges.append((vocab[a], vocab[b]))
        tok = cls(merges, special)
        assert all(vocab[tok.id_to_str(i)] == i for i in range(tok.vocab_size)), "vocab layout mismatch"
        return tok


def chunk_counts(texts: Iterable[str]) -> Counter:
    counts = Counter()
    for t in texts:
        counts.update(GPT2_SPLIT.findall(t))
    return counts


def train_bpe(texts: Iterable[str], vocab_size: int, special_tokens: list[str], verbose: bool = False,
              counts: Counter | None = None) -> BPETokenizer:
    """Learn vocab_size - len(special_tokens) - 256 merges.

    Pair counts are kept over unique pre-token chunks (weighted by frequency) and updated incrementally:
    a merge only revisits the chunks that contain the merged pair. The best pair comes from a max-heap
    with lazy deletion (stale entries are skipped when their count no longer matches).
    """
    n_special = len(special_tokens)
    n_merges = vocab_size - n_special - 256
    assert n_merges >= 0, "vocab_size too small"
    if counts is None:
        counts = chunk_counts(texts)
    words = [[n_special + b for b in c.encode("utf-8")] for c in counts]
    freqs = list(counts.values())

    pair_counts: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], set[int]] = {}
    for wi, w in enumerate(words):
        f = freqs[wi]
        for p in zip(w, w[1:]):
            pair_counts[p] = pair_counts.get(p, 0) + f
            where.setdefault(p, set()).add(wi)
    # ties broken by the smaller pair, so training is deterministic
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)

    merges = []
    next_id = n_special + 256
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negc or negc == 0:
            continue  # stale entry
        a, b = pair
        merges.append(pair)
        new_id = next_id
        next_id += 1
        changed = set()
        for wi in where.pop(pair, ()):
            w = words[wi]
            if len(w) < 2:
                continue
            f = freqs[wi]
            # subtract this word's old pairs, merge, add the new ones
            for p in zip(w, w[1:]):
                pair_counts[p] -= f
                changed.add(p)
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for p in zip(out, out[1:]):
                pair_counts[p] = pair_counts.get(p, 0) + f
                where.setdefault(p, set()).add(wi)
                changed.add(p)
        pair_counts.pop(pair, None)
        changed.discard(pair)
        for p in changed:
            c = pair_counts[p]
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                del pair_counts[p]
        if verbose and len(merges) % 1000 == 0:
            print(f"  {len(merges)}/{n_merges} merges (last count {-negc})", flush=True)
    return BPETokenizer(merges, special_tokens)


# --- committed JS parity fixture ---------------------------------------------------------------------

FIXTURE_TEXTS = [
    "def hello(name):\n    return f'Hello, {name}!'\n",
    "class Foo:\n    def bar(self, x):\n        if x:\n            return x * 2\n        return None\n",
    "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
    "const s = `héllo wörld 你好 🚀`;\n\t\tconsole.log(s)  // tabs and  double  spaces\r\n",
    "x = 1_000_000 + 3.14e-10\n\n\n\n    \n",
    "   leading spaces and trailing   ",
    "it's we're they've I'm you'll he'd 'S",
    "<|endoftext|> is parsed as a special token by the JS library",
    "Ünïcödé ÀÉÎ\u00a0nbsp \u2003em-space \ufeffbom \u0085nel \u2028ls",
    "",
]


def write_fixture(out_dir: str = "test/fixtures/tokenizer") -> None:
    """Train a vocab-512 tokenizer on a small, fixed slice of the standard library and record Python's ids."""
    import os
    import sysconfig
    stdlib = sysconfig.get_paths()["stdlib"]
    texts = []
    for name in ["textwrap.py", "json/encoder.py", "heapq.py", "string.py"]:
        with open(os.path.join(stdlib, name), encoding="utf-8") as f:
            texts.append(f.read())
    tok = train_bpe(texts, 512, SPECIAL_TOKENS)
    os.makedirs(out_dir, exist_ok=True)
    tok.save_hf(os.path.join(out_dir, "tokenizer.json"))
    cases = [{"text": t, "ids": tok.encode(t, allow_special=True)} for t in FIXTURE_TEXTS]
    # a chat: JS renders CHAT_TEMPLATE and encodes; it must equal the ids (and the split) we train on
    from training.data import chat_data
    messages = [{"role": "system", "content": chat_data.SYSTEM_PROMPT},
                {"role": "user", "content": "Explain this code:\n```python\ndef f(x):\n    return x * 2\n```"},
                {"role": "assistant", "content": "It doubles `x`.\n\n    Indented line."}]
    ids, mask = chat_data.tokenize_conversation(messages, tok)
    chat = {"template": chat_data.CHAT_TEMPLATE, "messages": messages, "rendered": chat_data.render(messages),
            "ids": ids, "mask": mask,
            "prompt_without_system": chat_data.render(messages[1:2], add_generation_prompt=True)}
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"note": "written by python3 -m training.data.bpe --write-fixture; ids with allow_special=True",
                   "cases": cases, "chat": chat}, f, ensure_ascii=False, indent=1)
    print(f"wrote {out_dir}: vocab {tok.vocab_size}, {len(cases)} cases")


def dump_ids(tokenizer_path: str, docs_jsonl: str, out_path: str) -> None:
    """Python's ids for each {path, text} line of docs_jsonl (plain encoding), for the JS parity test."""
    tok = BPETokenizer.load_hf(tokenizer_path)
    with open(docs_jsonl, encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump([{"path": d["path"], "ids": tok.encode(d["text"])} for d in docs], f)


if __name__ == "__main__":
    import sys
    if "--write-fixture" in sys.argv:
        write_fixture()
    elif "--dump-ids" in sys.argv:  # --dump-ids TOKENIZER_JSON DOCS_JSONL OUT_JSON
        i = sys.argv.index("--dump-ids")
        dump_ids(*sys.argv[i + 1:i + 4])
    else:
        print(__doc__)
