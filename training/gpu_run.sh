#!/usr/bin/env bash
# Train the bundled model on one GPU: pretrain for PRETRAIN_MIN minutes, then SFT for SFT_MIN minutes.
#
#   bash training/gpu_run.sh OUTDIR PRETRAIN_MIN SFT_MIN [INIT]  (run from the repository root)
#
# Needs a prepared data folder (DATA, default training/.data: train.bin, val.bin, sft_*.bin, meta.json from
# training/data/prepare.py). The device tool sends at most 64 MiB per call, the repository's tracked files included
# (~51 MiB of them, the bundled model's ONNX files mostly), and a data folder is larger (the v2 corpus's: see
# training/README.md "Training on a GPU"), so it travels packed and split:
#   bash training/gpu_run.sh --pack [DATA] [INIT_CKPT]
#   -> DATA/gpu/data.tar.xz.part-00, -01, ... (the bins, meta.json, tokenizer.json in one xz'd tar, in parts of what
#      is left of the 64 MiB beside the repository's files, less 1 MiB)
#      and, with INIT_CKPT, DATA/gpu/init/ (that checkpoint in int8, ~13 MB for the 14M model)
# On the GPU machine each part is carried by its own call (a warm machine keeps what earlier calls carried); the
# last call runs this script, which joins the parts into /tmp/attentive-data when DATA has no train.bin.
#
# INIT (4th argument or env INIT=checkpoint dir): continue pretraining from that checkpoint (fresh optimizer,
# warmup PRE_WARMUP=50 steps, peak PRE_LR=6e-4, cosine to 10%) instead of starting from scratch (when INIT names
# a path that is not there but $DATA/gpu/init/ is, that one is used).
#
# Writes at most 8 files (the GPU machine returns at most 8, each <= 16 MiB, 64 MiB in all):
#   OUTDIR/run.log                                  everything printed
#   OUTDIR/loss.csv                                 stage, step, tokens, train_loss, val_loss, lr, elapsed
#   OUTDIR/pretrain/{ckpt.json,ckpt-00.npz,ckpt-01.npz}   float16 shards (~27 MB for the 14M model)
#   OUTDIR/sft/{ckpt.json,ckpt-00.npz,ckpt-01.npz}
# When the float16 checkpoints would not come back (cuda-v2's 23M model: ~46 MB a stage), both are rewritten as
# int8 rows with a scale per row (checkpoint.pack_int8: ~21 MB a stage, 2 shards each).
# PART_SIZE (--pack, bytes; default from the limit above), RETURN_MAX_FILES (8) and RETURN_MAX_BYTES (60 MiB) restate
# the device's limits.
# Then, on any machine:
#   /usr/bin/python3 -m training.export.export --ckpt OUTDIR/sft --tokenizer DATA/tokenizer.json --out models/<name>
set -euo pipefail
pack_int8() {  # PYTHON SRC_CKPT DST_DIR
  "$1" -c 'import sys; from training.model.checkpoint import pack_int8; pack_int8(sys.argv[1], sys.argv[2])' "$2" "$3"
}
if [ "${1:-}" = "--pack" ]; then
  SRC=${2:-training/.data}
  rm -rf "$SRC/gpu"
  mkdir -p "$SRC/gpu"
  FILES=()
  for f in train.bin val.bin sft_train.bin sft_train_mask.bin sft_val.bin sft_val_mask.bin meta.json tokenizer.json; do
    [ -f "$SRC/$f" ] && FILES+=("$f")
  done
  if [ -z "${PART_SIZE:-}" ]; then  # what travels anyway: tracked files and untracked ones git does not ignore
    TREE=$( { git ls-files -z; git ls-files -z -o --exclude-standard; } | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
    PART_SIZE=$(( (63 << 20) - TREE ))
    if [ "$PART_SIZE" -lt $((4 << 20)) ]; then echo "the repository's files leave under 4 MiB per device call" >&2; exit 1; fi
    echo "repository files: $((TREE >> 20)) MiB; parts of $((PART_SIZE >> 20)) MiB"
  fi
  tar -cf - -C "$SRC" "${FILES[@]}" | nice xz -6 -T2 | split -b "$PART_SIZE" -d -a 2 - "$SRC/gpu/data.tar.xz.part-"
  if [ -n "${3:-}" ]; then
    pack_int8 /usr/bin/python3 "$3" "$SRC/gpu/init"
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
if [ ! -f "$DATA/train.bin" ] && compgen -G "$DATA/gpu/data.tar.xz.part-*" > /dev/null; then
  rm -rf /tmp/attentive-data && mkdir -p /tmp/attentive-data
  echo "joining $(ls "$DATA"/gpu/data.tar.xz.part-* | wc -l) parts of $DATA/gpu into /tmp/attentive-data"
  if command -v xz >/dev/null; then cat "$DATA"/gpu/data.tar.xz.part-* | xz -dc -T0 | tar -x -C /tmp/attentive-data
  else cat "$DATA"/gpu/data.tar.xz.part-* | "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer, 1 << 24)' \
         | tar -x -C /tmp/attentive-data; fi
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
  fit_for_return
  echo "== $(date -u +%H:%M:%S) done"
  find "$OUT" -type f -printf '%p %s\n' | sort
}

fit_for_return() {
  local files bytes
  files=$(find "$OUT" -type f | wc -l)
  bytes=$(du -sb "$OUT" | cut -f1)
  if [ "$files" -le "${RETURN_MAX_FILES:-8}" ] && [ "$bytes" -le "${RETURN_MAX_BYTES:-$((60 << 20))}" ]; then return; fi
  echo "$files files, $bytes bytes: more than the GPU machine returns; packing the checkpoints as int8 rows"
  for stage in pretrain sft; do
    [ -f "$OUT/$stage/ckpt.json" ] || continue
    pack_int8 "$PY" "$OUT/$stage" "$OUT/$stage.int8"
    rm -rf "$OUT/$stage"
    mv "$OUT/$stage.int8" "$OUT/$stage"
  done
}

run 2>&1 | tee "$OUT/run.log"
