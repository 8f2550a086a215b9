"""
One command from source files on this machine to training data:

    nice /usr/bin/python3 -m training.data.prepare [--force] [--train-tokens 21000000] [--sft-tokens 2500000]

corpus manifest -> BPE tokenizer -> training/.data/
    tokenizer.json                 Hugging Face format, loaded by the extension (JS) and by Python
    tokenizer_config.json          chat_template, eos <|im_end|>, clean_up_tokenization_spaces=false
    train.bin, val.bin             uint16 token streams, FIM applied, every file ends with <|endoftext|> (id 0)
    val_docs.jsonl                 raw held-out files {path, source, language, text} for bits-per-byte evals
    val_docs_ids.json              Python's ids for each of them (the JS parity test compares)
    sft_train.bin, sft_val.bin     uint16 ChatML conversations
    sft_train_mask.bin, sft_val_mask.bin   uint8, 1 on assistant-reply tokens (the loss mask)
    val_fim_<kind>.bin, .json      --fim-mode editor: held-out FIM examples of one hole kind each (eval_fim_stream)
    chat_eval.jsonl                held-out chat prompts with what scores their answers (eval_chat)
    meta.json                      vocab size, special ids, token counts, bytes/token per language

Steps are cached: the manifest and tokenizer.json are reused unless --force. The corpus is SAMPLED to the
token budget (whole files; JS/TS kept up to --js-share, Python sampled to fill): the default budget keeps
train.bin + the SFT bins under ~50 MB; on the way to a GPU machine they travel xz'd in parts (gpu_run.sh --pack).
"""
import argparse
import json
import os
import random
import shutil
import time

import numpy as np

from training.data import bpe, chat_data, corpus, fim
from training.data.bpe import SPECIAL_TOKENS, BPETokenizer, chunk_counts, train_bpe

DATA = corpus.DATA_DIR


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def load_docs(entries: list[dict]) -> list[dict]:
    docs = []
    for e in entries:
        text = corpus.read_doc(e)
        if text is not None:  # the file changed since the manifest was written: leave it out
            docs.append({**e, "text": text})
    return docs


def get_tokenizer(train_docs: list[dict], vocab_size: int, sample_bytes: int, force: bool,
                  reuse: str | None = None) -> BPETokenizer:
    if reuse:  # a model's vocabulary is fixed: continued training must never retrain the tokenizer
        log(f"reusing {reuse}")
        tok = BPETokenizer.load_hf(reuse)
        if os.path.abspath(reuse) != os.path.abspath(os.path.join(DATA, "tokenizer.json")):
            shutil.copyfile(reuse, os.path.join(DATA, "tokenizer.json"))
        return tok
    path = os.path.join(DATA, "tokenizer.json")
    if os.path.exists(path) and not force:
        log(f"reusing {path}")
        return BPETokenizer.load_hf(path)
    docs = train_docs[:]
    random.Random(1).shuffle(docs)
    texts, n = [], 0
    for d in docs:
        if n >= sample_bytes:
            break
        texts.append(d["text"])
        n += len(d["text"].encode("utf-8"))
    log(f"training BPE (vocab {vocab_size}) on {len(texts)} files, {n / 1e6:.1f} MB")
    counts = chunk_counts(texts)
    tok = train_bpe(None, vocab_size, SPECIAL_TOKENS, counts=counts)
    tok.save_hf(path)
    log(f"wrote {path}")
    return tok


def write_tokenizer_config(tok: BPETokenizer) -> None:
    """tokenizer_config.json as HF exports have it; the JS runtime needs clean_up_tokenization_spaces=false
    (tokenizers.js defaults it to true, which would turn "x ." into "x." when decoding code)."""
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": None,
        "additional_special_tokens": SPECIAL_TOKENS,
        "add_bos_token": False, "add_eos_token": False, "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 1 << 30,
        "chat_template": chat_data.CHAT_TEMPLATE,
    }
    with open(os.path.join(DATA, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=1)


def bytes_per_token(tok: BPETokenizer, docs: list[dict]) -> dict:
    """Plain (no FIM) compression per language."""
    out = {}
    for lang in sorted({d["language"] for d in docs}):
        texts = [d["text"] for d in docs if d["language"] == lang]
        nbytes = sum(len(t.encode("utf-8")) for t in texts)
        ntok = sum(len(tok.encode(t)) for t in texts)
        out[lang] = {"bytes": nbytes, "tokens": ntok, "bytes_per_token": round(nbytes / max(ntok, 1), 4)}
    return out


def write_stream(path: str, docs: list[dict], tok: BPETokenizer, seed: int, max_tokens: int | None = None,
                 fim_mode: str = "charlevel", fim_rate: float = fim.FIM_RATE, editor: dict | None = None) -> dict:
    """Tokenize docs (FIM applied) into a uint16 file; stop at the first whole file past max_tokens."""
    assert tok.vocab_size <= 65536
    rng = random.Random(seed)
    chunks, n, per_lang = [], 0, {}
    for i, d in enumerate(docs):
        if fim_mode == "editor":
            ids = fim.editor_document_tokens(d["text"], tok, rng, fim_rate=fim_rate, **(editor or {}))
        else:
            ids = fim.document_tokens(d["text"], tok, rng, fim_rate=fim_rate)
        chunks.append(np.array(ids, dtype=np.uint16))
        n += len(ids)
        pl = per_lang.setdefault(d["language"], {"files": 0, "bytes": 0, "tokens": 0})
        pl["files"] += 1
        pl["bytes"] += len(d["text"].encode("utf-8"))
        pl["tokens"] += len(ids)
        if (i + 1) % 1000 == 0:
            log(f"  {path}: {i + 1} files, {n / 1e6:.2f}M tokens")
        if max_tokens is not None and n >= max_tokens:
            break
    np.concatenate(chunks).tofile(path)
    log(f"wrote {path}: {n} tokens from {sum(p['files'] for p in per_lang.values())} files")
    return {"tokens": n, "per_language": per_lang}


def write_fim_eval(path: str, docs: list[dict], tok: BPETokenizer, seed: int, kind: str, examples: int,
                   spm_rate: float = fim.EDITOR_SPM_RATE, editor: dict | None = None) -> dict:
    """Held-out editor FIM examples of one kind: `path`.bin (each example ends with <|endoftext|>, as in training) and
    `path`.json, for each example the index of its first token in the stream and of its first middle token (the
    position eval_fim_stream scores separately). One example per file at most, files in a shuffled order."""
    rng = random.Random(seed)
    order = docs[:]
    rng.shuffle(order)
    ids, index = [], []
    windows = {k: v for k, v in (editor or {}).items() if k in ("max_prefix", "max_suffix")}
    for d in order:
        if len(index) >= examples:
            break
        cut = fim.editor_split(d["text"], rng, spm_rate=spm_rate, kind=kind, **windows)
        if cut is None or len(cut[3]) > 4000:
            continue
        example, first = fim.editor_example_ids(tok, cut[0], *cut[2:])
        index.append([len(ids), len(ids) + first, cut[0]])
        ids.extend(example)
    np.array(ids, dtype=np.uint16).tofile(path + ".bin")
    with open(path + ".json", "w", encoding="utf-8") as f:
        json.dump({"kind": kind, "examples": index}, f)
    log(f"wrote {path}.bin: {len(index)} {kind} examples, {len(ids)} tokens")
    return {"examples": len(index), "tokens": len(ids)}


def sample_to_budget(docs: list[dict], budget_bytes: dict[str, float], seed: int) -> list[dict]:
    """Whole files, shuffled, each language up to its byte budget; languages interleaved in the result."""
    rng = random.Random(seed)
    docs = docs[:]
    rng.shuffle(docs)
    used = {lang: 0 for lang in budget_bytes}
    out = []
    for d in docs:
        b = len(d["text"].encode("utf-8"))
        if used[d["language"]] + b <= budget_bytes[d["language"]]:
            out.append(d)
            used[d["language"]] += b
    return out


def write_sft(prefix: str, docs: list[dict], tok: BPETokenizer, seed: int, max_tokens: int | None) -> dict:
    convs = chat_data.build_conversations(docs, seed=seed)
    ids, mask, stats = chat_data.tokenize_conversations(convs, tok, max_tokens=max_tokens, seed=seed)
    np.array(ids, dtype=np.uint16).tofile(prefix + ".bin")
    np.array(mask, dtype=np.uint8).tofile(prefix + "_mask.bin")
    log(f"wrote {prefix}.bin: {len(ids)} tokens, {sum(mask)} masked-in, {stats['conversations']} conversations "
        f"(by user turns {stats['by_turns']}); replies by task {stats['by_kind']}")
    return {"tokens": len(ids), "loss_tokens": int(sum(mask)), **stats}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="rebuild the manifest and retrain the tokenizer")
    ap.add_argument("--vocab-size", type=int, default=8192)
    ap.add_argument("--bpe-sample-mb", type=float, default=30)
    ap.add_argument("--train-tokens", type=int, default=21_000_000, help="pretraining token budget (uint16: 2 bytes each)")
    ap.add_argument("--sft-tokens", type=int, default=2_500_000)
    ap.add_argument("--js-share", type=float, default=0.4, help="most of the pretraining budget given to JS/TS")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--out", default=None, help="output directory (default training/.data)")
    ap.add_argument("--manifest", default=corpus.MANIFEST,
                    help="corpus manifest to read (default training/.data/corpus/manifest.jsonl; "
                         "built from this machine's files when missing or with --force)")
    ap.add_argument("--fim-mode", choices=["charlevel", "editor"], default="charlevel",
                    help="charlevel: Bavarian et al. spans over ~3000-char pieces; editor: short middles at a "
                         "cursor (rest of line, a few lines, empty) in a window of the file (see fim.py)")
    ap.add_argument("--spm-rate", type=float, default=fim.EDITOR_SPM_RATE, help="editor mode: share of FIM examples in SPM")
    ap.add_argument("--editor-prefix-chars", type=int, default=fim.EDITOR_PREFIX_CHARS, help="editor mode: most prefix")
    ap.add_argument("--editor-suffix-chars", type=int, default=fim.EDITOR_SUFFIX_CHARS, help="editor mode: most suffix")
    ap.add_argument("--fim-rate", type=float, default=fim.FIM_RATE, help="fraction of pieces made FIM examples")
    ap.add_argument("--reuse-tokenizer", default=None,
                    help="tokenizer.json to use as is (continued training: the vocabulary is fixed)")
    ap.add_argument("--sft-from", default=None,
                    help="copy sft_*.bin from this data directory instead of building them")
    ap.add_argument("--val-tokens", type=int, default=None, help="cap on val.bin tokens")
    ap.add_argument("--fim-eval-examples", type=int, default=400, help="held-out editor FIM examples per hole kind (val_fim_<kind>.bin)")
    ap.add_argument("--chat-eval-examples", type=int, default=200, help="held-out chat prompts (chat_eval.jsonl, for eval_chat)")
    args = ap.parse_args(argv)
    global DATA
    if args.out:
        DATA = os.path.abspath(args.out)
    os.makedirs(DATA, exist_ok=True)

    if args.force or not os.path.exists(args.manifest):
        log("building corpus manifest")
        # the summary beside the manifest's folder, as corpus.SUMMARY is beside corpus.MANIFEST's
        corpus.main(manifest=args.manifest,
                    summary_path=os.path.join(os.path.dirname(os.path.dirname(args.manifest)), "corpus_summary.json"))
    entries = corpus.read_manifest(args.manifest)
    train_docs = load_docs([e for e in entries if e["split"] == "train"])
    val_docs = load_docs([e for e in entries if e["split"] == "val"])
    log(f"corpus: {len(train_docs)} train files, {len(val_docs)} val files")

    tok = get_tokenizer(train_docs, args.vocab_size, int(args.bpe_sample_mb * 1e6),
                        args.force and not args.reuse_tokenizer, args.reuse_tokenizer)
    assert tok.vocab_size == args.vocab_size or not args.force

    write_val_docs(val_docs, tok)  # with a reused tokenizer too: a new data folder needs its held-out files
    main_rest(args, tok, train_docs, val_docs)


def write_val_docs(val_docs, tok):
    with open(os.path.join(DATA, "val_docs.jsonl"), "w", encoding="utf-8") as f:
        for d in val_docs:
            f.write(json.dumps({k: d[k] for k in ("path", "source", "licence", "language", "text")}, ensure_ascii=False) + "\n")

    bpe.dump_ids(os.path.join(DATA, "tokenizer.json"), os.path.join(DATA, "val_docs.jsonl"),
                 os.path.join(DATA, "val_docs_ids.json"))  # for test/unit/tokenizer-parity.test.ts
    write_tokenizer_config(tok)


def main_rest(args, tok, train_docs, val_docs):
    bpt = bytes_per_token(tok, val_docs)
    log("bytes/token on val: " + ", ".join(f"{k} {v['bytes_per_token']:.2f}" for k, v in bpt.items()))

    # JS/TS is the scarcer language here (and what an editor extension sees most), so it is kept whole up
    # to --js-share of the budget; Python, plentiful, is sampled (whole files) to fill the rest
    lang_bytes = {}
    for d in train_docs:
        lang_bytes[d["language"]] = lang_bytes.get(d["language"], 0) + len(d["text"].encode("utf-8"))
    est = {lang: b / bpt[lang]["bytes_per_token"] for lang, b in lang_bytes.items()}
    js_tokens = sum(t for lang, t in est.items() if lang != "python")
    js_rate = min(1.0, args.js_share * args.train_tokens / js_tokens)
    py_rate = min(1.0, (args.train_tokens - js_rate * js_tokens) / est["python"])
    rates = {lang: (py_rate if lang == "python" else js_rate) for lang in est}
    log(f"train split is ~{sum(est.values()) / 1e6:.1f}M tokens; sampling " + ", ".join(f"{k} {v:.0%}" for k, v in rates.items()))
    sampled = sample_to_budget(train_docs, {lang: b * rates[lang] for lang, b in lang_bytes.items()}, args.seed)
    editor = dict(spm_rate=args.spm_rate, max_prefix=args.editor_prefix_chars, max_suffix=args.editor_suffix_chars)
    fk = dict(fim_mode=args.fim_mode, fim_rate=args.fim_rate, editor=editor)
    train_stats = write_stream(os.path.join(DATA, "train.bin"), sampled, tok, args.seed, max_tokens=args.train_tokens, **fk)
    val_stats = write_stream(os.path.join(DATA, "val.bin"), val_docs, tok, args.seed + 1, max_tokens=args.val_tokens, **fk)
    # A held-out stream per editor hole kind, scored apart (eval_fim_stream --by-kind): the first middle token is where
    # a model that never learned holes of that shape shows it.
    fim_eval = {kind: write_fim_eval(os.path.join(DATA, f"val_fim_{kind}"), val_docs, tok, args.seed + 2 + n, kind,
                                     args.fim_eval_examples, args.spm_rate, editor)
                for n, kind in enumerate(fim.EDITOR_KINDS)}

    if args.sft_from:
        sft_stats = {}
        for name in ("sft_train", "sft_val"):
            for suffix in (".bin", "_mask.bin"):
                shutil.copyfile(os.path.join(args.sft_from, name + suffix), os.path.join(DATA, name + suffix))
            n = os.path.getsize(os.path.join(DATA, name + ".bin")) // 2
            m = int(np.fromfile(os.path.join(DATA, name + "_mask.bin"), dtype=np.uint8).sum())
            sft_stats[name] = {"tokens": n, "loss_tokens": m, "copied_from": os.path.abspath(args.sft_from)}
        log(f"copied sft_*.bin from {args.sft_from}")
        sft_train, sft_val = sft_stats["sft_train"], sft_stats["sft_val"]
    else:
        sft_train = write_sft(os.path.join(DATA, "sft_train"), train_docs, tok, args.seed, args.sft_tokens)
        sft_val = write_sft(os.path.join(DATA, "sft_val"), val_docs, tok, args.seed + 1, None)
    # prompts on held-out functions with what eval_chat needs to score a model's answers automatically
    chat_eval = chat_data.write_chat_eval(os.path.join(DATA, "chat_eval.jsonl"), val_docs, args.chat_eval_examples, args.seed)
    log(f"wrote chat_eval.jsonl: {chat_eval['examples']} prompts {chat_eval['by_kind']}, {chat_eval['with_doctests']} with doctest examples")

    meta = {
        "vocab_size": tok.vocab_size,
        "dtype": "uint16",
        "special_tokens": {s: tok.token_to_id(s) for s in SPECIAL_TOKENS},
        "eot_id": tok.token_to_id("<|endoftext|>"),
        "tokens": {"train": train_stats["tokens"], "val": val_stats["tokens"],
                   "sft_train": sft_train["tokens"], "sft_val": sft_val["tokens"]},
        "train": train_stats, "val": val_stats, "sft_train": sft_train, "sft_val": sft_val,
        "bytes_per_token_val": bpt,
        "fim": ({"rate": args.fim_rate, "spm_rate": fim.SPM_RATE, "level": "character", "max_piece_chars": fim.MAX_PIECE_CHARS}
                if args.fim_mode == "charlevel" else
                {"rate": args.fim_rate, "spm_rate": args.spm_rate, "spm_variant": "<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}",
                 "level": "editor", "max_piece_chars": fim.MAX_PIECE_CHARS,
                 "kinds": fim.EDITOR_KIND_RATES,
                 "prefix_chars": args.editor_prefix_chars, "suffix_chars": args.editor_suffix_chars}),
        "fim_eval": fim_eval,
        "chat_eval": chat_eval,
        "chat_template": chat_data.CHAT_TEMPLATE,
        "system_prompt": chat_data.SYSTEM_PROMPT,
        "seed": args.seed,
    }
    with open(os.path.join(DATA, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    sizes = {n: os.path.getsize(os.path.join(DATA, n)) for n in sorted(os.listdir(DATA)) if os.path.isfile(os.path.join(DATA, n))}
    for n, s in sizes.items():
        log(f"  {n:24s} {s / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
