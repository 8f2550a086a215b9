#!/usr/bin/env bash
# Train the shipped model on one GPU: pretrain for PRETRAIN_MIN minutes, then SFT for SFT_MIN minutes.
#
#   bash training/gpu_run.sh OUTDIR PRETRAIN_MIN SFT_MIN [INIT]  (run from the repository root)
#
# INIT (4th argument or env INIT=checkpoint dir): continue pretraining from that checkpoint (fresh optimizer,
# warmup PRE_WARMUP=50 steps, peak PRE_LR=6e-4, cosine to 10%) instead of starting from scratch. An init
# checkpoint travels best packed to int8 (~13 MB instead of ~28 MB), inside the data's gpu/ folder:
#   bash training/gpu_run.sh --pack training/.data-fim training/runs/<run>/pretrain
#   -> training/.data-fim/gpu/ (xz data + init/); carry ["training/.data-fim/gpu"], then on the GPU:
#   INIT=training/.data-fim/gpu/init DATA=training/.data-fim bash training/gpu_run.sh "$OUT" 2.5 1
# (when INIT names a path that is not there but $DATA/gpu/init/ is, that one is used).
#
# Needs training/.data/ from training/data/prepare.py (train.bin, val.bin, sft_*.bin, meta.json).
# training/.data/ is ~87 MB, over the device tool's 64 MiB carry limit, so pack it first (gzip, ~35 MB):
#   bash training/gpu_run.sh --pack            # writes training/.data/gpu/ ; then carry ["training/.data/gpu"]
# When $DATA/train.bin is absent and $DATA/gpu/ exists, this script unpacks it to /tmp/attentive-data.
# Writes exactly 8 files (the GPU machine returns at most 8, each <= 16 MiB, 64 MiB in all):
#   OUTDIR/run.log                                  everything printed
#   OUTDIR/loss.csv                                 stage, step, tokens, train_loss, val_loss, lr, elapsed
#   OUTDIR/pretrain/{ckpt.json,ckpt-00.npz,ckpt-01.npz}   float16 shards (~27 MB; fp32 would not fit twice)
#   OUTDIR/sft/{ckpt.json,ckpt-00.npz,ckpt-01.npz}
# Then, on any machine:
#   /usr/bin/python3 -m training.export.export --ckpt OUTDIR/sft --tokenizer training/.data/tokenizer.json --out models/<name>
set -euo pipefail
if [ "${1:-}" = "--pack" ]; then
  # --pack [DATA_DIR] [INIT_CKPT]: gzip -4 (the default) or xz -9 (PACK=xz: ~25% smaller, slower) the bins
  # into DATA_DIR/gpu/; an INIT_CKPT is written there as init/ in int8 (train.py pack_int8)
  SRC=${2:-training/.data}
  mkdir -p "$SRC/gpu"
  rm -f "$SRC"/gpu/*.bin.gz "$SRC"/gpu/*.bin.xz
  for f in train.bin val.bin sft_train.bin sft_train_mask.bin sft_val.bin sft_val_mask.bin; do
    if [ -f "$SRC/$f" ]; then
      if [ "${PACK:-gzip}" = xz ]; then nice xz -9e -T2 -c "$SRC/$f" > "$SRC/gpu/$f.xz"
      else gzip -4 -c "$SRC/$f" > "$SRC/gpu/$f.gz"; fi
    fi
  done
  for f in meta.json tokenizer.json; do [ -f "$SRC/$f" ] && cp "$SRC/$f" "$SRC/gpu/"; done
  if [ -n "${3:-}" ]; then
    rm -rf "$SRC/gpu/init"
    /usr/bin/python3 -c 'import sys; from training.model.checkpoint import pack_int8; pack_int8(sys.argv[1], sys.argv[2])' "$3" "$SRC/gpu/init"
  fi
  du -sh "$SRC/gpu"; ls -lR "$SRC/gpu"
  exit 0
fi
OUT=${1:?usage: gpu_run.sh OUTDIR PRETRAIN_MIN SFT_MIN}
PRE=${2:-6}
SFT=${3:-1}
DATA=${DATA:-training/.data}
INIT=${4:-${INIT:-}}
if [ -n "$INIT" ] && [ ! -e "$INIT" ] && [ -f "$DATA/gpu/init/ckpt.json" ]; then
  echo "INIT $INIT is not here: using $DATA/gpu/init"
  INIT=$DATA/gpu/init
fi
PRE_LR=${PRE_LR:-6e-4}
PRE_WARMUP=${PRE_WARMUP:-50}
CONFIG=${CONFIG:-cuda}
PY=${PYTHON:-python3}
if ! "$PY" -c 'import torch' 2>/dev/null; then PY=/usr/bin/python3; fi
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if [ ! -f "$DATA/train.bin" ] && [ -d "$DATA/gpu" ]; then
  mkdir -p /tmp/attentive-data
  for f in "$DATA"/gpu/*; do
    [ -f "$f" ] || continue  # init/ stays where it is
    case "$f" in
      *.gz) gzip -dc "$f" > "/tmp/attentive-data/$(basename "${f%.gz}")" ;;
      *.xz) if command -v xz >/dev/null; then xz -dc -T0 "$f" > "/tmp/attentive-data/$(basename "${f%.xz}")"
            else /usr/bin/python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"), 1 << 24)' \
                   "$f" "/tmp/attentive-data/$(basename "${f%.xz}")"; fi ;;
      *) cp "$f" /tmp/attentive-data/ ;;
    esac
  done
  DATA=/tmp/attentive-data
fi

run() {
  echo "== $(date -u +%H:%M:%S) gpu_run.sh $OUT pretrain ${PRE} min${INIT:+ from $INIT (lr $PRE_LR)}, sft ${SFT} min, config ${CONFIG}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  "$PY" -c 'import sys, torch, numpy; print("python", sys.version.split()[0], "torch", torch.__version__, "numpy", numpy.__version__, "cuda", torch.cuda.is_available())'
  ls -l "$DATA"
  PRE_ARGS=()
  if [ -n "$INIT" ]; then PRE_ARGS=(--init "$INIT" --lr "$PRE_LR" --warmup-steps "$PRE_WARMUP" --min-lr-ratio 0.1); fi
  "$PY" -m training.train --stage pretrain --config "$CONFIG" --data "$DATA" --out "$OUT" \
      --max-minutes "$PRE" --shard-dtype float16 --no-optim-state --csv "$OUT/loss.csv" ${PRE_ARGS[@]+"${PRE_ARGS[@]}"}
  if [ -f "$DATA/sft_train.bin" ] && [ "$SFT" != "0" ]; then
    "$PY" -m training.train --stage sft --config "$CONFIG" --data "$DATA" --out "$OUT" \
        --init "$OUT/pretrain" --max-minutes "$SFT" --shard-dtype float16 --no-optim-state --csv "$OUT/loss.csv"
  else
    echo "no SFT data in $DATA (or SFT_MIN=0): skipping sft"
  fi
  echo "== $(date -u +%H:%M:%S) done"
  find "$OUT" -type f -printf '%p %s\n' | sort
}

run 2>&1 | tee "$OUT/run.log"
