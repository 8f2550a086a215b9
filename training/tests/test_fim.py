import random
from collections import Counter

import pytest

from training.data.bpe import SPECIAL_TOKENS, train_bpe
from training.data.fim import document_tokens, fim_split, fim_tokens, split_pieces

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


# ---- editor mode ---------------------------------------------------------------------------------

CODE = "".join(f"def f{i}(x):\n    y = x * {i}  # scale\n    if y > {i}:\n        return y - 1\n\n    return y\n\n\n"
               for i in range(120))  # ~7 KB: windows are cut inside it


def test_editor_spans_are_windows_with_every_kind():
    from training.data.fim import EDITOR_KINDS, EDITOR_PREFIX_CHARS, EDITOR_SUFFIX_CHARS, editor_split
    rng = random.Random(3)
    kinds, modes, lens = Counter(), Counter(), {}
    for _ in range(3000):
        mode, kind, p, m, s = editor_split(CODE, rng, 2000, 5000)
        w = p + m + s
        a = CODE.find(w)
        assert a != -1, "prefix + middle + suffix is a contiguous window of the file"
        assert a == 0 or CODE[a - 1] == "\n", "the window starts at a line start"
        assert a + len(w) == len(CODE) or w.endswith("\n"), "and ends after a newline"
        assert len(p) <= EDITOR_PREFIX_CHARS + 100 and len(s) <= EDITOR_SUFFIX_CHARS + 100
        assert 2000 <= a + len(p) <= 5000 + 100, "the cursor lies in the piece (or the line it starts)"
        kinds[kind] += 1
        modes[mode] += 1
        lens.setdefault(kind, []).append(len(m))
        if kind == "rest_of_line":
            assert m and "\n" not in m[:-1] and (s.startswith("\n") or m.endswith("\n"))
            assert not p.endswith("\n"), "the cursor is inside the line"
        if kind == "whole_lines":
            assert 1 <= m.count("\n") + (not m.endswith("\n")) <= 6
            assert p.rstrip(" ") == "" or p.rstrip(" ").endswith("\n"), "at a line start or after its indentation"
        if kind == "empty":
            assert m == ""
    assert set(kinds) == set(EDITOR_KINDS)
    assert 0.05 < kinds["empty"] / 3000 < 0.15 and kinds["rest_of_line"] > kinds["short_span"]
    assert max(lens["short_span"]) <= 200 and sum(lens["rest_of_line"]) / kinds["rest_of_line"] < 40
    assert 0.75 < modes["spm"] / 3000 < 0.85 and 0.15 < modes["psm"] / 3000 < 0.25


def _one_editor_example(tok, seed, spm_rate):
    """The ids of one editor-mode FIM example of CODE[:2000], and its (prefix, middle, suffix) drawn again from the
    same random state (after the fim_rate draw)."""
    from training.data.fim import editor_document_tokens, editor_split
    rng = random.Random(seed)
    state = rng.getstate()
    ids = editor_document_tokens(CODE[:2000], tok, rng, fim_rate=1.0, spm_rate=spm_rate)
    replay = random.Random()
    replay.setstate(state)
    replay.random()  # the fim_rate draw
    _, _, p, m, s = editor_split(CODE[:2000], replay, 0, 2000, spm_rate)
    return ids, (p, m, s)


def test_editor_document_tokens_psm_format(tok):
    from training.data.fim import editor_document_tokens
    doc = CODE * 2
    ids = editor_document_tokens(doc, tok, random.Random(0), fim_rate=1.0, spm_rate=0.0)
    assert ids[-1] == EOT and ids[0] == PRE
    text = tok.decode(ids)
    examples = text.split("<|endoftext|>")[:-1]
    assert len(examples) == len(split_pieces(doc))
    empty = 0
    for ex in examples:
        assert ex.startswith("<|fim_prefix|>") and ex.count("<|fim_suffix|>") == 1 and ex.count("<|fim_middle|>") == 1
        p = ex[len("<|fim_prefix|>"):].split("<|fim_suffix|>")[0]
        s = ex.split("<|fim_suffix|>")[1].split("<|fim_middle|>")[0]
        m = ex.split("<|fim_middle|>")[1]
        assert (p + m + s) in doc
        empty += m == ""
    # pieces tokenized separately, as the editor sends them: a FIM example's ids are exactly these
    one, (p, m, s) = _one_editor_example(tok, seed=11, spm_rate=0.0)
    assert one == [PRE] + tok.encode(p) + [SUF] + tok.encode(s) + [MID] + tok.encode(m) + [EOT]
    # empty middles: <|fim_middle|> then <|endoftext|> at once
    many = editor_document_tokens(CODE * 10, tok, random.Random(2), fim_rate=1.0)
    assert any(a == MID and b == EOT for a, b in zip(many, many[1:]))
    # fim_rate 0: the plain file
    assert tok.decode(editor_document_tokens(CODE, tok, random.Random(0), fim_rate=0.0)) == CODE + "<|endoftext|>"


def test_editor_document_tokens_spm_variant(tok):
    """SPM as StarCoder trains it: the middle continues the prefix, tokenized together with it."""
    from training.data.fim import editor_document_tokens
    one, (p, m, s) = _one_editor_example(tok, seed=5, spm_rate=1.0)
    assert one == [PRE, SUF] + tok.encode(s) + [MID] + tok.encode(p + m) + [EOT]
    # smaller windows when asked
    short = editor_document_tokens(CODE * 10, tok, random.Random(3), fim_rate=1.0, spm_rate=1.0, max_prefix=300, max_suffix=100)
    for ex in tok.decode(short).split("<|endoftext|>")[:-1]:
        suffix, rest = ex[len("<|fim_prefix|><|fim_suffix|>"):].split("<|fim_middle|>")
        assert len(suffix) <= 100 + 200 and len(rest) <= 300 + 200 + 400  # budgets, widened to whole lines and a middle


BRACES = "".join(f"function g{i}(x) {{\n  const y = x * {i};\n  if (y > {i}) {{\n    return y - 1;\n  }}\n  return y;\n}}\n\n"
                 for i in range(60))


def test_whole_block_middles_are_block_bodies():
    """A block's body after its header (":" or "{"), up to the line that closes it, cursor at its start."""
    from training.data.fim import editor_split
    for doc in (CODE, BRACES):
        rng = random.Random(4)
        for _ in range(300):
            mode, kind, p, m, s = editor_split(doc, rng, 0, len(doc), kind="whole_block")
            assert kind == "whole_block" and m.strip()
            a = doc.find(p + m + s)
            assert a != -1 and doc.find(p + m + s, a + 1) == -1, "a window found once in the file"
            i, j = a + len(p), a + len(p) + len(m)
            line_start = doc.rfind("\n", 0, i) + 1
            assert doc[line_start:i].strip() == "", "the cursor is at a line start or after its indentation"
            header = doc[:line_start - 1].split("\n")[-1]
            assert header.rstrip().endswith((":", "{")), f"the cursor's line follows a block's header: {header!r}"
            base = len(header) - len(header.lstrip())
            body = [line for line in doc[line_start:j].split("\n") if line.strip()]
            assert body and all(len(line) - len(line.lstrip()) > base for line in body), "every body line is indented past the header"
            after = doc[j:].lstrip("\n").split("\n")[0]
            assert len(after) - len(after.lstrip()) <= base, "the middle ends where the block does"


def test_forced_kinds_and_first_middle_token(tok):
    """Held-out streams of one kind each: a forced kind is that kind or None; the first middle token's index."""
    from training.data.fim import EDITOR_KINDS, editor_example_ids, editor_split
    rng = random.Random(6)
    for kind in EDITOR_KINDS:
        cut = editor_split(CODE, rng, 0, 2000, kind=kind)
        assert cut is not None and cut[1] == kind
    assert editor_split("x = 1\ny = 2\n", rng, 0, 12, kind="whole_block") is None
    # PSM: right after <|fim_middle|>
    ids, first = editor_example_ids(tok, "psm", "def f(x):\n    re", "turn x\n", "\nprint(f(1))\n")
    assert ids[first - 1] == MID and tok.decode(ids[first:-1]) == "turn x\n"
    # SPM: the first token of prefix + middle that holds a middle character
    prefix, middle = "def f(x):\n    re", "turn x\n"
    ids, first = editor_example_ids(tok, "spm", prefix, middle, "\nprint(f(1))\n")
    start = ids.index(MID) + 1
    assert len(tok.decode(ids[start:first])) <= len(prefix) < len(tok.decode(ids[start:first + 1]))
    # an empty middle: the <|endoftext|> that must come at once
    ids, first = editor_example_ids(tok, "spm", prefix, "", "\nprint(f(1))\n")
    assert ids[first] == EOT and first == len(ids) - 1
