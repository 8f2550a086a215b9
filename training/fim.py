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
