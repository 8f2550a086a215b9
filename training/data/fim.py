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
EDITOR_REST_OF_LINE = 0.40  # (a) cursor inside a line; middle = the rest of that line (+ its newline half the time)
EDITOR_WHOLE_LINES = 0.30   # (b) cursor at a line start (or after its indentation); middle = 1-6 whole lines
EDITOR_SHORT_SPAN = 0.20    # (c) any span of 1..EDITOR_SPAN_MAX chars
EDITOR_EMPTY = 0.10         # (d) nothing to insert: the model must answer <|endoftext|> at once
EDITOR_MAX_LINES = 6
EDITOR_SPAN_MAX = 200
EDITOR_PREFIX_CHARS = 2500  # most prefix before the middle, cut at a line start
EDITOR_SUFFIX_CHARS = 1000  # most suffix after the middle, cut after a newline
EDITOR_SPM_RATE = 0.8       # the engine prompts our model in SPM (below); some PSM keeps the other order alive
EDITOR_KINDS = ("rest_of_line", "whole_lines", "short_span", "empty")


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


def editor_middle(doc: str, rng: random.Random, lo: int = 0, hi: int | None = None):
    """(kind, i, j): a middle doc[i:j] of an editor kind, its cursor i inside [lo, hi)."""
    hi = len(doc) if hi is None else hi
    if hi <= lo:
        return "empty", lo, lo
    r = rng.random()
    starts = _line_starts(doc, lo, hi)
    if r < EDITOR_REST_OF_LINE and starts:
        for _ in range(8):  # a line with something on it
            s = rng.choice(starts)
            e = _line_end(doc, s)
            indent = len(doc[s:e]) - len(doc[s:e].lstrip())
            if e - s > indent + 1:
                i = rng.randint(s + indent + 1, e - 1)  # inside the line, after at least one visible char
                j = e + 1 if (e < len(doc) and rng.random() < 0.5) else e
                return "rest_of_line", i, j
    r -= EDITOR_REST_OF_LINE
    if r < EDITOR_WHOLE_LINES and starts:
        k = rng.randint(0, len(starts) - 1)
        s = starts[k]
        n = rng.randint(1, EDITOR_MAX_LINES)
        e = s
        for _ in range(n):
            e = _line_end(doc, e) + 1
            if e >= len(doc):
                e = len(doc)
                break
        if e < len(doc) and rng.random() < 0.3:
            e -= 1  # the last line's newline stays in the suffix
        line = doc[s:_line_end(doc, s)]
        if rng.random() < 0.5:  # cursor after the indentation
            s += len(line) - len(line.lstrip(" \t"))
        if e > s:
            return "whole_lines", s, e
    r -= EDITOR_WHOLE_LINES
    if r < EDITOR_SHORT_SPAN:
        i = rng.randint(lo, hi - 1)
        j = min(len(doc), i + rng.randint(1, EDITOR_SPAN_MAX))
        return "short_span", i, j
    # empty: at a line end half the time (a finished line), else anywhere
    if starts and rng.random() < 0.5:
        i = _line_end(doc, rng.choice(starts))
    else:
        i = rng.randint(lo, hi)
    return "empty", i, i


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
                 max_prefix: int = EDITOR_PREFIX_CHARS, max_suffix: int = EDITOR_SUFFIX_CHARS):
    """(mode, kind, prefix, middle, suffix), mode 'psm' or 'spm'; prefix + middle + suffix is a window of doc."""
    kind, i, j = editor_middle(doc, rng, lo, hi)
    a, b = editor_window(doc, i, j, rng, max_prefix, max_suffix)
    mode = "spm" if rng.random() < spm_rate else "psm"
    return mode, kind, doc[a:i], doc[i:j], doc[j:b]


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
    eot, pre, mid, suf = (tok.token_to_id(s) for s in ("<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"))
    enc = tok.encode
    out, pos = [], 0
    for piece in split_pieces(doc, max_chars):
        lo, hi = pos, pos + len(piece)
        pos = hi
        if rng.random() >= fim_rate:
            out.extend(enc(piece))  # plain: the file continues
            continue
        mode, _, prefix, middle, suffix = editor_split(doc, rng, lo, hi, spm_rate, max_prefix, max_suffix)
        if mode == "psm":
            out.extend([pre] + enc(prefix) + [suf] + enc(suffix) + [mid] + enc(middle) + [eot])
        else:
            out.extend([pre, suf] + enc(suffix) + [mid] + enc(prefix + middle) + [eot])
    if not out or out[-1] != eot:
        out.append(eot)
    return out
