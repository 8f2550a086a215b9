"""
Plot a training loss CSV (written by training/train.py) to a PNG.

    /usr/bin/python3 -m training.eval.plot training/runs/<name>/pretrain/loss.csv [more.csv ...] [--out loss.png] \
        [--title TEXT] [--linear]

Columns: stage, step, tokens, train_loss, val_loss, lr, elapsed. One colour per stage, stages laid end to end
on the token axis; solid = train loss, dots = validation loss (each stage's own validation set: the SFT
stage's is the masked chat loss, not comparable with pretraining's), the final validation loss written
next to its last dot; the learning rate faint on a second axis; loss on a log scale unless --linear.
Without matplotlib it says so and exits 0.
    /usr/bin/python3 -m training.eval.plot training/runs/h200-2026-11-28/loss.csv --out models/attentive-code-14m/loss.png
"""
import argparse
import csv
import os
import sys


def read(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            for r in csv.DictReader(f):
                r.setdefault("stage", os.path.basename(os.path.dirname(p)) or "run")
                rows.append(r)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--out", default=None, help="PNG path (default: next to the first CSV)")
    ap.add_argument("--title", default=None)
    ap.add_argument("--linear", action="store_true", help="linear loss axis (default: log)")
    ap.add_argument("--dpi", type=int, default=100)
    args = ap.parse_args(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (apt-get install python3-matplotlib): no plot")
        return 0
    rows = read(args.csv)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.csv[0])), "loss.png")
    fig, ax = plt.subplots(figsize=(9, 5))
    ax2 = ax.twinx()
    offset = 0.0
    for i, stage in enumerate(dict.fromkeys(r["stage"] for r in rows)):
        rs = [r for r in rows if r["stage"] == stage]
        x = [offset + float(r["tokens"]) / 1e6 for r in rs]
        colour = f"C{i}"
        tr = [(a, float(r["train_loss"])) for a, r in zip(x, rs) if r["train_loss"]]
        va = [(a, float(r["val_loss"])) for a, r in zip(x, rs) if r["val_loss"]]
        if tr:
            ax.plot(*zip(*tr), color=colour, lw=1, label=f"{stage} train")
        if va:
            ax.plot(*zip(*va), "o--", color=colour, ms=4, label=f"{stage} val")
            ax.annotate(f"{va[-1][1]:.3f}", va[-1], textcoords="offset points", xytext=(4, 6), color=colour, fontsize=9)
        ax2.plot(x, [float(r["lr"]) for r in rs], color=colour, alpha=0.3, lw=1)
        offset = max(x) if x else offset
    if not args.linear:
        ax.set_yscale("log")
        from matplotlib.ticker import FuncFormatter
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if round(v, 6) in (1.5, 2, 3, 4, 6) else ""))
    if args.title:
        ax.set_title(args.title, fontsize=10)
    ax.set_xlabel("tokens (millions)")
    ax.set_ylabel("loss (nats / token)")
    ax2.set_ylabel("learning rate (faint)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=args.dpi)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
