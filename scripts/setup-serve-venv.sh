#!/usr/bin/env bash
# The Python environment with genuine Hugging Face code: for the tests that need a real OpenAI-compatible model server
# (Hugging Face's `transformers serve`, with torch, fastapi, uvicorn) and for the fixture maker
# training/fixtures/ (transformers' own model classes exported with onnx) and its tests (training/tests_transformers/, pytest),
# in .venv-serve/ (ignored by git). Installed offline from the
# machine's local PyPI wheelhouse when pip is configured with one (these machines and CI are), else from PyPI.
# Idempotent: a complete environment is left as it is.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv-serve"
PACKAGES=(torch transformers fastapi uvicorn openai accelerate requests rich safetensors onnx onnxruntime onnx_ir pytest regex)
if [ -x "$VENV/bin/transformers" ] && "$VENV/bin/python" -c 'import torch, transformers, fastapi, uvicorn, requests, onnx, onnxruntime, onnx_ir, pytest, regex' 2>/dev/null; then
  exit 0
fi
PYTHON=$(command -v python3)
"$PYTHON" -m venv --clear "$VENV"
# The machine's pip configuration names the wheelhouse (read with this Python's pip, or any pip on the PATH).
pip_config() { "$PYTHON" -m pip config get "$1" 2>/dev/null || pip config get "$1" 2>/dev/null || true; }
index=$(pip_config global.extra-index-url)
links=$(pip_config global.find-links)
args=()
if [ -n "$index" ]; then
  # pip would try the unreachable default index first (minutes of retries per package): name the local ones.
  args+=(--index-url "${index%% *}")
  [ "${index##* }" != "${index%% *}" ] && args+=(--extra-index-url "${index##* }")
  [ -n "$links" ] && args+=(--find-links "$links")
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${args[@]}" "${PACKAGES[@]}" 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c 'import torch, transformers, fastapi, uvicorn, requests, onnx, onnxruntime, onnx_ir; print("setup-serve-venv: transformers", transformers.__version__, "torch", torch.__version__)'
