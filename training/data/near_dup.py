"""
Near-duplicate detection for the corpus: MinHash signatures of each file's token 5-grams, banded LSH to find
candidates, the signatures' agreement as the Jaccard estimate (Broder 1997; the BigCode dedup recipe's shingles
and threshold). Neither Debian 12 nor the local wheelhouse carries a MinHash library (datasketch), so the few lines
are here, on numpy and hashlib.

    index = NearDuplicateIndex()
    index.find(text)    # the key of a kept file whose 5-gram Jaccard similarity with text is >= 0.7, or None
    index.add(key, text)

Tokens are identifiers, numbers and single punctuation characters (whitespace and layout ignored), so a file
re-indented, re-wrapped or with a few lines changed still matches its original.
"""
import hashlib
import re

import numpy as np

SHINGLE = 5
NUM_PERM = 128
BANDS = 32             # 32 bands x 4 rows: a pair at Jaccard 0.7 becomes a candidate with probability 0.9998 (0.5: 0.87)
THRESHOLD = 0.7
MIN_TOKENS = 40        # shorter files (licence stubs, one-liners) are left to exact deduplication

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SEED_MIX = np.uint64(0x9E3779B97F4A7C15)


def _token_hashes(tokens: list[str]) -> np.ndarray:
    """uint64 [n]: a stable 64-bit hash per token (blake2b, once per distinct token of the file)."""
    ids: dict[str, int] = {}
    index = np.fromiter((ids.setdefault(t, len(ids)) for t in tokens), dtype=np.int64, count=len(tokens))
    distinct = np.fromiter((int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
                            for t in ids), dtype=np.uint64, count=len(ids))
    return distinct[index]


def shingle_hashes(text: str) -> np.ndarray:
    """uint64 [s]: the distinct hashes of the text's token 5-grams (empty when it has under MIN_TOKENS tokens)."""
    tokens = _TOKEN.findall(text)
    if len(tokens) < MIN_TOKENS:
        return np.zeros(0, dtype=np.uint64)
    h = _token_hashes(tokens)
    n = len(h) - SHINGLE + 1
    acc = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        for i in range(SHINGLE):  # position-dependent mix, so "a b" and "b a" differ
            acc = (acc ^ h[i:i + n]) * _SEED_MIX + np.uint64(i + 1)
    return np.unique(acc)


class MinHasher:
    """NUM_PERM hash functions h(x) = (a x + b) mod 2^64, top 32 bits; the signature is each one's minimum."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.a = (rng.integers(0, 1 << 63, num_perm, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)  # [p], odd
        self.b = rng.integers(0, 1 << 63, num_perm, dtype=np.uint64)                                  # [p]

    def signature(self, shingles: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """uint32 [p] for shingles uint64 [s], s > 0."""
        sig = np.full(len(self.a), np.iinfo(np.uint32).max, dtype=np.uint32)
        with np.errstate(over="ignore"):
            for start in range(0, len(shingles), chunk):
                x = shingles[start:start + chunk]                                          # [c]
                hashed = (self.a[:, None] * x[None, :] + self.b[:, None]) >> np.uint64(32)  # [p, c]
                np.minimum(sig, hashed.min(axis=1).astype(np.uint32), out=sig)
        return sig


class NearDuplicateIndex:
    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM, bands: int = BANDS):
        assert num_perm % bands == 0
        self.threshold, self.rows = threshold, num_perm // bands
        self.hasher = MinHasher(num_perm)
        self.buckets: list[dict[bytes, list[int]]] = [{} for _ in range(bands)]
        self.keys: list[str] = []
        self.signatures = np.zeros((1024, num_perm), dtype=np.uint32)  # [capacity, p]; the first len(keys) rows used
        self._last: tuple[str, np.ndarray | None] | None = None  # find() then add() of the same text hashes it once

    def _signature(self, text: str) -> np.ndarray | None:
        if self._last is not None and self._last[0] is text:
            return self._last[1]
        shingles = shingle_hashes(text)
        sig = self.hasher.signature(shingles) if len(shingles) else None
        self._last = (text, sig)
        return sig

    def _bands(self, sig: np.ndarray):
        for band, bucket in enumerate(self.buckets):
            yield bucket, sig[band * self.rows:(band + 1) * self.rows].tobytes()

    def find(self, text: str) -> str | None:
        """The key of the most similar kept file at or above the threshold (estimated Jaccard), or None."""
        sig = self._signature(text)
        if sig is None:
            return None
        candidates = np.fromiter({i for bucket, band in self._bands(sig) for i in bucket.get(band, ())}, dtype=np.int64)
        if not len(candidates):
            return None
        similarity = (self.signatures[candidates] == sig).mean(axis=1)  # [c] estimated Jaccard
        best = int(np.argmax(similarity))
        return self.keys[candidates[best]] if similarity[best] >= self.threshold else None

    def add(self, key: str, text: str) -> None:
        sig = self._signature(text)
        if sig is None:
            return
        n = len(self.keys)
        if n == len(self.signatures):
            self.signatures = np.concatenate([self.signatures, np.zeros_like(self.signatures)])
        self.signatures[n] = sig
        for bucket, band in self._bands(sig):
            bucket.setdefault(band, []).append(n)
        self.keys.append(key)


def jaccard(a: str, b: str) -> float:
    """The exact 5-gram Jaccard similarity the signatures estimate (for tests and spot checks)."""
    sa, sb = set(shingle_hashes(a).tolist()), set(shingle_hashes(b).tolist())
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0
