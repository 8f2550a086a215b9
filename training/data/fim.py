"""
Fill-in-the-middle (Bavarian et al. 2022, "Efficient Training of Language Models to Fill in the Middle"),
applied at character level so the model learns to start and stop a middle anywhere, even inside a token.

    PSM: <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}<|endoftext|>
    SPM: <|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>{middle}<|endoftext|>
    plain: {doc}<|endoftext|>

Pieces are tokenized separately (as the editor does at inference, where prefix and suffix arrive as
separate strings), and sentinels are inserted by id, never parsed from text.
"""
import random

FIM_RATE = 0.5  # fraction of documents transformed
SPM_RATE = 0.5  # fraction of transformed documents in SPM order
MAX_PIECE_CHARS = 3000  # long files are cut (at line ends) into pieces this size before FIM; see document_tokens


def fim_split(doc: str, rng: random.Random, fim_rate: float = FIM_RATE, spm_rate: float = SPM_RATE):
    """(mode, prefix, middle, suffix); mode is 'plain', 'psm' or 'spm', and prefix + middle + suffix == doc."""
    if rng.random() >= fim_rate:
        return "plain", doc, "", ""
    i, j = sorted(rng.randint(0, len(doc)) for _ in range(2))
    mode = "spm" if rng.random() < spm_rate else "psm"
    return mode, doc[:i], doc[i:j], doc[j:]


def fim_tokens(doc: str, tok, rng: random.Random, fim_rate: float = FIM_RATE, spm_rate: float = SPM_RATE) -> list[int]:
    """Token ids of one document, FIM-transformed or plain, always ending with <|endoftext|>."""
    eot, pre, mid, suf = (tok.token_to_id(s) for s in ("<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"))
    mode, prefix, middle, suffix = fim_split(doc, rng, fim_rate, spm_rate)
    enc = tok.encode
    if mode == "plain":
        return enc(prefix) + [eot]
    if mode == "psm":
        return [pre] + enc(prefix) + [suf] + enc(suffix) + [mid] + enc(middle) + [eot]
    return [suf] + enc(suffix) + [pre] + enc(prefix) + [mid] + enc(middle) + [eot]


def split_pieces(doc: str, max_chars: int = MAX_PIECE_CHARS) -> list[str]:
    """Cut a document at line ends into pieces of at most ~max_chars (a longer single line stays whole)."""
    if len(doc) <= max_chars:
        return [doc]
    pieces, cur, n = [], [], 0
    for line in doc.splitlines(keepends=True):
        if cur and n + len(line) > max_chars:
            pieces.append("".join(cur))
            cur, n = [], 0
        cur.append(line)
        n += len(line)
    if cur:
        pieces.append("".join(cur))
    return pieces


def document_tokens(doc: str, tok, rng: random.Random, max_chars: int = MAX_PIECE_CHARS,
                    fim_rate: float = FIM_RATE, spm_rate: float = SPM_RATE) -> list[int]:
    """A whole file for the pretraining stream.

    A small model sees a window of a few hundred tokens, so FIM over a 50 KB file would almost never put
    prefix, suffix and middle in one window, and its middles would be far longer than an editor asks for.
    So FIM applies to pieces of about max_chars. Plain pieces of a file stay contiguous with no
    <|endoftext|> between them; a FIM piece is a complete example ending in <|endoftext|>, after which
    the file carries on. The file always ends with <|endoftext|>.
    """
    eot = tok.token_to_id("<|endoftext|>")
    out = []
    for piece in split_pieces(doc, max_chars):
        ids = fim_tokens(piece, tok, rng, fim_rate, spm_rate)
        if ids[0] not in (tok.token_to_id("<|fim_prefix|>"), tok.token_to_id("<|fim_suffix|>")):
            ids = ids[:-1]  # plain piece: the file continues
        out.extend(ids)
    if not out or out[-1] != eot:
        out.append(eot)
    return out


# ----------------------------------------------------------------------------------------------
# Editor-style FIM: short middles at a cursor, inside a window of the file
# ----------------------------------------------------------------------------------------------
# The char-level mode above splits a ~3000-char piece in three, so its middles average ~1000 chars and
# start and end anywhere. The editor asks for something else: the rest of the current line, or a few
# lines, at the cursor, with up to a few KB of prefix before it and ~1 KB of suffix after it. Editor mode
# makes FIM examples of that shape. Kinds of middle (probabilities sum to 1):
EDITOR_REST_OF_LINE = 0.35  # (a) cursor inside a line, after typed characters; middle = the rest of that line (+ its newline half the time)
EDITOR_WHOLE_LINES = 0.25   # (b) cursor at a line start (or after its indentation); middle = 1-6 whole lines
EDITOR_WHOLE_BLOCK = 0.10   # (c) cursor at the start of a block's body (after a line ending in ":" or "{"); middle = the body
EDITOR_SHORT_SPAN = 0.20    # (d) any span of 1..EDITOR_SPAN_MAX chars
EDITOR_EMPTY = 0.10         # (e) nothing to insert: the model must answer <|endoftext|> at once
EDITOR_MAX_LINES = 6
EDITOR_BLOCK_MAX_LINES = 40  # a longer body is not one completion
EDITOR_SPAN_MAX = 200
EDITOR_PREFIX_CHARS = 2500  # most prefix before the middle, cut at a line start
EDITOR_SUFFIX_CHARS = 1000  # most suffix after the middle, cut after a newline
EDITOR_SPM_RATE = 0.8       # the engine prompts our model in SPM (below); some PSM keeps the other order alive
EDITOR_KINDS = ("rest_of_line", "whole_lines", "whole_block", "short_span", "empty")
EDITOR_KIND_RATES = {"rest_of_line": EDITOR_REST_OF_LINE, "whole_lines": EDITOR_WHOLE_LINES, "whole_block": EDITOR_WHOLE_BLOCK,
                     "short_span": EDITOR_SHORT_SPAN, "empty": EDITOR_EMPTY}


def _line_starts(doc: str, lo: int, hi: int) -> list[int]:
    """Indexes in [lo, hi) where a line starts in doc."""
    out = [lo] if lo == 0 or doc[lo - 1] == "\n" else []
    i = doc.find("\n", lo, hi)
    while i != -1 and i + 1 < hi:
        out.append(i + 1)
        i = doc.find("\n", i + 1, hi)
    return out


def _line_end(doc: str, i: int) -> int:
    """Index of the newline ending the line that holds i (len(doc) if none)."""
    j = doc.find("\n", i)
    return len(doc) if j == -1 else j


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _rest_of_line(doc: str, rng: random.Random, starts: list[int]):
    for _ in range(8):  # a line with something on it
        s = rng.choice(starts)
        e = _line_end(doc, s)
        indent = _indent(doc[s:e])
        if e - s > indent + 1:
            i = rng.randint(s + indent + 1, e - 1)  # inside the line, after at least one visible char
            j = e + 1 if (e < len(doc) and rng.random() < 0.5) else e
            return i, j
    return None


def _whole_lines(doc: str, rng: random.Random, starts: list[int]):
    s = rng.choice(starts)
    e = s
    for _ in range(rng.randint(1, EDITOR_MAX_LINES)):
        e = _line_end(doc, e) + 1
        if e >= len(doc):
            e = len(doc)
            break
    if e < len(doc) and rng.random() < 0.3:
        e -= 1  # the last line's newline stays in the suffix
    if rng.random() < 0.5:  # cursor after the indentation
        s += _indent(doc[s:_line_end(doc, s)])
    return (s, e) if e > s else None


def _whole_block(doc: str, rng: random.Random, starts: list[int]):
    """The body of a block: the lines after a header ending in ":" or "{" that are blank or indented deeper than it,
    up to the line that closes it (which stays in the suffix). The cursor is at the body's first line start, or after
    its indentation."""
    headers = [s for s in starts if doc[s:_line_end(doc, s)].rstrip().endswith((":", "{")) and _line_end(doc, s) < len(doc)]
    for _ in range(8):
        if not headers:
            return None
        h = rng.choice(headers)
        base = _indent(doc[h:_line_end(doc, h)])
        s = _line_end(doc, h) + 1
        e, last_body, lines = s, s, 0
        while e < len(doc) and lines < EDITOR_BLOCK_MAX_LINES:
            line = doc[e:_line_end(doc, e)]
            if line.strip() and _indent(line) <= base:
                break
            e = min(len(doc), _line_end(doc, e) + 1)
            lines += 1
            if line.strip():
                last_body = e
        if last_body > s and (e >= len(doc) or lines < EDITOR_BLOCK_MAX_LINES):  # a whole body, not its first 40 lines
            if rng.random() < 0.5:
                s += _indent(doc[s:_line_end(doc, s)])
            return s, last_body
    return None


def _short_span(doc: str, rng: random.Random, lo: int, hi: int):
    i = rng.randint(lo, hi - 1)
    return i, min(len(doc), i + rng.randint(1, EDITOR_SPAN_MAX))


def _empty(doc: str, rng: random.Random, starts: list[int], lo: int, hi: int):
    # at a line end half the time (a finished line), else anywhere
    i = _line_end(doc, rng.choice(starts)) if starts and rng.random() < 0.5 else rng.randint(lo, hi)
    return i, i


def editor_middle(doc: str, rng: random.Random, lo: int = 0, hi: int | None = None, kind: str | None = None):
    """(kind, i, j): a middle doc[i:j] of an editor kind, its cursor i inside [lo, hi). `kind` forces one (None when
    doc[lo:hi] has none of it); otherwise it is drawn by EDITOR_KIND_RATES, a kind the piece lacks giving way to the
    next in EDITOR_KINDS."""
    hi = len(doc) if hi is None else hi
    if hi <= lo:
        return ("empty", lo, lo) if kind in (None, "empty") else None
    starts = _line_starts(doc, lo, hi)
    cutters = {
        "rest_of_line": lambda: _rest_of_line(doc, rng, starts) if starts else None,
        "whole_lines": lambda: _whole_lines(doc, rng, starts) if starts else None,
        "whole_block": lambda: _whole_block(doc, rng, starts) if starts else None,
        "short_span": lambda: _short_span(doc, rng, lo, hi),
        "empty": lambda: _empty(doc, rng, starts, lo, hi),
    }
    if kind is not None:
        span = cutters[kind]()
        return (kind, *span) if span else None
    r, drawn = rng.random(), EDITOR_KINDS[-1]
    for name in EDITOR_KINDS:
        if r < EDITOR_KIND_RATES[name]:
            drawn = name
            break
        r -= EDITOR_KIND_RATES[name]
    for name in EDITOR_KINDS[EDITOR_KINDS.index(drawn):]:
        span = cutters[name]()
        if span:
            return (name, *span)
    raise AssertionError("the empty kind always cuts")


def editor_window(doc: str, i: int, j: int, rng: random.Random,
                  max_prefix: int = EDITOR_PREFIX_CHARS, max_suffix: int = EDITOR_SUFFIX_CHARS):
    """(a, b): the window doc[a:b] around the middle doc[i:j]; a at a line start, b after a newline (or the
    file's ends), at most max_prefix chars before i and max_suffix after j (the budget is sometimes
    smaller, as with a short file or a smaller context)."""
    pb = max_prefix if rng.random() < 0.6 else rng.randint(0, max_prefix)
    sb = max_suffix if rng.random() < 0.6 else rng.randint(0, max_suffix)
    a = max(0, i - pb)
    if a > 0:
        nl = doc.find("\n", a - 1, i)  # first line start at or after a
        if nl == -1:  # none within the budget: at least the cursor's line (unless it is huge)
            nl = doc.rfind("\n", 0, i)
            nl = nl if i - nl <= 2 * max_prefix else a - 1
        a = nl + 1
    b = min(len(doc), j + sb)
    if b < len(doc):
        nl = doc.rfind("\n", j, b)
        if nl == -1:  # none within the budget: at least the rest of the middle's last line (unless huge)
            nl = _line_end(doc, j)
            nl = nl if nl - j <= 2 * max_suffix else b - 1
        b = min(len(doc), nl + 1)
    return a, b


def editor_split(doc: str, rng: random.Random, lo: int = 0, hi: int | None = None, spm_rate: float = EDITOR_SPM_RATE,
                 max_prefix: int = EDITOR_PREFIX_CHARS, max_suffix: int = EDITOR_SUFFIX_CHARS, kind: str | None = None):
    """(mode, kind, prefix, middle, suffix), mode 'psm' or 'spm'; prefix + middle + suffix is a window of doc. With
    `kind`, None when doc[lo:hi] has no middle of that kind."""
    cut = editor_middle(doc, rng, lo, hi, kind)
    if cut is None:
        return None
    kind, i, j = cut
    a, b = editor_window(doc, i, j, rng, max_prefix, max_suffix)
    mode = "spm" if rng.random() < spm_rate else "psm"
    return mode, kind, doc[a:i], doc[i:j], doc[j:b]


def editor_example_ids(tok, mode: str, prefix: str, middle: str, suffix: str) -> tuple[list[int], int]:
    """The token ids of one editor FIM example and the index of its first middle token: the first token holding a
    character of the middle (in SPM the middle is tokenized with the prefix, so that token may begin in the prefix),
    or of the closing <|endoftext|> when the middle is empty.

        PSM: <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>{middle}<|endoftext|>
        SPM (variant): <|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}<|endoftext|>"""
    eot, pre, mid, suf = (tok.token_to_id(t) for t in ("<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"))
    enc = tok.encode
    if mode == "psm":
        head = [pre] + enc(prefix) + [suf] + enc(suffix) + [mid]
        return head + enc(middle) + [eot], len(head)
    head = [pre, suf] + enc(suffix) + [mid]
    together, alone = enc(prefix + middle), enc(prefix)
    shared = 0
    while shared < min(len(together), len(alone)) and together[shared] == alone[shared]:
        shared += 1
    # The prefix's own tokens end where both encodings agree, except a last one the middle merged into.
    first = shared if middle else len(together)
    return head + together + [eot], len(head) + first


def editor_document_tokens(doc: str, tok, rng: random.Random, max_chars: int = MAX_PIECE_CHARS,
                           fim_rate: float = FIM_RATE, spm_rate: float = EDITOR_SPM_RATE,
                           max_prefix: int = EDITOR_PREFIX_CHARS, max_suffix: int = EDITOR_SUFFIX_CHARS) -> list[int]:
    """Like document_tokens, but a piece chosen for FIM (fim_rate) becomes one editor-style example whose
    cursor lies in the piece and whose window reaches into the rest of the file.

    Its SPM examples use the variant of Bavarian et al. (appendix D) that StarCoder also trains:

        <|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}<|endoftext|>

    The middle directly continues the prefix, tokenized together with it, so its first token is ordinary next-token
    prediction (with token healing at the cursor, as the engine does) and what FIM adds is reading the suffix and
    stopping where it begins. (In PSM, the model must find the prefix's end across the whole suffix: our 14M model,
    trained on ~185k such examples, never learned to, and predicted a middle's first token from nothing.)"""
    eot = tok.token_to_id("<|endoftext|>")
    enc = tok.encode
    out, pos = [], 0
    for piece in split_pieces(doc, max_chars):
        lo, hi = pos, pos + len(piece)
        pos = hi
        if rng.random() >= fim_rate:
            out.extend(enc(piece))  # plain: the file continues
            continue
        mode, _, prefix, middle, suffix = editor_split(doc, rng, lo, hi, spm_rate, max_prefix, max_suffix)
        out.extend(editor_example_ids(tok, mode, prefix, middle, suffix)[0])
    if not out or out[-1] != eot:
        out.append(eot)
    return out
