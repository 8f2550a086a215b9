import random

import numpy as np

from training.data.near_dup import MIN_TOKENS, MinHasher, NearDuplicateIndex, jaccard, shingle_hashes

with open(__file__.replace("test_near_dup.py", "../data/corpus.py"), encoding="utf-8") as f:
    ORIGINAL = f.read()  # a real source file of a few hundred lines


def edited(text: str, share: float, seed: int) -> str:
    """text with that share of its lines replaced by new ones."""
    lines = text.splitlines()
    rng = random.Random(seed)
    for i in rng.sample(range(len(lines)), int(len(lines) * share)):
        lines[i] = f"    value_{seed}_{i} = compute({i}, {rng.random():.6f})"
    return "\n".join(lines)


def test_signature_agreement_estimates_jaccard():
    hasher = MinHasher()
    for share in (0.05, 0.2, 0.5):
        other = edited(ORIGINAL, share, seed=1)
        estimate = np.mean(hasher.signature(shingle_hashes(ORIGINAL)) == hasher.signature(shingle_hashes(other)))
        assert abs(estimate - jaccard(ORIGINAL, other)) < 0.1, share  # 128 permutations: standard error <= 0.045


def test_finds_edited_and_reformatted_copies_only():
    index = NearDuplicateIndex()
    index.add("original", ORIGINAL)
    for seed in range(5):
        assert index.find(edited(ORIGINAL, 0.05, seed)) == "original"  # Jaccard ~0.85
        assert index.find(edited(ORIGINAL, 0.3, seed)) is None          # Jaccard ~0.45
    reformatted = "\n".join("\t" + line.strip() + "  " for line in ORIGINAL.splitlines())
    assert index.find(reformatted) == "original"  # layout is not part of the tokens
    with open(__file__.replace("test_near_dup.py", "../data/fim.py"), encoding="utf-8") as f:
        assert index.find(f.read()) is None  # another file of the same project and style


def test_most_similar_kept_file_is_named_and_short_files_are_left_alone():
    index = NearDuplicateIndex()
    index.add("far", edited(ORIGINAL, 0.2, seed=7))
    index.add("near", edited(ORIGINAL, 0.02, seed=8))
    assert index.find(ORIGINAL) == "near"
    short = " ".join(["x"] * (MIN_TOKENS - 1))
    index.add("short", short)
    assert index.find(short) is None and len(shingle_hashes(short)) == 0


def test_word_order_matters():
    words = [f"name{i}" for i in range(200)]
    assert jaccard(" ".join(words), " ".join(reversed(words))) == 0.0
