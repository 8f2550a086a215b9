"""
Loss of a checkpoint on the FIM examples of a token stream, split by part. PSM examples: the first middle token
(where the model must find where the hole starts), the rest of the middle, and the first prefix tokens (plain code,
for scale). SPM-variant examples (<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}, editor mode):
the <|endoftext|> that ends the middle (where the model must stop: the suffix begins there), its mean probability,
and the mean probability of <|endoftext|> at the other positions after <|fim_middle|> (stopping too early).

    nice /usr/bin/python3 -m training.eval.eval_fim_stream --ckpt training/runs/h200-2026-11-28/pretrain \
        [--stream training/.data/train.bin] [--examples 60]
    nice /usr/bin/python3 -m training.eval.eval_fim_stream --ckpt CKPT --by-kind training/.data [--examples 400]

--by-kind scores the held-out streams of each editor hole kind (rest of line, whole lines, whole block, short span,
empty) apart: the first middle token of each, where a model that never saw holes of that shape fails.

On the stream the model was trained on, a low middle loss with a high first-middle-token loss means the middles
were memorised; on val.bin it measures the skill. PSM examples only (<|fim_prefix|> ... <|fim_middle|> ... <|endoftext|>),
at most 1,000 tokens each, preceded by <|endoftext|> as in training; chosen with numpy's default_rng(0).
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from training.data.fim import EDITOR_KINDS
from training.eval.evaluate import fast_logits, token_nll
from training.paths import DATA
from training.model.checkpoint import load_model

EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = 0, 1, 2, 3


def score_kinds(model, data_dir: str, examples: int, kinds=EDITOR_KINDS) -> dict:
    """Mean loss (nats) on the held-out editor FIM streams prepare.py writes, one per hole kind (val_fim_<kind>.bin,
    with its index .json): the first middle token (the first holding a character of the middle; for an empty middle
    the <|endoftext|> that must come at once), the rest of the middle, and the <|endoftext|> that ends it, by kind and
    mode (PSM, SPM variant). At most `examples` per kind, in the file's order; examples longer than the model's
    context are passed over (counted as `too_long`)."""
    out = {}
    for kind in kinds:
        path = os.path.join(data_dir, f"val_fim_{kind}")
        if not os.path.exists(path + ".bin"):
            continue
        stream = np.fromfile(path + ".bin", dtype=np.uint16)
        index = json.load(open(path + ".json", encoding="utf-8"))["examples"]
        ends = [e[0] for e in index[1:]] + [len(stream)]  # an example ends where the next begins
        index, ends = index[:examples], ends[:examples]
        parts = {mode: {"first_middle_token": [], "rest_of_middle": [], "stop_token": []} for mode in ("psm", "spm")}
        too_long = {"psm": 0, "spm": 0}
        for (start, first, mode), end in zip(index, ends):
            if end - start + 1 > model.config.block_size:
                too_long[mode] += 1
                continue
            ids = torch.tensor(np.concatenate([[EOT], stream[start:end]]).astype(np.int64))[None]   # [1, T]
            with torch.no_grad():
                nll = token_nll(fast_logits(model, ids)[0, :-1], ids[0, 1:])                 # [T-1]: nll[k] scores ids[k+1]
            f = first - start  # the first middle token's index in the example: ids[f + 1], scored by nll[f]
            parts[mode]["first_middle_token"].append(float(nll[f]))
            parts[mode]["rest_of_middle"].extend(float(x) for x in nll[f + 1:-1])
            parts[mode]["stop_token"].append(float(nll[-1]))
        out[kind] = {mode: {"examples": len(p["first_middle_token"]), "too_long": too_long[mode],
                            **{k: float(np.mean(v)) if v else None for k, v in p.items()}}
                     for mode, p in parts.items() if p["first_middle_token"]}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--stream", default=os.path.join(DATA, "train.bin"))
    ap.add_argument("--examples", type=int, default=60)
    ap.add_argument("--by-kind", default=None, metavar="DATA_DIR",
                    help="score the held-out streams of each editor hole kind in DATA_DIR (val_fim_<kind>.bin) instead")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    model = load_model(args.ckpt)[0].eval()
    if args.by_kind:
        scores = score_kinds(model, args.by_kind, args.examples)
        print(f"{args.ckpt} on {args.by_kind}/val_fim_<kind>.bin: mean loss (nats)")
        print("| hole kind | mode | examples | first middle token | rest of middle | stop token |")
        print("|---|---|---:|---:|---:|---:|")
        for kind, modes in scores.items():
            for mode, v in modes.items():
                cell = lambda x: "" if x is None else f"{x:.3f}"  # noqa: E731
                print(f"| {kind} | {mode} | {v['examples']} | {cell(v['first_middle_token'])} | {cell(v['rest_of_middle'])} | {cell(v['stop_token'])} |")
        return scores
    stream = np.fromfile(args.stream, dtype=np.uint16)
    parts = {"first_middle_token": [], "rest_of_middle": [], "first_prefix_tokens": []}
    spm = {"stop_token": [], "continuation": [], "p_stop_at_end": [], "p_stop_elsewhere": []}
    used = {"psm": 0, "spm": 0}
    for start in np.random.default_rng(0).permutation(np.nonzero(stream == FIM_PREFIX)[0]):
        if min(used.values()) >= args.examples:
            break
        ends = np.nonzero(stream[start:start + 2000] == EOT)[0]
        if len(ends) == 0:
            continue
        example = stream[start:start + ends[0] + 1].astype(np.int64)
        middle = np.nonzero(example == FIM_MIDDLE)[0]
        if len(example) > 1000 or len(middle) == 0 or middle[0] + 2 >= len(example):
            continue
        kind = "spm" if example[1] == FIM_SUFFIX else "psm"
        if used[kind] >= args.examples:
            continue
        ids = torch.tensor(np.concatenate([[EOT], example]))[None]                      # [1, T]
        with torch.no_grad():
            logp = F.log_softmax(fast_logits(model, ids)[0, :-1].float(), dim=-1)     # [T-1, vocab]
        nll = -logp.gather(1, ids[0, 1:, None])[:, 0].numpy()                         # [T-1]
        m = middle[0] + 1  # position of <|fim_middle|> in ids; nll[m] predicts the token after it
        if kind == "psm":
            parts["first_middle_token"].append(nll[m])
            parts["rest_of_middle"].extend(nll[m + 1:-1])
            parts["first_prefix_tokens"].extend(nll[1:min(50, m)])
        else:
            p_eot = logp[:, EOT].exp().numpy()                                          # [T-1]
            spm["stop_token"].append(nll[-1])
            spm["continuation"].extend(nll[m:-1])
            spm["p_stop_at_end"].append(p_eot[-1])
            spm["p_stop_elsewhere"].extend(p_eot[m:-1])
        used[kind] += 1
    print(f"{args.ckpt} on {args.stream}: {used['psm']} PSM examples; mean loss (nats) " +
          ", ".join(f"{k} {np.mean(v):.3f}" for k, v in parts.items() if v))
    if used["spm"]:
        print(f"  {used['spm']} SPM-variant examples: mean loss (nats) stop_token {np.mean(spm['stop_token']):.3f}, "
              f"continuation {np.mean(spm['continuation']):.3f}; mean P(<|endoftext|>) at the middle's end "
              f"{np.mean(spm['p_stop_at_end']):.3f}, elsewhere after <|fim_middle|> {np.mean(spm['p_stop_elsewhere']):.4f}")


if __name__ == "__main__":
    main()
