"""
Loss of a checkpoint on the FIM examples of a token stream, split by part. PSM examples: the first middle token
(where the model must find where the hole starts), the rest of the middle, and the first prefix tokens (plain code,
for scale). SPM-variant examples (<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}, editor mode):
the <|endoftext|> that ends the middle (where the model must stop: the suffix begins there), its mean probability,
and the mean probability of <|endoftext|> at the other positions after <|fim_middle|> (stopping too early).

    nice /usr/bin/python3 -m training.eval.eval_fim_stream --ckpt training/runs/h200-2026-11-28/pretrain \
        [--stream training/.data/train.bin] [--examples 60]

On the stream the model was trained on, a low middle loss with a high first-middle-token loss means the middles
were memorised; on val.bin it measures the skill. PSM examples only (<|fim_prefix|> ... <|fim_middle|> ... <|endoftext|>),
at most 1,000 tokens each, preceded by <|endoftext|> as in training; chosen with numpy's default_rng(0).
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F

from training.eval.evaluate import fast_logits
from training.paths import DATA
from training.model.checkpoint import load_model

EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = 0, 1, 2, 3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--stream", default=os.path.join(DATA, "train.bin"))
    ap.add_argument("--examples", type=int, default=60)
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    model = load_model(args.ckpt)[0].eval()
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
