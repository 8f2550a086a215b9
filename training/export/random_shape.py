"""
A model folder of a given shape with random weights, exported as the bundled model is (fp32, int8 and 4-bit ONNX with
attention outputs, config and tokenizer files), so a shape's speed can be measured before any training:
bench/model-shapes.mjs runs the engine and the completion replay on it.

    /usr/bin/python3 -m training.export.random_shape --out /tmp/shape --layers 8 --embd 512 --heads 8
"""
import argparse
import os

import torch

from training.export.export import export_attentive
from training.model.model import GPT, GPTConfig
from training.paths import ROOT

BUNDLED_TOKENIZER = os.path.join(ROOT, "models", "attentive-code-14m", "tokenizer.json")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--embd", type=int, required=True, help="d_model")
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--ffn-mult", type=int, default=4)
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--tokenizer", default=BUNDLED_TOKENIZER, help="its vocabulary size is the model's")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    from training.data.bpe import BPETokenizer
    vocab = BPETokenizer.load_hf(args.tokenizer).vocab_size
    config = GPTConfig(vocab_size=vocab, block_size=args.context, n_layer=args.layers, n_head=args.heads, n_embd=args.embd,
                       ffn_mult=args.ffn_mult)
    model = GPT(config).eval()
    params = sum(p.numel() for p in model.parameters())  # the output layer is tied to the embedding: counted once
    export_attentive(model, args.tokenizer, args.out, {"stage": "random weights (shape timing only)", "params": params},
                     quantize=True, q4=True, fim_prompt="spm")
    print(f"{args.out}: {params / 1e6:.1f}M parameters, " + ", ".join(
        f"{f} {os.path.getsize(os.path.join(args.out, 'onnx', f)) / 1e6:.1f} MB" for f in sorted(os.listdir(os.path.join(args.out, "onnx")))))


if __name__ == "__main__":
    main()
