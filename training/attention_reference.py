"""
PyTorch reference attention probabilities for the public-style fixtures (no attentions.{i} in their ONNX graphs),
for the test of the graph rewrite that exposes them (src/engine/attentionRewrite.ts).

    /usr/bin/python3 training/attention_reference.py [--out test/fixtures/models] [--only llama-tiny gpt2-tiny]

Rebuilds each fixture model exactly as training/fixtures.py does (same seed, same steps, one thread), checks that it
is the committed one (its last-position logits equal reference.json's up to its rounding to 6 digits), and writes
<fixture>/attention_reference.json: for prompt 0 of reference.json, the ids and, per layer, the attention
probabilities [heads][query][key] (float32, 7 significant digits). Neither the ONNX files nor reference.json change.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import fixtures as fx  # noqa: E402

BUILDERS = {"llama-tiny": fx.build_llama, "gpt2-tiny": fx.build_gpt2}


@torch.no_grad()
def attention_reference(model, reference):
    prompt = reference["prompts"][0]
    ids = prompt["ids"]
    x = torch.tensor([ids])
    logits, _, attns = model(x, attention_mask=torch.ones_like(x), position_ids=torch.arange(len(ids))[None],
                             output_attentions=True)
    # reference.json keeps 6 significant digits: equal up to that rounding means the same weights.
    last = np.asarray(prompt["last_logits"], np.float64)
    diff = np.abs(logits[0, -1].double().numpy() - last)
    if np.any(diff > 1e-5 * np.abs(last) + 1e-6):
        raise SystemExit(f"{reference['model']}: the rebuilt model is not the committed one (max logit diff {diff.max()})")
    return {
        "model": reference["model"],
        "generator": "training/attention_reference.py",
        "torch": torch.__version__,
        "prompt": 0,
        "text": prompt["text"],
        "ids": ids,
        "tolerance": 1e-4,
        "attentions": [fx.r(a[0], 7) for a in attns],  # per layer [heads, query, key]
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "models"))
    ap.add_argument("--only", nargs="*", default=list(BUILDERS))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # as fixtures.py: bit-for-bit the same training
    tok, _, _ = fx.fixture_tokenizer(args.out)
    data = fx.corpus_ids(tok)
    for name in args.only:
        with open(os.path.join(args.out, name, "reference.json")) as f:
            reference = json.load(f)
        result = attention_reference(BUILDERS[name](data), reference)
        with open(os.path.join(args.out, name, "attention_reference.json"), "w", encoding="utf-8") as f:
            json.dump(result, f, separators=(",", ":"))  # compact: the matrices are most of it
            f.write("\n")
        print(f"{name}: {len(result['attentions'])} layers, {len(result['ids'])} tokens")


if __name__ == "__main__":
    from train import reexec_with_malloc_env
    reexec_with_malloc_env()
    main()
