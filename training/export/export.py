"""
Export a trained checkpoint to a Hugging Face / Optimum style folder that the extension loads.

    /usr/bin/python3 -m training.export.export --ckpt training/runs/<name>/sft \
        --tokenizer training/.data/tokenizer.json --out models/<name> [--quantize] [--q4]

Writes
    config.json, generation_config.json, tokenizer.json (copy), tokenizer_config.json (with chat_template),
    special_tokens_map.json, onnx/model.onnx (fp32) [, onnx/model_quantized.onnx (int8) with --quantize]

ONNX interface (Optimum names; opset 17; every length dynamic):
    inputs   input_ids                      int64   [batch, sequence_length]
             attention_mask                 int64   [batch, total_sequence_length]   (1 = token, 0 = padding)
             position_ids                   int64   [batch, sequence_length]
             past_key_values.{i}.key/.value float32 [batch, kv_heads, past_sequence_length, head_dim]
    outputs  logits                         float32 [batch, sequence_length, vocab]
             present.{i}.key/.value         float32 [batch, kv_heads, total_sequence_length, head_dim]
             attentions.{i}                 float32 [batch, heads, sequence_length, total_sequence_length]
An empty past is a dimension of 0. The graph is traced with a non-zero past so that no length is baked in.

The helpers here (export_decoder_onnx, write_hf_folder) are also used by training/fixtures/fixtures.py.
"""

import argparse
import json
import inspect
import os
import shutil

import torch
import torch.nn as nn

from training.data.chat_data import CHAT_TEMPLATE  # the ChatML template used in training (its source of truth)

SPECIAL_TOKENS = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|im_start|>", "<|im_end|>"]
EOT_ID, FIM_PREFIX_ID, FIM_MIDDLE_ID, FIM_SUFFIX_ID, IM_START_ID, IM_END_ID = range(6)
FORMAT_VERSION = 1


# ----------------------------------------------------------------------------------------------
# ONNX export of any decoder with the interface
#   model(input_ids, attention_mask, position_ids, past_key_values, output_attentions) -> logits, presents, attns
# ----------------------------------------------------------------------------------------------

class OnnxDecoder(nn.Module):
    """Flattens the (key, value) pairs into positional inputs/outputs for torch.onnx.export."""

    def __init__(self, model, n_layer, with_position_ids=True, with_attentions=True):
        super().__init__()
        self.model = model
        self.n_layer = n_layer
        self.with_position_ids = with_position_ids
        self.with_attentions = with_attentions

    def forward(self, input_ids, attention_mask, *rest):
        if self.with_position_ids:
            position_ids, flat = rest[0], rest[1:]
        else:
            position_ids, flat = None, rest
        past = [(flat[2 * i], flat[2 * i + 1]) for i in range(self.n_layer)]
        logits, presents, attns = self.model(input_ids, attention_mask=attention_mask, position_ids=position_ids,
                                             past_key_values=past, output_attentions=self.with_attentions)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        if self.with_attentions:
            out += list(attns)
        return tuple(out)


def io_names(n_layer, with_position_ids=True, with_attentions=True):
    inputs = ["input_ids", "attention_mask"] + (["position_ids"] if with_position_ids else [])
    outputs = ["logits"]
    for i in range(n_layer):
        inputs += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outputs += [f"present.{i}.key", f"present.{i}.value"]
    if with_attentions:
        outputs += [f"attentions.{i}" for i in range(n_layer)]
    return inputs, outputs


def export_decoder_onnx(model, path, n_layer, kv_heads, head_dim, vocab_size,
                        with_position_ids=True, with_attentions=True, opset=17):
    """Trace `model` (batch 2, 3 new tokens after a past of 4, one left-padded row) and write `path`."""
    model = model.eval()
    wrapper = OnnxDecoder(model, n_layer, with_position_ids, with_attentions).eval()
    B, P, T = 2, 4, 3
    g = torch.Generator().manual_seed(0)
    input_ids = torch.randint(0, vocab_size, (B, T), generator=g)
    attention_mask = torch.ones(B, P + T, dtype=torch.long)
    attention_mask[1, :2] = 0
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, P:]
    past = []
    for _ in range(n_layer):
        past += [torch.randn(B, kv_heads, P, head_dim, generator=g), torch.randn(B, kv_heads, P, head_dim, generator=g)]
    args = (input_ids, attention_mask) + ((position_ids,) if with_position_ids else ()) + tuple(past)
    in_names, out_names = io_names(n_layer, with_position_ids, with_attentions)
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    if with_position_ids:
        dyn["position_ids"] = {0: "batch_size", 1: "sequence_length"}
    for n in in_names:
        if n.startswith("past_key_values"):
            dyn[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in out_names:
        if n.startswith("present"):
            dyn[n] = {0: "batch_size", 2: "total_sequence_length"}
        elif n.startswith("attentions"):
            dyn[n] = {0: "batch_size", 2: "sequence_length", 3: "total_sequence_length"}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # The TorchScript exporter: the default one in torch 2.x; newer versions default to dynamo (which needs onnxscript).
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(wrapper, args, path, input_names=in_names, output_names=out_names,
                          dynamic_axes=dyn, opset_version=opset, do_constant_folding=True, **legacy)
    import onnx
    onnx.checker.check_model(path)  # by path: also for models over 2 GB, whose weights are external data
    return path


# ----------------------------------------------------------------------------------------------
# Hugging Face folder
# ----------------------------------------------------------------------------------------------

def document_start_processor():
    """A post-processor that starts every encoded text with <|endoftext|>, as every document starts in training.

    Pretraining windows begin after an <|endoftext|>; a prompt without it at position 0 leaves the model unsure
    whether it is inside a fill-in-the-middle example (measured: it then often emits <|fim_middle|> in plain
    completions). HF convention: tokenizer(text) adds it; apply_chat_template renders the template alone.
    """
    eot = {"id": "<|endoftext|>", "ids": [EOT_ID], "tokens": ["<|endoftext|>"]}
    return {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 0}}],
        "special_tokens": {"<|endoftext|>": eot},
    }


def tokenizer_files(out_dir, tokenizer_json, model_max_length, eos_token="<|im_end|>", chat_template=CHAT_TEMPLATE,
                    tokenizer_class="PreTrainedTokenizerFast", bos_at_document_start=False):
    """Copy tokenizer.json; write tokenizer_config.json and special_tokens_map.json.

    bos_at_document_start: encoded texts start with <|endoftext|> (see document_start_processor). Chats do not:
    SFT windows start at a conversation's <|im_start|>, so the chat template stays without a BOS.
    """
    with open(tokenizer_json, encoding="utf-8") as f:
        tok = json.load(f)
    added = tok.get("added_tokens", [])
    if bos_at_document_start:
        tok["post_processor"] = document_start_processor()
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tok, f, ensure_ascii=False)
    else:
        shutil.copyfile(tokenizer_json, os.path.join(out_dir, "tokenizer.json"))
    decoder = {str(t["id"]): {"content": t["content"], "lstrip": False, "normalized": False, "rstrip": False,
                              "single_word": False, "special": True} for t in added}
    cfg = {
        "tokenizer_class": tokenizer_class,
        "bos_token": "<|endoftext|>",
        "eos_token": eos_token,
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "additional_special_tokens": [t["content"] for t in added],
        "added_tokens_decoder": decoder,
        "add_bos_token": bos_at_document_start,
        "add_eos_token": False,
        "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
        "chat_template": chat_template,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=1, ensure_ascii=False)
    stm = {"bos_token": "<|endoftext|>", "eos_token": eos_token, "pad_token": "<|endoftext|>",
           "additional_special_tokens": [t["content"] for t in added]}
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(stm, f, indent=1)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def attentive_config(cfg, extra=None, fim_for_completion=True, fim_prompt="psm"):
    """config.json for our architecture (model_type "attentive")."""
    c = {
        "model_type": "attentive",
        "architectures": ["AttentiveForCausalLM"],
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.n_embd,
        "num_hidden_layers": cfg.n_layer,
        "num_attention_heads": cfg.n_head,
        "num_key_value_heads": cfg.n_head,
        "head_dim": cfg.head_dim,
        "max_position_embeddings": cfg.block_size,
        "intermediate_size": cfg.ffn_mult * cfg.n_embd,
        "hidden_act": "gelu",
        "layer_norm_eps": cfg.layer_norm_eps,
        "positional_encoding": "sinusoidal",
        "tie_word_embeddings": True,
        "bos_token_id": EOT_ID,
        "eos_token_id": [EOT_ID, IM_END_ID],
        "pad_token_id": EOT_ID,
        "fim_prefix_token_id": FIM_PREFIX_ID,
        "fim_middle_token_id": FIM_MIDDLE_ID,
        "fim_suffix_token_id": FIM_SUFFIX_ID,
        "use_cache": True,
        "torch_dtype": "float32",
        "attentive": {
            "format_version": FORMAT_VERSION,
            # the ONNX graph returns attentions.{i} [batch, heads, seq, total] next to logits and present.*
            "outputs_attentions": True,
            "positional_encoding": {"type": "sinusoidal", "base": cfg.pe_base,
                                    "scale_embedding": cfg.scale_embedding},
            # training documents follow an <|endoftext|>: start a completion prompt with it
            "document_separator_token_id": EOT_ID,
            # fill-in-the-middle, both orders were trained; the middle ends with <|endoftext|>. SPM as trained in
            # editor mode (training/data/fim.py: the middle continues the prefix) or in character-level mode (the
            # shipped model before it: prefix and middle separated by <|fim_middle|>)
            "fim": {"prefix_token_id": FIM_PREFIX_ID, "suffix_token_id": FIM_SUFFIX_ID,
                    "middle_token_id": FIM_MIDDLE_ID, "end_token_id": EOT_ID,
                    "psm": "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
                    "spm": ("<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}" if fim_prompt == "spm" else
                            "<|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>"),
                    # Read by the engine: the order inline completion prompts in ("psm" or "spm", the templates above)
                    "prompt": fim_prompt,
                    # Read by the extension: false makes inline completion send the prefix alone (set it from
                    # training/eval/eval_fim.py: FIM exact match below plain next-line exact match).
                    "use_for_completion": fim_for_completion},
            "chat": {"format": "chatml", "im_start_token_id": IM_START_ID, "im_end_token_id": IM_END_ID},
            "special_tokens": {s: i for i, s in enumerate(SPECIAL_TOKENS)},
        },
    }
    if extra:
        c["attentive"].update(extra)
    return c


def generation_config(eos=(EOT_ID, IM_END_ID), max_length=None):
    g = {"bos_token_id": EOT_ID, "eos_token_id": list(eos), "pad_token_id": EOT_ID, "do_sample": False}
    if max_length:
        g["max_length"] = max_length
    return g


def export_attentive(model, tokenizer_json, out_dir, trained=None, quantize=False, q4=False, fim_for_completion=True,
                     fim_prompt="psm"):
    cfg = model.config
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    onnx_path = os.path.join(out_dir, "onnx", "model.onnx")
    export_decoder_onnx(model, onnx_path, cfg.n_layer, cfg.n_head,
                        cfg.head_dim, cfg.vocab_size, with_position_ids=True, with_attentions=True)
    # Constant Reshape targets and no identity Casts: ~half the nodes per decoding step (training/export/graph_cleanup.py).
    from training.export import graph_cleanup
    graph_cleanup.simplify_file(onnx_path)
    extra = {"trained": trained} if trained else None
    write_json(os.path.join(out_dir, "config.json"), attentive_config(cfg, extra, fim_for_completion, fim_prompt))
    write_json(os.path.join(out_dir, "generation_config.json"), generation_config(max_length=cfg.block_size))
    tokenizer_files(out_dir, tokenizer_json, cfg.block_size, bos_at_document_start=True)
    if quantize or q4:
        from training.export import quantize as qz
        if quantize:
            qz.quantize_file(os.path.join(out_dir, "onnx", "model.onnx"),
                             os.path.join(out_dir, "onnx", "model_quantized.onnx"))
        if q4:
            qz.quantize_file(os.path.join(out_dir, "onnx", "model.onnx"),
                             os.path.join(out_dir, "onnx", "model_q4.onnx"), bits=4)
    return out_dir


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True, help="checkpoint directory or ckpt.json")
    ap.add_argument("--tokenizer", default="training/.data/tokenizer.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quantize", action="store_true", help="also write onnx/model_quantized.onnx (int8)")
    ap.add_argument("--no-fim-for-completion", action="store_true",
                    help="mark fill-in-the-middle as not good enough for inline completion (config.json)")
    ap.add_argument("--q4", action="store_true", help="also write onnx/model_q4.onnx (MatMulNBits 4-bit)")
    ap.add_argument("--fim-prompt", choices=["psm", "spm"], default="psm",
                    help="the FIM order inline completion uses (spm: for a model trained with --fim-mode editor)")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    from training.model.checkpoint import load_model, resolve_ckpt
    model, info = load_model(args.ckpt)
    trained = {k: info.get(k) for k in ("stage", "config", "step", "tokens", "val_loss", "time", "dtype")}
    trained["checkpoint"] = os.path.relpath(resolve_ckpt(args.ckpt))
    export_attentive(model, args.tokenizer, args.out, trained, quantize=args.quantize, q4=args.q4,
                     fim_for_completion=not args.no_fim_for_completion, fim_prompt=args.fim_prompt)
    for root, _, files in os.walk(args.out):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            print(f"{p}  {os.path.getsize(p) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
