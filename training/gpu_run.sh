#!/usr/bin/env bash
# Train the shipped model on one GPU: pretrain for PRETRAIN_MIN minutes, then SFT for SFT_MIN minutes.
#
#   bash training/gpu_run.sh OUTDIR PRETRAIN_MIN SFT_MIN        (run from the repository root)
#
# Needs training/.data/ from training/prepare.py (train.bin, val.bin, sft_*.bin, meta.json).
# training/.data/ is ~87 MB, over the device tool's 64 MiB carry limit, so pack it first (gzip, ~35 MB):
#   bash training/gpu_run.sh --pack            # writes training/.data/gpu/ ; then carry ["training/.data/gpu"]
# When $DATA/train.bin is absent and $DATA/gpu/ exists, this script unpacks it to /tmp/attentive-data.
# Writes exactly 8 files (the GPU machine returns at most 8, each <= 16 MiB, 64 MiB in all):
#   OUTDIR/run.log                                  everything printed
#   OUTDIR/loss.csv                                 stage, step, tokens, train_loss, val_loss, lr, elapsed
#   OUTDIR/pretrain/{ckpt.json,ckpt-00.npz,ckpt-01.npz}   float16 shards (~27 MB; fp32 would not fit twice)
#   OUTDIR/sft/{ckpt.json,ckpt-00.npz,ckpt-01.npz}
# Then, on any machine:
#   /usr/bin/python3 training/export.py --ckpt OUTDIR/sft --tokenizer training/.data/tokenizer.json --out models/<name>
set -euo pipefail
if [ "${1:-}" = "--pack" ]; then
  SRC=${2:-training/.data}
  mkdir -p "$SRC/gpu"
  for f in train.bin val.bin sft_train.bin sft_train_mask.bin sft_val.bin sft_val_mask.bin; do
    [ -f "$SRC/$f" ] && gzip -4 -c "$SRC/$f" > "$SRC/gpu/$f.gz"
  done
  for f in meta.json tokenizer.json; do [ -f "$SRC/$f" ] && cp "$SRC/$f" "$SRC/gpu/"; done
  du -sh "$SRC/gpu"; ls -l "$SRC/gpu"
  exit 0
fi
OUT=${1:?usage: gpu_run.sh OUTDIR PRETRAIN_MIN SFT_MIN}
PRE=${2:-6}
SFT=${3:-1}
DATA=${DATA:-training/.data}
CONFIG=${CONFIG:-cuda}
PY=${PYTHON:-python3}
if ! "$PY" -c 'import torch' 2>/dev/null; then PY=/usr/bin/python3; fi
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if [ ! -f "$DATA/train.bin" ] && [ -d "$DATA/gpu" ]; then
  mkdir -p /tmp/attentive-data
  for f in "$DATA"/gpu/*; do
    case "$f" in
      *.gz) gzip -dc "$f" > "/tmp/attentive-data/$(basename "${f%.gz}")" ;;
      *) cp "$f" /tmp/attentive-data/ ;;
    esac
  done
  DATA=/tmp/attentive-data
fi

run() {
  echo "== $(date -u +%H:%M:%S) gpu_run.sh $OUT pretrain ${PRE} min, sft ${SFT} min, config ${CONFIG}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  "$PY" -c 'import sys, torch, numpy; print("python", sys.version.split()[0], "torch", torch.__version__, "numpy", numpy.__version__, "cuda", torch.cuda.is_available())'
  ls -l "$DATA"
  "$PY" training/train.py --stage pretrain --config "$CONFIG" --data "$DATA" --out "$OUT" \
      --max-minutes "$PRE" --shard-dtype float16 --no-optim-state --csv "$OUT/loss.csv"
  if [ -f "$DATA/sft_train.bin" ] && [ "$SFT" != "0" ]; then
    "$PY" training/train.py --stage sft --config "$CONFIG" --data "$DATA" --out "$OUT" \
        --init "$OUT/pretrain" --max-minutes "$SFT" --shard-dtype float16 --no-optim-state --csv "$OUT/loss.csv"
  else
    echo "no SFT data in $DATA (or SFT_MIN=0): skipping sft"
  fi
  echo "== $(date -u +%H:%M:%S) done"
  find "$OUT" -type f -printf '%p %s\n' | sort
}

run 2>&1 | tee "$OUT/run.log"
