"""A random-weight Qwen2 model folder for `transformers serve` in tests: genuine Hugging Face code and file layout
(config, safetensors, tokenizer with a chat template), tiny so it answers fast on 2 cores.

    .venv-serve/bin/python test/helpers/make_served_model.py OUT_DIR

The tokenizer is the bundled model's byte-level BPE (its FIM sentinels are Qwen's), so prompts in the Qwen
fill-in-the-middle format tokenize as they would for Qwen2.5-Coder."""

import json
import os
import shutil
import sys

import torch
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUNDLED = os.path.join(ROOT, "models", "attentive-code-14m")


def main(out):
    os.makedirs(out, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if os.path.exists(os.path.join(BUNDLED, name)):
            shutil.copy(os.path.join(BUNDLED, name), os.path.join(out, name))
    tokenizer = AutoTokenizer.from_pretrained(out)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=2048, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    with open(os.path.join(out, "attentive-test-model.json"), "w") as f:
        json.dump({"note": "random weights, made by test/helpers/make_served_model.py"}, f)


if __name__ == "__main__":
    main(sys.argv[1])
