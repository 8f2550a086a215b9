"""
What the attention heads learned: one table of measures per (layer, head), and a name for each head.

    nice /usr/bin/python3 -m training.eval.heads --ckpt training/runs/h200-2026-11-28/sft \
        [--windows 240 --length 256] [--random 64 --random-length 100] [--out models/attentive-code-14m/heads.json]

Inputs (deterministic, --seed):
  * code windows: --windows windows of --length tokens from the held-out files (training/.data/val_docs.jsonl,
    tokenized plainly, no <|endoftext|> in front: what the extension's attention view shows), a third per
    language, each at a random offset of a random file long enough;
  * random sequences: --random sequences of --random-length token ids drawn uniformly from the ordinary
    vocabulary (ids 6..vocab-1), each repeated twice (length 2 x --random-length).
Measures, on attention probabilities A[query i, key k] (rows sum to 1, causal), averaged over windows and
over queries i >= --min-query (16; earlier rows have few keys and attend to position 0 by default):
  prev_token    A[i, i-1]                                  previous-token heads
  self          A[i, i]                                    current-token heads
  sink          A[i, 0]                                    first-token ("attention sink") heads
  distance      sum_k A[i, k] (i - k)                      mean attention distance, tokens
  entropy_bits  -sum_k A[i, k] log2 A[i, k]                 0 = one key; log2(i + 1) = uniform
  bracket       A[j, i] for a closing bracket ) ] } in token j and its matching opening bracket in token i
                (matched with a stack on the window's text; pairs in one token, or in adjacent tokens (j - i < 3),
                are left out so that previous-token heads do not score), and bracket_top1: how often the
                opening bracket's token is the head's most attended key;
  induction     on the repeated random sequences: A[L + t, t + 1], from the second copy's token t to the
                token after its first occurrence (what an induction head attends to; chance ~ 1/(L + t));
  duplicate     A[L + t, t]: to the first occurrence of the same token (duplicate-token heads).
Also reported: the model's loss on the first and the second copy of the random sequences (in-context
copying: an induction circuit makes the second copy almost free).
Names (a head can meet several criteria; its label is the one exceeding its threshold by the largest
factor): previous-token prev_token >= 0.4; induction induction >= 0.2; duplicate-token duplicate >= 0.2;
bracket-matching bracket_top1 >= 0.3; first-token (sink) sink >= 0.5; current-token self >= 0.4;
otherwise local (distance < 8) or broad.
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np

from training.eval.evaluate import LANGUAGES, load_docs, write_json
from training.paths import DATA, ROOT

N_SPECIAL = 6
OPEN = {ord("("): ord(")"), ord("["): ord("]"), ord("{"): ord("}")}
CLOSE = {v: k for k, v in OPEN.items()}
THRESHOLDS = {  # label: (measure, threshold)
    "previous-token": ("prev_token", 0.4),
    "induction": ("induction", 0.2),
    "duplicate-token": ("duplicate", 0.2),
    "bracket-matching": ("bracket_top1", 0.3),
    "first-token (sink)": ("sink", 0.5),
    "current-token": ("self", 0.4),
}
DESCRIBE = {
    "prev_token": "mean attention to the previous token",
    "induction": "mean attention from a repeated token to the token after its first occurrence (random tokens repeated)",
    "duplicate": "mean attention from a repeated token to its first occurrence (random tokens repeated)",
    "bracket_top1": "share of closing brackets whose most attended key is the matching opening bracket",
    "sink": "mean attention to the first token of the window",
    "self": "mean attention to the token itself",
    "distance": "mean attention distance in tokens",
}


def bracket_pairs(token_bytes, min_gap=3):
    """[(j, i)]: token j holds a closing bracket whose matching opening bracket is in token i, j - i >= min_gap.
    token_bytes: the bytes of each token of a window. A mismatched closer empties the stack (brackets in
    strings and comments)."""
    owner = []
    for t, b in enumerate(token_bytes):
        owner.extend([t] * len(b))
    text = b"".join(token_bytes)
    stack, pairs = [], set()
    for pos, ch in enumerate(text):
        if ch in OPEN:
            stack.append((ch, pos))
        elif ch in CLOSE:
            if stack and stack[-1][0] == CLOSE[ch]:
                _, opos = stack.pop()
                j, i = owner[pos], owner[opos]
                if j - i >= min_gap:
                    pairs.add((j, i))
            else:
                stack.clear()
    return sorted(pairs)


def attention_stats(att, min_query=16):
    """att: numpy [heads, T, T] (one window, one layer). -> dict of per-head sums and the query count."""
    H, T, _ = att.shape
    q = np.arange(min_query, T)
    rows = att[:, q, :]                                             # [H, Q, T]
    dist = (q[:, None] - np.arange(T)[None, :]).clip(min=0)         # [Q, T] i - k (0 on the masked future)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(rows > 0, rows * np.log2(np.where(rows > 0, rows, 1.0)), 0.0).sum(-1)  # [H, Q]
    return {"prev_token": att[:, q, q - 1].sum(-1), "self": att[:, q, q].sum(-1), "sink": rows[:, :, 0].sum(-1),
            "distance": (rows * dist[None]).sum((-1, -2)), "entropy_bits": ent.sum(-1), "n": len(q)}


def repeat_stats(att, L):
    """att [heads, 2L, 2L] on a random sequence repeated twice -> per-head sums of induction / duplicate."""
    t = np.arange(0, L - 1)
    return {"induction": att[:, L + t, t + 1].sum(-1), "duplicate": att[:, L + t, t].sum(-1), "n": len(t)}


def label_head(scores):
    """(label, measure, score) for one head's scores (see THRESHOLDS)."""
    best, best_ratio = None, 1.0
    for label, (measure, thr) in THRESHOLDS.items():
        r = scores.get(measure, 0.0) / thr
        if r >= best_ratio:
            best, best_ratio = label, r
    if best is not None:
        m = THRESHOLDS[best][0]
        return best, m, scores[m]
    if scores["distance"] < 8:
        return "local", "distance", scores["distance"]
    return "broad", "distance", scores["distance"]


def code_windows(docs, encode, n, length, seed):
    """n windows of `length` ids (a third per language) at random offsets of random long-enough files."""
    rng = random.Random(seed)
    out = []
    for li, lang in enumerate(LANGUAGES):
        want = n // len(LANGUAGES) + (1 if li < n % len(LANGUAGES) else 0)
        ids = [encode(d["text"]) for d in docs if d["language"] == lang]
        ids = [x for x in ids if len(x) >= length]
        for _ in range(want):
            x = rng.choice(ids)
            s = rng.randint(0, len(x) - length)
            out.append((lang, x[s:s + length]))
    return out


def analyse(model, tok, docs, n_windows=240, length=256, n_random=64, random_len=100, min_query=16, seed=0,
            batch=8, log=print):
    import torch
    cfg = model.config
    L_, H = cfg.n_layer, cfg.n_head
    keys = ("prev_token", "self", "sink", "distance", "entropy_bits", "bracket", "bracket_top1", "induction", "duplicate")
    sums = {k: np.zeros((L_, H)) for k in keys}
    counts = {k: 0 for k in ("q", "bracket", "rep")}
    wins = code_windows(docs, tok.encode, n_windows, length, seed)
    t0 = time.time()
    with torch.no_grad():
        for b in range(0, len(wins), batch):
            chunk = wins[b:b + batch]
            x = torch.tensor([w for _, w in chunk], dtype=torch.long)
            atts = [a.numpy() for a in model(x, output_attentions=True)[2]]  # L x [B, H, T, T]
            for bi, (_, w) in enumerate(chunk):
                pairs = bracket_pairs([tok.token_bytes[i] for i in w])
                for layer in range(L_):
                    a = atts[layer][bi]
                    st = attention_stats(a, min_query)
                    for k in ("prev_token", "self", "sink", "distance", "entropy_bits"):
                        sums[k][layer] += st[k]
                    for j, i in pairs:
                        sums["bracket"][layer] += a[:, j, i]
                        sums["bracket_top1"][layer] += (a[:, j, :j + 1].argmax(-1) == i)
                counts["q"] += st["n"]
                counts["bracket"] += len(pairs)
            log(f"  code windows {min(b + batch, len(wins))}/{len(wins)}, {time.time() - t0:.0f} s")
        rng = np.random.default_rng(seed)
        first, second = [], []
        for b in range(0, n_random, batch):
            nb = min(batch, n_random - b)
            r = rng.integers(N_SPECIAL, cfg.vocab_size, size=(nb, random_len))
            x = torch.tensor(np.concatenate([r, r], axis=1), dtype=torch.long)
            logits, _, att = model(x, output_attentions=True)
            nll = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1),
                                                    reduction="none").view(nb, -1)
            first.append(nll[:, :random_len - 1].mean().item())
            second.append(nll[:, random_len:].mean().item())
            for layer in range(L_):
                for bi in range(nb):
                    st = repeat_stats(att[layer][bi].numpy(), random_len)
                    sums["induction"][layer] += st["induction"]
                    sums["duplicate"][layer] += st["duplicate"]
            counts["rep"] += nb * st["n"]
    den = {"prev_token": counts["q"], "self": counts["q"], "sink": counts["q"], "distance": counts["q"],
           "entropy_bits": counts["q"], "bracket": counts["bracket"], "bracket_top1": counts["bracket"],
           "induction": counts["rep"], "duplicate": counts["rep"]}
    mean = {k: sums[k] / max(1, den[k]) for k in keys}
    table = []
    for layer in range(L_):
        for h in range(H):
            sc = {k: round(float(mean[k][layer, h]), 4) for k in keys}
            label, measure, score = label_head(sc)
            table.append({"layer": layer, "head": h, "name": f"L{layer}H{h}", "label": label,
                          "measure": measure, "score": round(float(score), 4),
                          "description": f"{label} head: {DESCRIBE.get(measure, measure)} {score:.2f}",
                          "scores": sc})
    summary = {"code_windows": len(wins), "window_length": length, "queries_per_window": length - min_query,
               "bracket_pairs": counts["bracket"], "random_sequences": n_random, "random_length": random_len,
               "random_loss_first_copy": float(np.mean(first)), "random_loss_second_copy": float(np.mean(second))}
    return table, summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--docs", default=os.path.join(DATA, "val_docs.jsonl"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models", "attentive-code-14m", "tokenizer.json"))
    ap.add_argument("--windows", type=int, default=240)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--random", type=int, default=64)
    ap.add_argument("--random-length", type=int, default=100)
    ap.add_argument("--min-query", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="heads.json")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    from training.data.bpe import BPETokenizer
    from training.model.checkpoint import load_model, resolve_ckpt
    tok = BPETokenizer.load_hf(args.tokenizer)
    model, info = load_model(args.ckpt)
    model.eval()
    docs = load_docs(args.docs)
    table, summary = analyse(model, tok, docs, args.windows, args.length, args.random, args.random_length,
                             args.min_query, args.seed)
    for r in table:
        s = r["scores"]
        print(f"{r['name']}: {r['label']:20s} {r['measure']} {r['score']:.2f} | prev {s['prev_token']:.2f} self {s['self']:.2f} "
              f"sink {s['sink']:.2f} ind {s['induction']:.2f} dup {s['duplicate']:.2f} brk {s['bracket']:.2f}/"
              f"{s['bracket_top1']:.2f} dist {s['distance']:.1f} H {s['entropy_bits']:.2f}")
    print(f"random tokens repeated: loss {summary['random_loss_first_copy']:.2f} nats on the first copy, "
          f"{summary['random_loss_second_copy']:.2f} on the second")
    if args.out:
        out = {"model": os.path.basename(os.path.normpath(os.path.dirname(args.out))) if args.out else None,
               "checkpoint": os.path.relpath(resolve_ckpt(args.ckpt)), "stage": info.get("stage"),
               "layers": model.config.n_layer, "heads": model.config.n_head,
               "command": "/usr/bin/python3 -m training.eval.heads " + " ".join(argv if argv is not None else sys.argv[1:]),
               "method": {"min_query": args.min_query, "seed": args.seed,
                          "thresholds": {k: {"measure": m, "min": t} for k, (m, t) in THRESHOLDS.items()},
                          "measures": {**DESCRIBE, "entropy_bits": "mean attention entropy in bits",
                                       "bracket": "mean attention from a closing bracket to its matching opening bracket"}},
               "summary": summary, "table": table}
        write_json(args.out, out)
        print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")
    return table, summary


if __name__ == "__main__":
    main()
