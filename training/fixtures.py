"""
Tiny REAL decoder models for the engine's tests, in the Hugging Face / Optimum folder layout.

    /usr/bin/python3 training/fixtures.py [--out test/fixtures/models] [--retrain-tokenizer]

Writes one folder per model (seeded, deterministic, each well under 2 MB):
    attentive-tiny/     our architecture (training/model.py); ONNX outputs attentions.{i}
    llama-tiny/         Llama / Qwen2 style: RoPE, RMSNorm, 4 heads / 2 KV heads (GQA), SwiGLU, position_ids input
    gpt2-tiny/          GPT-2 style: learned positions, LayerNorm, tanh-GELU, position_ids input
    gpt2-tiny-nopos/    the same weights as gpt2-tiny, but the graph has NO position_ids input: positions
                        come from attention_mask (cumsum - 1) inside the graph
Each holds config.json, generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
onnx/model.onnx (fp32), onnx/model_quantized.onnx (int8, training/quantize.py dq8) and reference.json.
Public-style exports (llama, gpt2) have no attention outputs, but keep the decomposed
MatMul -> Softmax -> MatMul(V) attention (no fused attention op), so the engine can expose the Softmax.

Weights: random init, then a few hundred seeded CPU steps on the tokenizer's corpus (~10 s each), so that
greedy outputs are varied text-like tokens with clear margins between the top logits (robust to int8)
instead of one token repeated.

All share one byte-level BPE tokenizer of 512 ids (training/bpe.py, special tokens 0..5), trained on a few
Python standard-library files; once written it is reused (pass --retrain-tokenizer to train it again).

reference.json (PyTorch, float32): for 3 prompts (code, FIM, chat): ids, text, logits of the last position,
12 greedy tokens decoded with the KV cache; logits of every position of prompt 0; and a left-padded batch of
prompts 0 and 2 (input_ids, attention_mask, position_ids, last-position logits per row).
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import sysconfig

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from export import (SPECIAL_TOKENS, EOT_ID, IM_END_ID, attentive_config, export_decoder_onnx,  # noqa: E402
                    generation_config, tokenizer_files, write_json)
from model import GPT, GPTConfig  # noqa: E402
from reference_models import GPT2Config, GPT2Tiny, LlamaConfig, LlamaTiny  # noqa: E402
import quantize as qz  # noqa: E402

VOCAB = 512
SEED = 20240601
TOKENIZER_CORPUS = ["textwrap.py", "string.py", "bisect.py", "heapq.py", "colorsys.py", "keyword.py"]
PROMPTS = [
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    ",
    "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>",
    "<|im_start|>user\nWrite a function that reverses a string.<|im_end|>\n<|im_start|>assistant\n",
]
GREEDY_STEPS = 12


# ----------------------------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------------------------

def fixture_tokenizer(out_root, retrain=False):
    """-> (BPETokenizer, path of tokenizer.json, provenance dict)."""
    from bpe import BPETokenizer, train_bpe
    path = os.path.join(out_root, "tokenizer.json")
    prov_path = os.path.join(out_root, "tokenizer_provenance.json")
    if os.path.exists(path) and not retrain:
        tok = BPETokenizer.load_hf(path)
        prov = json.load(open(prov_path)) if os.path.exists(prov_path) else {}
        return tok, path, prov
    stdlib = sysconfig.get_paths()["stdlib"]
    texts, files = [], {}
    for fn in TOKENIZER_CORPUS:
        with open(os.path.join(stdlib, fn), encoding="utf-8") as f:
            t = f.read()
        texts.append(t)
        files[fn] = hashlib.sha256(t.encode()).hexdigest()[:16]
    tok = train_bpe(texts, VOCAB, SPECIAL_TOKENS)
    assert tok.vocab_size == VOCAB
    os.makedirs(out_root, exist_ok=True)
    tok.save_hf(path)
    prov = {"trained_on": f"Python {sys.version.split()[0]} stdlib", "files_sha256_16": files, "vocab_size": VOCAB,
            "special_tokens": SPECIAL_TOKENS}
    write_json(prov_path, prov)
    return tok, path, prov


# ----------------------------------------------------------------------------------------------
# Reference outputs (PyTorch)
# ----------------------------------------------------------------------------------------------

@torch.no_grad()
def greedy_kv(model, ids, steps):
    """Greedy decoding with the KV cache through the shared interface (batch 1)."""
    x = torch.tensor([ids])
    mask = torch.ones(1, len(ids), dtype=torch.long)
    pos = torch.arange(len(ids))[None]
    logits, past, _ = model(x, attention_mask=mask, position_ids=pos)
    out = []
    n = len(ids)
    for _ in range(steps):
        nxt = int(torch.argmax(logits[0, -1]))
        out.append(nxt)
        logits, past, _ = model(torch.tensor([[nxt]]), attention_mask=torch.ones(1, n + 1, dtype=torch.long),
                                position_ids=torch.tensor([[n]]), past_key_values=past)
        n += 1
    return out


def r(a, nd=6):
    """float32 array -> nested lists of floats with nd significant digits (compact JSON)."""
    return np.vectorize(lambda v: float(f"{v:.{nd}g}"), otypes=[float])(np.asarray(a, np.float64)).tolist()


@torch.no_grad()
def reference(model, tok, name, io, notes):
    prompts = []
    for text in PROMPTS:
        ids = tok.encode(text, allow_special=True)
        x = torch.tensor([ids])
        logits = model(x, attention_mask=torch.ones_like(x), position_ids=torch.arange(len(ids))[None])[0][0]
        g = greedy_kv(model, ids, GREEDY_STEPS)
        prompts.append({"text": text, "ids": ids, "last_logits": r(logits[-1]),
                        "greedy": g, "greedy_text": tok.decode(g)})
    ids0 = prompts[0]["ids"]
    x = torch.tensor([ids0])
    all_logits = model(x, attention_mask=torch.ones_like(x), position_ids=torch.arange(len(ids0))[None])[0][0]
    # left-padded batch of prompts 0 and 2
    a, b = prompts[0]["ids"], prompts[2]["ids"]
    L = max(len(a), len(b))
    input_ids = torch.full((2, L), EOT_ID, dtype=torch.long)
    mask = torch.zeros(2, L, dtype=torch.long)
    for i, ids in enumerate((a, b)):
        input_ids[i, L - len(ids):] = torch.tensor(ids)
        mask[i, L - len(ids):] = 1
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    batch_logits = model(input_ids, attention_mask=mask, position_ids=position_ids)[0][:, -1]
    return {
        "model": name,
        "generator": "training/fixtures.py",
        "seed": SEED,
        "torch": torch.__version__,
        "notes": notes,
        "onnx_inputs": io[0],
        "onnx_outputs": io[1],
        "tolerance": {"fp32_max_abs_logit_diff": 1e-4, "int8_min_cosine": 0.999},
        "prompts": prompts,
        "all_positions": {"prompt": 0, "logits": r(all_logits)},
        "padded_batch": {"prompts": [0, 2], "input_ids": input_ids.tolist(), "attention_mask": mask.tolist(),
                         "position_ids": position_ids.tolist(), "last_logits": r(batch_logits)},
    }


# ----------------------------------------------------------------------------------------------
# The fixtures
# ----------------------------------------------------------------------------------------------

def corpus_ids(tok):
    stdlib = sysconfig.get_paths()["stdlib"]
    ids = []
    for fn in TOKENIZER_CORPUS:
        p = os.path.join(stdlib, fn)
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                ids += tok.encode(f.read()) + [EOT_ID]
    if len(ids) < 2000:  # no stdlib sources: the prompts themselves
        ids = sum((tok.encode(t, allow_special=True) + [EOT_ID] for t in PROMPTS), []) * 50
    return torch.tensor(ids)


def quick_train(model, data, seed, steps=300, batch=16, T=128, lr=3e-3):
    """A few hundred seeded AdamW steps (float32, one thread): deterministic on one machine."""
    from model import masked_lm_loss
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        s = torch.randint(0, len(data) - T - 1, (batch,), generator=g)
        chunk = data[s[:, None] + torch.arange(T + 1)]                       # [B, T+1]
        logits = model(chunk[:, :-1])[0]                                       # [B, T, V]
        loss = masked_lm_loss(logits, chunk[:, 1:])
        loss.backward()
        opt.step()
        opt.zero_grad()
    print(f"  trained {steps} steps, last loss {float(loss):.3f}")
    return model.eval()


def build_attentive(data):
    torch.manual_seed(SEED)
    cfg = GPTConfig(vocab_size=VOCAB, block_size=256, n_layer=2, n_head=4, n_embd=64)
    return quick_train(GPT(cfg), data, SEED), cfg


def build_llama(data):
    torch.manual_seed(SEED + 1)
    return quick_train(LlamaTiny(LlamaConfig(vocab_size=VOCAB)), data, SEED + 1)


def build_gpt2(data):
    torch.manual_seed(SEED + 2)
    return quick_train(GPT2Tiny(GPT2Config(vocab_size=VOCAB)), data, SEED + 2)


def write_fixture(out_dir, name, model, tok, tok_path, hf_config, n_layer, kv_heads, head_dim,
                  with_position_ids=True, with_attentions=False, quantize=True, eos_token="<|endoftext|>",
                  notes="", gen_eos=(EOT_ID,)):
    d = os.path.join(out_dir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(os.path.join(d, "onnx"))
    onnx_path = os.path.join(d, "onnx", "model.onnx")
    export_decoder_onnx(model, onnx_path, n_layer, kv_heads, head_dim, VOCAB,
                        with_position_ids=with_position_ids, with_attentions=with_attentions)
    if quantize:
        qz.quantize_file(onnx_path, os.path.join(d, "onnx", "model_quantized.onnx"), mode="dq8")
    write_json(os.path.join(d, "config.json"), hf_config)
    write_json(os.path.join(d, "generation_config.json"), generation_config(eos=gen_eos))
    tokenizer_files(d, tok_path, 256, eos_token=eos_token)
    from export import io_names
    io = io_names(n_layer, with_position_ids, with_attentions)
    write_json(os.path.join(d, "reference.json"), reference(model, tok, name, io, notes))
    total = sum(os.path.getsize(os.path.join(rt, f)) for rt, _, fs in os.walk(d) for f in fs)
    print(f"{d}: {total / 1e6:.2f} MB")
    assert total < 2e6, f"{name} is {total} bytes"
    return d


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "models"))
    ap.add_argument("--retrain-tokenizer", action="store_true")
    ap.add_argument("--only", nargs="*", default=None, help="names of the fixtures to write")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # one thread: bit-for-bit reproducible reductions
    tok, tok_path, _ = fixture_tokenizer(args.out, args.retrain_tokenizer)
    want = lambda n: args.only is None or n in args.only  # noqa: E731
    data = corpus_ids(tok)

    if want("attentive-tiny"):
        model, cfg = build_attentive(data)
        hf = attentive_config(cfg, {"fixture": True})
        hf["max_position_embeddings"] = cfg.block_size
        write_fixture(args.out, "attentive-tiny", model, tok, tok_path, hf, cfg.n_layer, cfg.n_head, cfg.head_dim,
                      with_attentions=True, eos_token="<|im_end|>", gen_eos=(EOT_ID, IM_END_ID),
                      notes="Our architecture (training/model.py): sinusoidal positions, pre-LN, GELU, tied head. "
                            "The ONNX graph also returns attentions.{i}.")
    if want("llama-tiny"):
        m = build_llama(data)
        c = m.config
        write_fixture(args.out, "llama-tiny", m, tok, tok_path, m.hf_config(EOT_ID, EOT_ID, EOT_ID),
                      c.num_hidden_layers, c.num_key_value_heads, c.head_dim,
                      notes="Llama/Qwen2 style: RoPE (rotate-half), RMSNorm, GQA 4 heads / 2 KV heads, SwiGLU, "
                            "untied head. No attention outputs (public export style).")
    if want("gpt2-tiny") or want("gpt2-tiny-nopos"):
        m = build_gpt2(data)
        c = m.config
        if want("gpt2-tiny"):
            write_fixture(args.out, "gpt2-tiny", m, tok, tok_path, m.hf_config(EOT_ID, EOT_ID), c.n_layer, c.n_head,
                          c.head_dim, quantize=True,
                          notes="GPT-2 style: learned positions, LayerNorm, tanh-GELU, tied head. "
                                "position_ids input; no attention outputs.")
        if want("gpt2-tiny-nopos"):
            write_fixture(args.out, "gpt2-tiny-nopos", m, tok, tok_path, m.hf_config(EOT_ID, EOT_ID), c.n_layer,
                          c.n_head, c.head_dim, with_position_ids=False, quantize=False,
                          notes="Same weights as gpt2-tiny; the graph has NO position_ids input: positions are "
                                "cumsum(attention_mask) - 1 computed inside the graph (left padding aware).")


if __name__ == "__main__":
    from train import reexec_with_malloc_env
    reexec_with_malloc_env()
    main()
