"""
A random-weight decoder with exactly the shapes of a real code model, for speed and memory checks of the engine
(bench/real-shape.mjs). The weights are noise: the figures are those of the shapes, not of any output.

    /usr/bin/python3 training/shape_model.py [--shape qwen2.5-coder-0.5b] [--out .cache/shape-models/<shape>] [--block 32]

Writes a model folder in the Hugging Face / transformers.js layout:
    config.json, generation_config.json, tokenizer.json, tokenizer_config.json
    onnx/model_q4.onnx          MatMulNBits 4-bit, block 32, accuracy_level 4 (as training/quantize.py makes ours);
                                --block 64 or 128 for coarser blocks (block 64: 4.56 bits per weight with its float32
                                scale and 4-bit zero point, about llama.cpp Q4_K_M's 4.5-4.9; block 32: 5.13)
    onnx/model_quantized.onnx   MatMulNBits 8-bit, block 32 (the layout of llama.cpp's Q8_0)
Both with the int8 token-embedding table of training/quantize.py. The float32 export (over 2 GB for Qwen2.5-Coder
0.5B, so torch writes its weights as external data) is only a step: it is deleted once both files are written.

The tokenizer is the test fixtures' byte-level BPE (test/fixtures/models/llama-tiny) with its vocabulary padded by
filler entries to the model's size, so every id the random model emits decodes to some text and a prompt of N
characters of plain ASCII is about N tokens.
"""

import argparse
import json
import os
import shutil
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import export_decoder_onnx  # noqa: E402
import quantize as qz  # noqa: E402
from reference_models import LlamaConfig, LlamaTiny  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_TOKENIZER = os.path.join(ROOT, "test", "fixtures", "models", "llama-tiny")

# From the model's config.json on the Hugging Face Hub (Qwen/Qwen2.5-Coder-0.5B-Instruct).
SHAPES = {
    "qwen2.5-coder-0.5b": dict(
        config=LlamaConfig(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                           num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                           rms_norm_eps=1e-6, rope_theta=1000000.0, attention_bias=True, tie_word_embeddings=True,
                           init_std=0.02),
        model_type="qwen2", architecture="Qwen2ForCausalLM",
    ),
}


def padded_tokenizer(vocab_size):
    """The fixture tokenizer.json with filler tokens "w<id>" up to `vocab_size` (byte-level: ASCII is itself)."""
    with open(os.path.join(FIXTURE_TOKENIZER, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    taken = set(vocab.values()) | {t["id"] for t in tok["added_tokens"]}
    for i in range(vocab_size):
        if i not in taken:
            vocab[f"w{i}"] = i
    return tok


def write_folder(out, shape_name, layers=None, seed=0, block=32):
    shape = SHAPES[shape_name]
    c = shape["config"]
    if layers is not None:  # fewer layers: a quick check of the pipeline
        c = LlamaConfig(**{**c.__dict__, "num_hidden_layers": layers})
    torch.manual_seed(seed)
    t0 = time.time()
    model = LlamaTiny(c).eval()
    params = sum(p.numel() for p in model.parameters())
    print(f"{shape_name}: {params / 1e6:.1f}M parameters, {c.num_hidden_layers} layers", flush=True)

    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    fp32_dir = os.path.join(out, ".fp32")
    shutil.rmtree(fp32_dir, ignore_errors=True)
    fp32 = os.path.join(fp32_dir, "model.onnx")
    export_decoder_onnx(model, fp32, c.num_hidden_layers, c.num_key_value_heads, c.head_dim, c.vocab_size,
                        with_position_ids=True, with_attentions=False)
    eot = 0  # <|endoftext|> in the fixture tokenizer
    hf = model.hf_config(eot, eot, eot)
    del model
    print(f"exported float32 in {time.time() - t0:.0f} s", flush=True)
    for mode, name in (("nbits4", "model_q4.onnx"), ("nbits8", "model_quantized.onnx")):
        t1 = time.time()
        dst = os.path.join(out, "onnx", name)
        qz.quantize_file(fp32, dst, mode=mode, block=block if mode == "nbits4" else 32)
        print(f"{name}: {os.path.getsize(dst) / 1e6:.1f} MB in {time.time() - t1:.0f} s", flush=True)
    shutil.rmtree(fp32_dir)

    hf.update(model_type=shape["model_type"], architectures=[shape["architecture"]],
                        attentive={"shape_only": True, "note": "random weights: for speed and memory checks only"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(hf, f, indent=1)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": eot, "eos_token_id": eot, "do_sample": False}, f, indent=1)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(padded_tokenizer(c.vocab_size), f, ensure_ascii=False)
    shutil.copy(os.path.join(FIXTURE_TOKENIZER, "tokenizer_config.json"), os.path.join(out, "tokenizer_config.json"))
    print(f"{out} written in {time.time() - t0:.0f} s")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="qwen2.5-coder-0.5b")
    ap.add_argument("--out", default=None)
    ap.add_argument("--layers", type=int, default=None, help="fewer layers than the real model (pipeline check)")
    ap.add_argument("--block", type=int, default=32, choices=(32, 64, 128), help="block size of the 4-bit file")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    write_folder(args.out or os.path.join(ROOT, ".cache", "shape-models", args.shape), args.shape, args.layers, block=args.block)


if __name__ == "__main__":
    main()
