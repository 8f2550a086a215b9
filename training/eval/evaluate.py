"""
Evaluate an exported model folder (or a checkpoint) and run ONNX graphs in onnxruntime-node.

    /usr/bin/python3 -m training.eval.evaluate --model models/<name> [--ckpt training/runs/<name>/sft] \
        [--data training/.data] [--steps 64] [--json out.json]

Prints, with --ckpt: PyTorch (the checkpoint, fp32) against every ONNX file (model.onnx fp32,
model_quantized.onnx int8, model_q4.onnx 4-bit) on the first --prompt-tokens tokens of training/model/model.py:
max |logit diff| over every position, logit cosine per position (mean, min), share of positions with the
same argmax, and how many of --steps greedy tokens decoded with the KV cache are identical; the bare decode
speed (ms per token, onnxruntime-node, 2 threads, training/tests/ort_run.mjs); and, with --data, the
validation loss of the checkpoint plus a few greedy samples (code and FIM prompts). Without --ckpt: the
ONNX files against each other (last-position cosine, greedy tokens) and their speed.

There is no Python onnxruntime on the Debian machines: ONNX graphs run through
training/tests/ort_run.mjs in Node (needs node_modules/onnxruntime-node), or, for the evaluations
(training/eval/eval_bpb.py, training/eval/eval_fim.py), through the small Node program ORT_EVAL_JS below
(per-window next-token losses and greedy decoding with stop tokens, computed inside Node so that no
logits cross the process boundary).

Shared helpers of the evaluation scripts live here: load_docs, fast_logits (an eval-only forward pass
that equals GPT.forward, ~1.7x faster on torch 1.13 CPU), token_nll, windows, run_ort_eval.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import tempfile

import numpy as np

from training.paths import ROOT, TRAINING

ORT_SCRIPT = os.path.join(TRAINING, "tests", "ort_run.mjs")


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


# ----------------------------------------------------------------------------------------------
# Shared evaluation helpers
# ----------------------------------------------------------------------------------------------

LANGUAGES = ("python", "javascript", "typescript")


def load_docs(path, languages=None):
    """The held-out files of training/.data/val_docs.jsonl: dicts with path, source, licence, language, text."""
    with open(path, encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    return [d for d in docs if languages is None or d["language"] in languages]


def fast_logits(model, ids):
    """Logits [B, T, vocab] of plain causal windows (no past, no padding): the same arithmetic as
    GPT.forward(ids)[0] in eval mode, with an additive causal mask and baddbmm instead of masked_fill,
    which is ~1.7x faster on torch 1.13 CPU. Eval only (no dropout)."""
    import torch
    cfg = model.config
    B, T = ids.shape
    H, hd, C = cfg.n_head, cfg.head_dim, cfg.n_embd
    x = model.wte(ids) * model.emb_scale + model.pe[:T]                       # [B, T, C]
    mask = torch.full((T, T), float("-inf"), device=ids.device).triu(1)       # [T, T] 0 on and below the diagonal
    scale = 1.0 / math.sqrt(hd)
    for blk in model.blocks:
        qkv = blk.attn.c_attn(blk.ln_1(x)).view(B, T, 3, H, hd).permute(2, 0, 3, 1, 4)  # [3, B, H, T, hd]
        q = (qkv[0] * scale).reshape(B * H, T, hd)
        k, v = qkv[1].reshape(B * H, T, hd), qkv[2].reshape(B * H, T, hd)
        att = torch.softmax(torch.baddbmm(mask.expand(B * H, T, T), q, k.transpose(1, 2)), dim=-1)  # [B*H, T, T]
        y = torch.bmm(att, v).view(B, H, T, hd).transpose(1, 2).reshape(B, T, C)
        x = x + blk.attn.c_proj(y)
        x = x + blk.mlp.c_proj(blk.mlp.gelu(blk.mlp.c_fc(blk.ln_2(x))))
    return model.lm_head(model.ln_f(x))


def windows(n_targets, window, stride):
    """Sliding windows over a sequence ids[0 .. n_targets] (n_targets + 1 ids; target t is ids[t + 1]).

    Returns (begin, end, score_from): the window feeds ids[begin:end] (at most `window` ids) and predicts
    ids[begin + 1:end + 1]; only targets begin + score_from .. end - 1 are counted. The first window counts
    all its targets, each later one (begin advancing by `stride`) only the targets no earlier window counted,
    so every target is counted exactly once and (past the first window) sees >= window - stride ids."""
    assert 0 < stride <= window
    out, begin, done = [], 0, 0  # done = targets counted so far
    while done < n_targets:
        end = min(begin + window, n_targets)
        out.append((begin, end, done - begin))
        done = end
        begin += stride
    return out


def token_nll(logits, targets):
    """Per-position next-token negative log-likelihood (nats, float64 numpy) of logits [T, V] for targets [T]."""
    import torch
    lp = torch.log_softmax(logits.double(), dim=-1)
    return (-lp.gather(-1, targets.view(-1, 1)).view(-1)).numpy()


# A small Node program for the evaluations (no logits cross the process boundary):
#   {"cmd": "nll", "model": path, "windows": [{"ids": [...], "from": k}]}
#       -> {"nll": [sum over targets k.. of -log p(ids[t+1] | ids[..t])], "n": [...], "ms": total}
#   {"cmd": "generate", "model": path, "prompts": [[ids]], "max_new": n, "stop": [ids],
#    "stop_soft": [ids], "stop_after": k, "context": n, "ban": [ids never generated]}
#       -> {"outputs": [[generated ids, the stop token included]], "prefill_ms": [...], "decode_ms": [...]}
#          greedy with the KV cache; stops after a token in `stop`, after the k-th token in `stop_soft`
#          (default 1), after max_new tokens, or when past + new ids would exceed `context`.
ORT_EVAL_JS = r"""
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const [pkgJson, jobsPath, outPath, threadsArg] = process.argv.slice(2);
const ort = createRequire(pkgJson)('onnxruntime-node');
const threads = Number(threadsArg || 2);
const jobs = JSON.parse(readFileSync(jobsPath, 'utf8'));
const sessions = new Map();
async function session(model) {
  if (!sessions.has(model)) sessions.set(model, await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } } }));
  return sessions.get(model);
}
function emptyPast(sess) {
  const past = {};
  for (const n of sess.inputNames.filter((x) => x.startsWith('past_key_values.'))) {
    const m = sess.inputMetadata?.find?.((x) => x.name === n);
    const shape = m && m.shape ? m.shape : [1, 0, 0, 0];
    past[n] = new ort.Tensor('float32', new Float32Array(0), [1, shape[1], 0, shape[3]]);
  }
  return past;
}
async function step(sess, ids, past, pastLen) {
  const T = ids.length;
  const feeds = { ...past };
  feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]);
  if (sess.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(pastLen + T).fill(1n), [1, pastLen + T]);
  if (sess.inputNames.includes('position_ids')) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(pastLen + i)), [1, T]);
  const pastNames = Object.keys(past);
  const out = await sess.run(feeds, ['logits', ...pastNames.map((n) => n.replace('past_key_values.', 'present.'))]);
  const next = {};
  for (const n of pastNames) next[n] = out[n.replace('past_key_values.', 'present.')];
  return { logits: out.logits, past: next };
}
async function nll(job) {
  const sess = await session(job.model);
  const res = { nll: [], n: [], ms: 0 };
  const t0 = performance.now();
  for (const w of job.windows) {
    const inp = w.ids.slice(0, -1);
    const { logits } = await step(sess, inp, emptyPast(sess), 0);
    const V = logits.dims[2]; const d = logits.data;
    let s = 0; let n = 0;
    for (let t = w.from; t < inp.length; t++) {
      const off = t * V; let mx = -Infinity;
      for (let v = 0; v < V; v++) if (d[off + v] > mx) mx = d[off + v];
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(d[off + v] - mx);
      s += mx + Math.log(z) - d[off + w.ids[t + 1]]; n++;
    }
    res.nll.push(s); res.n.push(n);
  }
  res.ms = performance.now() - t0;
  return res;
}
async function generate(job) {
  const sess = await session(job.model);
  const stop = new Set(job.stop || []);
  const soft = new Set(job.stop_soft || []);
  const stopAfter = job.stop_after || 1;
  const ban = job.ban || [];
  const ctx = job.context || 1 << 30;
  const res = { outputs: [], prefill_ms: [], decode_ms: [] };
  for (const prompt of job.prompts) {
    let past = emptyPast(sess); let pastLen = 0; let ids = prompt.slice(); const out = []; let seen = 0;
    let t0 = performance.now(); let tPrefill = 0;
    while (out.length < job.max_new && pastLen + ids.length <= ctx) {
      const r = await step(sess, ids, past, pastLen);
      const V = r.logits.dims[2]; const off = (ids.length - 1) * V; const d = r.logits.data;
      for (const b of ban) d[off + b] = -Infinity;
      let best = 0; for (let v = 1; v < V; v++) if (d[off + v] > d[off + best]) best = v;
      if (out.length === 0) { tPrefill = performance.now() - t0; t0 = performance.now(); }
      out.push(best); past = r.past; pastLen += ids.length; ids = [best];
      if (stop.has(best)) break;
      if (soft.has(best) && ++seen >= stopAfter) break;
    }
    res.outputs.push(out); res.prefill_ms.push(tPrefill); res.decode_ms.push(performance.now() - t0);
  }
  return res;
}
const results = [];
for (const job of jobs) {
  try { results.push(job.cmd === 'nll' ? await nll(job) : await generate(job)); }
  catch (e) { results.push({ error: String(e && e.stack ? e.stack : e) }); }
}
writeFileSync(outPath, JSON.stringify(results));
"""


def run_ort_eval(jobs, threads=2, timeout=3600):
    """Run ORT_EVAL_JS jobs in one Node process; returns the list of results."""
    with tempfile.TemporaryDirectory() as d:
        js, jp, op = (os.path.join(d, n) for n in ("eval.mjs", "jobs.json", "out.json"))
        with open(js, "w") as f:
            f.write(ORT_EVAL_JS)
        with open(jp, "w") as f:
            json.dump(jobs, f)
        proc = subprocess.run(["node", js, os.path.join(ROOT, "package.json"), jp, op, str(threads)],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"ORT_EVAL_JS failed ({proc.returncode}): {proc.stderr[-4000:]}")
        with open(op) as f:
            res = json.load(f)
    for r in res:
        if "error" in r:
            raise RuntimeError(r["error"])
    return res


def write_json(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def ort_feeds(ids, n_layer, kv_heads, head_dim):
    """Feeds of one prompt with an empty past (batch 1) for ort_run.mjs 'run'."""
    f = {"input_ids": feed(np.array([ids], np.int64)), "attention_mask": feed(np.ones((1, len(ids)), np.int64)),
         "position_ids": feed(np.arange(len(ids), dtype=np.int64)[None])}
    for i in range(n_layer):
        for kv in ("key", "value"):
            f[f"past_key_values.{i}.{kv}"] = {"dims": [1, kv_heads, 0, head_dim], "type": "float32", "data": []}
    return f


def leading_equal(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def parity(model, paths, prompt, steps):
    """PyTorch (the checkpoint) against each ONNX file on one prompt: logits of every position (max |diff|,
    cosine per position: mean and min, same argmax per position) and `steps` greedy tokens decoded with the KV
    cache (how many leading tokens are identical), plus the bare decode speed of ort_run.mjs."""
    import torch
    cfg = model.config
    with torch.no_grad():
        ref = model(torch.tensor([prompt]))[0][0].numpy()                     # [T, V]
        greedy = model.generate_greedy(prompt, steps)
    jobs = [{"cmd": "run", "model": p, "feeds": ort_feeds(prompt, cfg.n_layer, cfg.n_head, cfg.head_dim),
             "fetch": ["logits"], "opt": "all"} for p in paths]
    jobs += [{"cmd": "greedy", "model": p, "prompt": prompt, "steps": steps, "opt": "all"} for p in paths]
    res = run_ort(jobs)
    out = {}
    for k, p in enumerate(paths):
        lg = np.array(res[k]["outputs"]["logits"]["data"], np.float32).reshape(ref.shape)
        cos = [cosine(a, b) for a, b in zip(lg, ref)]
        g = res[len(paths) + k]
        out[os.path.basename(p)] = {
            "mb": round(os.path.getsize(p) / 1e6, 1), "positions": len(prompt),
            "max_abs_logit_diff": float(np.abs(lg - ref).max()),
            "cosine_mean": float(np.mean(cos)), "cosine_min": float(np.min(cos)),
            "same_argmax": float(np.mean(lg.argmax(-1) == ref.argmax(-1))),
            "greedy_identical": leading_equal(g["tokens"], greedy), "greedy_steps": steps,
            "ms_per_token": g["ms_per_token"]}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="exported folder (config.json, onnx/)")
    ap.add_argument("--ckpt", default=None, help="checkpoint for PyTorch parity and val loss")
    ap.add_argument("--data", default=None, help="training/.data for the validation loss")
    ap.add_argument("--steps", type=int, default=64, help="greedy tokens for the speed test")
    ap.add_argument("--prompt-tokens", type=int, default=200)
    ap.add_argument("--json", default=None, help="write the parity figures here")
    args = ap.parse_args(argv)

    import torch
    torch.set_num_threads(2)
    from training.data.bpe import BPETokenizer
    tok = BPETokenizer.load_hf(os.path.join(args.model, "tokenizer.json"))
    text = open(os.path.join(TRAINING, "model", "model.py")).read()
    prompt = tok.encode(text)[: args.prompt_tokens]
    onnx_dir = os.path.join(args.model, "onnx")
    files = [f for f in ("model.onnx", "model_quantized.onnx", "model_q4.onnx") if os.path.exists(os.path.join(onnx_dir, f))]
    why = ort_unavailable_reason()
    results = {}
    if why is not None:
        print(f"onnxruntime-node unavailable: {why}")
    elif not args.ckpt:
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

    if args.ckpt:
        from training.data.token_stream import TokenStream
        from training.model.checkpoint import load_model
        model, info = load_model(args.ckpt)
        model.eval()
        if why is None:
            par = parity(model, [os.path.join(onnx_dir, f) for f in files], prompt, args.steps)
            print(f"PyTorch ({args.ckpt}) vs ONNX Runtime, {len(prompt)}-token prompt (all positions), "
                  f"{args.steps} greedy tokens with the KV cache:")
            for f, r in par.items():
                print(f"  {f:22s} {r['mb']:5.1f} MB  max |logit diff| {r['max_abs_logit_diff']:.2e}  cosine mean "
                      f"{r['cosine_mean']:.6f} min {r['cosine_min']:.6f}  same argmax {r['same_argmax']:.1%}  "
                      f"greedy identical {r['greedy_identical']}/{r['greedy_steps']}  {r['ms_per_token']:.2f} ms/token")
            if args.json:
                write_json(args.json, {"checkpoint": os.path.relpath(args.ckpt), "prompt": "first tokens of training/model/model.py",
                                       "prompt_tokens": len(prompt), "files": par})
        if args.data:
            val = TokenStream(os.path.join(args.data, "val.bin"))
            g = torch.Generator().manual_seed(0)
            from training.model.model import masked_lm_loss
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
