"""
Validation loss and bits per byte of held-out files, per language, beside xz -9e on the same files.

    nice /usr/bin/python3 -m training.eval.eval_bpb --ckpt training/runs/h200-2026-11-28/sft \
        [--ckpt training/runs/h200-2026-11-28/pretrain] [--onnx models/attentive-code-14m/onnx/model_quantized.onnx \
        --onnx-languages typescript] [--docs training/.data/val_docs.jsonl] [--window 1024 --stride 512] [--json out.json]

Method. Each held-out file (training/.data/val_docs.jsonl: raw text, no FIM) is tokenized on its own and
preceded by <|endoftext|> (id 0), the document separator that precedes every file in training:
ids = [0] + encode(text). Every file token is predicted (the leading 0 is context only; no <|endoftext|>
is predicted after the file). Files longer than the window are scored with sliding windows of --window ids
advancing by --stride: the first window counts all its targets, each later window only the --stride
targets no earlier window counted, so each token is counted exactly once with >= window - stride tokens of
context (see evaluate.windows).
    loss (nats/token) = sum NLL / tokens;   bits per byte = sum NLL / ln 2 / UTF-8 bytes of the files.
Per language the sums run over all its files (a byte-weighted mean).

xz: `xz -9e` (lzma2, preset 9 extreme, .xz container) on the same files, in bits per byte, two ways:
    concat: the language's files concatenated in val_docs order, compressed once (xz's best case: it can
            reuse matches across files, as the model never can);
    per-file: each file compressed alone, sizes summed (the model's situation; each .xz has a ~60-byte
            container overhead, given separately by per-file raw, --format=raw, which has none).

Overlap with training (--overlap; needs the corpus manifest of training/data/corpus.py on this machine): files are
deduplicated exactly (whitespace-normalised), but near-copies (vendored packages: pip/_vendor/urllib3 beside
urllib3, ...) straddle the split. For each held-out file, the share of its lines (stripped, >= 20 chars) that
occur verbatim in a training file; figures are also given over the "novel" files, under --novel-max (0.5) of
their lines seen in training.

PyTorch runs the checkpoint (fp32 weights from the float16 shards) with evaluate.fast_logits (on the CPU, or
--device cuda with TF32 off; --ids skips the tokenizer, for a machine without the `regex` module); --onnx
reruns the languages named by --onnx-languages through an ONNX file in onnxruntime-node (Node), to show
the shipped file gives the same figures.
"""
import argparse
import math
import os
import subprocess
import time

import numpy as np

from training.eval.evaluate import LANGUAGES, fast_logits, load_docs, run_ort_eval, token_nll, windows, write_json
from training.paths import DATA, ROOT

LN2 = math.log(2.0)


def xz_size(data: bytes, raw: bool = False) -> int:
    cmd = ["xz", "-9e", "-c", "-T1"] + (["--format=raw"] if raw else [])
    return len(subprocess.run(cmd, input=data, capture_output=True, check=True).stdout)


def xz_bpb(texts):
    """{'concat', 'per_file', 'per_file_raw'}: bits per byte of xz -9e on these texts."""
    blobs = [t.encode("utf-8") for t in texts]
    n = sum(len(b) for b in blobs)
    return {"concat": 8 * xz_size(b"".join(blobs)) / n,
            "per_file": 8 * sum(xz_size(b) for b in blobs) / n,
            "per_file_raw": 8 * sum(xz_size(b, raw=True) for b in blobs) / n}


def doc_windows(ids, window, stride):
    """[(ids of the window plus its last target, score_from)] for one document's ids (evaluate.windows)."""
    return [(ids[b:e + 1], f) for b, e, f in windows(len(ids) - 1, window, stride)]


def torch_nll(model, ids, window, stride, device="cpu"):
    """Sum of NLL (nats) and token count of one document's targets ids[1:], PyTorch."""
    import torch
    total, n = 0.0, 0
    with torch.no_grad():
        for w, f in doc_windows(ids, window, stride):
            x = torch.tensor(w[:-1], dtype=torch.long, device=device)[None]
            y = torch.tensor(w[1:], dtype=torch.long, device=device)
            nll = token_nll(fast_logits(model, x)[0].cpu(), y.cpu())
            total += float(nll[f:].sum())
            n += len(nll) - f
    return total, n


def train_line_overlap(docs, entries=None, min_len=20):
    """For each doc, the share of its lines (stripped, >= min_len chars) found verbatim in a training file."""
    from training.data import corpus
    if entries is None:
        entries = [e for e in corpus.read_manifest() if e["split"] == "train"]
    seen = set()
    for e in entries:
        text = e["text"] if "text" in e else corpus.read_doc(e)
        for line in (text or "").split("\n"):
            line = line.strip()
            if len(line) >= min_len:
                seen.add(line)
    out = []
    for d in docs:
        lines = [x.strip() for x in d["text"].split("\n") if len(x.strip()) >= min_len]
        out.append(sum(x in seen for x in lines) / len(lines) if lines else 0.0)
    return out


def summarize(per_doc, docs):
    """per_doc: list of (nll_sum, tokens) aligned with docs -> per-language and overall figures."""
    out = {}
    for lang in list(LANGUAGES) + ["all"]:
        idx = [i for i, d in enumerate(docs) if lang == "all" or d["language"] == lang]
        if not idx:
            continue
        nll = sum(per_doc[i][0] for i in idx)
        tok = sum(per_doc[i][1] for i in idx)
        nbytes = sum(len(docs[i]["text"].encode("utf-8")) for i in idx)
        out[lang] = {"files": len(idx), "bytes": nbytes, "tokens": tok, "bytes_per_token": nbytes / tok,
                     "loss": nll / tok, "bpb": nll / LN2 / nbytes}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", action="append", default=[], help="checkpoint dir (repeatable)")
    ap.add_argument("--onnx", action="append", default=[], help="ONNX file to rerun --onnx-languages with (repeatable)")
    ap.add_argument("--onnx-languages", default="typescript", help="comma-separated, or 'all'")
    ap.add_argument("--docs", default=os.path.join(DATA, "val_docs.jsonl"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "attentive-code-14m", "tokenizer.json"))
    ap.add_argument("--languages", default="all", help="comma-separated subset for the checkpoints")
    ap.add_argument("--window", type=int, default=1024)
    ap.add_argument("--stride", type=int, default=512)
    ap.add_argument("--no-xz", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (PyTorch only; fp32, TF32 off)")
    ap.add_argument("--ids", default=None,
                    help="pre-tokenized files ([{path, ids}] aligned with --docs, e.g. training/.data/val_docs_ids.json "
                         "from prepare.py): no tokenizer needed")
    ap.add_argument("--overlap", action="store_true", help="also report figures over files mostly unseen in training")
    ap.add_argument("--novel-max", type=float, default=0.5)
    ap.add_argument("--per-file", action="store_true", help="put every file's figures in the JSON")
    ap.add_argument("--json", default=None, help="write the figures here")
    args = ap.parse_args(argv)

    import torch
    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    from training.model.checkpoint import load_model
    langs = LANGUAGES if args.languages == "all" else tuple(args.languages.split(","))
    all_docs = load_docs(args.docs)
    keep = [i for i, d in enumerate(all_docs) if d["language"] in langs]
    docs = [all_docs[i] for i in keep]
    if args.ids:
        import json
        with open(args.ids) as f:
            pre = json.load(f)
        assert [p["path"] for p in pre] == [d["path"] for d in all_docs], "--ids does not match --docs"
        ids = [[0] + list(pre[i]["ids"]) for i in keep]
    else:
        from training.data.bpe import BPETokenizer
        tok = BPETokenizer.load_hf(args.tokenizer)
        ids = [[0] + tok.encode(d["text"]) for d in docs]
    method = {"docs": os.path.relpath(args.docs), "window": args.window, "stride": args.stride,
              "prompt": "[<|endoftext|>] + encode(file); every file token predicted, no FIM",
              "bpb": "sum NLL / ln 2 / UTF-8 bytes (per language: sums over its files)"}
    result = {"method": method, "checkpoints": {}, "onnx": {}}
    print(f"{len(docs)} files, {sum(map(len, ids)) - len(ids)} tokens; window {args.window}, stride {args.stride}")
    overlap = None
    if args.overlap:
        overlap = train_line_overlap(docs)
        novel = [i for i, o in enumerate(overlap) if o < args.novel_max]
        result["overlap"] = {"min_line_chars": 20, "novel_max": args.novel_max, "novel_files": len(novel),
                             "files_over_90pct": sum(o >= 0.9 for o in overlap)}
        for lang in langs:
            idx = [i for i, d in enumerate(docs) if d["language"] == lang]
            nl = [sum(len(x.strip()) >= 20 for x in docs[i]["text"].split("\n")) for i in idx]
            seen = sum(overlap[i] * n for i, n in zip(idx, nl))
            result["overlap"][lang] = {"lines_seen_in_train": seen / max(1, sum(nl)),
                                       "novel_files": sum(overlap[i] < args.novel_max for i in idx), "files": len(idx)}
        print("overlap with training:", result["overlap"])

    def report(per_doc, sub_idx=None):
        """Figures over all docs (or docs sub_idx), plus the novel subset when --overlap."""
        sel = list(range(len(docs))) if sub_idx is None else sub_idx
        s_ = summarize([per_doc[i] for i in sel], [docs[i] for i in sel])
        if overlap is not None:
            nov = [i for i in sel if overlap[i] < args.novel_max]
            s_["novel"] = summarize([per_doc[i] for i in nov], [docs[i] for i in nov])
        if args.per_file:
            s_["files"] = [{"path": docs[i]["path"], "language": docs[i]["language"], "nll": per_doc[i][0],
                            "tokens": per_doc[i][1], "bytes": len(docs[i]["text"].encode("utf-8")),
                            **({"train_overlap": round(overlap[i], 4)} if overlap is not None else {})} for i in sel]
        return s_

    if not args.no_xz:
        result["xz"] = {lang: xz_bpb([d["text"] for d in docs if d["language"] == lang]) for lang in langs}
        result["xz"]["all"] = xz_bpb([d["text"] for d in docs])
        if overlap is not None:
            result["xz"]["novel"] = {lang: xz_bpb([d["text"] for d, o in zip(docs, overlap)
                                                   if o < args.novel_max and (lang == "all" or d["language"] == lang)])
                                     for lang in list(langs) + ["all"]}
        for lang, v in result["xz"].items():
            if lang == "novel":
                continue
            print(f"xz -9e {lang:10s}: concat {v['concat']:.3f} bpb, per-file {v['per_file']:.3f}, "
                  f"per-file raw {v['per_file_raw']:.3f}")

    for ck in args.ckpt:
        model, info = load_model(ck, device=args.device)
        model.eval()
        t0 = time.time()
        per_doc = []
        for i, d_ids in enumerate(ids):
            per_doc.append(torch_nll(model, d_ids, args.window, args.stride, args.device))
            if (i + 1) % 50 == 0:
                print(f"  {ck}: {i + 1}/{len(ids)} files, {time.time() - t0:.0f} s", flush=True)
        s = report(per_doc)
        result["checkpoints"][os.path.relpath(ck)] = {"stage": info.get("stage"), "step": info.get("step"),
                                                      "device": args.device, "torch": torch.__version__,
                                                      "seconds": round(time.time() - t0, 1), **s}
        for lang, v in s.items():
            if lang in ("novel", "files"):
                continue
            print(f"{ck} {lang:10s}: loss {v['loss']:.4f} nats/token, {v['bpb']:.4f} bits/byte "
                  f"({v['tokens']} tokens, {v['bytes_per_token']:.2f} bytes/token)", flush=True)

    olangs = LANGUAGES if args.onnx_languages == "all" else tuple(args.onnx_languages.split(","))
    for path in args.onnx:
        sel = [i for i, d in enumerate(docs) if d["language"] in olangs]
        jobs, owner = [], []
        for i in sel:
            for w, f in doc_windows(ids[i], args.window, args.stride):
                jobs.append({"ids": w, "from": f})
                owner.append(i)
        t0 = time.time()
        r = run_ort_eval([{"cmd": "nll", "model": path, "windows": jobs}], threads=args.threads)[0]
        per_doc = {i: [0.0, 0] for i in sel}
        for i, s_, n_ in zip(owner, r["nll"], r["n"]):
            per_doc[i][0] += s_
            per_doc[i][1] += n_
        s = report(per_doc, sel)
        result["onnx"][os.path.relpath(path)] = {"seconds": round(time.time() - t0, 1), **s}
        for lang, v in s.items():
            if lang in ("novel", "files"):
                continue
            print(f"{os.path.basename(path)} {lang:10s}: loss {v['loss']:.4f} nats/token, {v['bpb']:.4f} bits/byte", flush=True)

    if args.json:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
