"""
Evaluate an exported model folder (or a checkpoint) and run ONNX graphs in onnxruntime-node.

    /usr/bin/python3 training/evaluate.py --model models/<name> [--ckpt training/runs/<name>/sft] \
        [--data training/.data] [--steps 64]

Prints: ONNX vs PyTorch parity (max |logit diff|, greedy tokens), int8 logit cosine, decode speed
(ms per token, tokens/s) of model.onnx and model_quantized.onnx in onnxruntime-node (2 threads), and,
with --data, the validation loss of the checkpoint plus a few greedy samples (code and FIM prompts).

There is no Python onnxruntime on the Debian machines: ONNX graphs run through
training/tests/ort_run.mjs in Node (needs node_modules/onnxruntime-node).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORT_SCRIPT = os.path.join(HERE, "tests", "ort_run.mjs")
sys.path.insert(0, HERE)


def ort_unavailable_reason():
    """None when onnxruntime-node can run, else why not."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not os.path.isdir(os.path.join(ROOT, "node_modules", "onnxruntime-node")):
        return "node_modules/onnxruntime-node is absent (run npm install)"
    return None


def run_ort(jobs, timeout=600):
    """Run jobs (see ort_run.mjs) in one node process; returns the list of results."""
    with tempfile.TemporaryDirectory() as d:
        jp, op = os.path.join(d, "jobs.json"), os.path.join(d, "out.json")
        with open(jp, "w") as f:
            json.dump(jobs, f)
        proc = subprocess.run(["node", ORT_SCRIPT, jp, op], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"ort_run.mjs failed ({proc.returncode}): {proc.stderr[-4000:]}")
        with open(op) as f:
            res = json.load(f)
    for r in res:
        if "error" in r:
            raise RuntimeError(r["error"])
    return res


def feed(a, dtype=None):
    a = np.asarray(a)
    t = dtype or ("int64" if a.dtype.kind in "iu" else ("bool" if a.dtype == bool else "float32"))
    return {"dims": list(a.shape), "type": t, "data": a.reshape(-1).tolist()}


def cosine(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="exported folder (config.json, onnx/)")
    ap.add_argument("--ckpt", default=None, help="checkpoint for PyTorch parity and val loss")
    ap.add_argument("--data", default=None, help="training/.data for the validation loss")
    ap.add_argument("--steps", type=int, default=64, help="greedy tokens for the speed test")
    ap.add_argument("--prompt-tokens", type=int, default=200)
    args = ap.parse_args(argv)

    import torch
    torch.set_num_threads(2)
    from bpe import BPETokenizer
    tok = BPETokenizer.load_hf(os.path.join(args.model, "tokenizer.json"))
    text = open(os.path.join(HERE, "model.py")).read()
    prompt = tok.encode(text)[: args.prompt_tokens]
    onnx_dir = os.path.join(args.model, "onnx")
    files = [f for f in ("model.onnx", "model_quantized.onnx", "model_q4.onnx") if os.path.exists(os.path.join(onnx_dir, f))]
    why = ort_unavailable_reason()
    results = {}
    if why is None:
        jobs = [{"cmd": "greedy", "model": os.path.join(onnx_dir, f), "prompt": prompt, "steps": args.steps, "opt": "all"}
                for f in files]
        for f, r in zip(files, run_ort(jobs)):
            results[f] = r
            mb = os.path.getsize(os.path.join(onnx_dir, f)) / 1e6
            print(f"{f}: {mb:.1f} MB, {r['ms_per_token']:.2f} ms/token ({1000 / r['ms_per_token']:.0f} tokens/s), "
                  f"greedy: {tok.decode(r['tokens'][:24])!r}")
        if "model.onnx" in results:
            for f in files[1:]:
                print(f"{f}: prefill logit cosine vs fp32 {cosine(results[f]['prefill_logits'], results['model.onnx']['prefill_logits']):.5f}, "
                      f"same greedy tokens: {sum(a == b for a, b in zip(results[f]['tokens'], results['model.onnx']['tokens']))}/{args.steps}")
    else:
        print(f"onnxruntime-node unavailable: {why}")

    if args.ckpt:
        from train import load_model, TokenStream
        model, info = load_model(args.ckpt)
        model.eval()
        with torch.no_grad():
            logits = model(torch.tensor([prompt]))[0][0, -1].numpy()
            greedy = model.generate_greedy(prompt, args.steps)
        if "model.onnx" in results:
            print(f"PyTorch vs ONNX: max |logit diff| {np.abs(logits - np.array(results['model.onnx']['prefill_logits'])).max():.2e}, "
                  f"greedy identical: {greedy == results['model.onnx']['tokens'][:len(greedy)]}")
        if args.data:
            val = TokenStream(os.path.join(args.data, "val.bin"))
            g = torch.Generator().manual_seed(0)
            from model import masked_lm_loss
            losses = []
            T = min(512, model.config.block_size)
            with torch.no_grad():
                for _ in range(8):
                    x, y, _ = val.batch(4, T, g)
                    losses.append(float(masked_lm_loss(model(x)[0], y)))
            print(f"val loss (8 x 4 x {T} tokens): {np.mean(losses):.4f}")
            samples = {
                "completion": [0] + tok.encode("import os\n\n\ndef read_json(path):\n"),
                "fim": [0, 1] + tok.encode("def add(a, b):\n    ") + [3] + tok.encode("\n\n\nprint(add(1, 2))\n") + [2],
                "chat": tok.encode("<|im_start|>user\nWrite a Python function that reverses a string.<|im_end|>\n"
                                   "<|im_start|>assistant\n", allow_special=True),
            }
            for name, ids in samples.items():
                out = model.generate_greedy(ids, 48, eos_id=None)
                print(f"--- {name}:\n{tok.decode(out)}")


if __name__ == "__main__":
    main()
