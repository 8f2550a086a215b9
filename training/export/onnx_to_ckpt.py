"""
A checkpoint read back from an exported model folder's ONNX file, for the evaluations that run a PyTorch checkpoint
(eval_fim_stream, eval_chat, heads, eval_bpb) when the training checkpoint is not on this machine: the shipped
model's lives only in training/runs/ of the machine that trained it, and a new model's card must compare with it in
the same runs.

    /usr/bin/python3 -m training.export.onnx_to_ckpt --model models/attentive-code-14m --out training/runs/14m-int8
        [--onnx model_quantized.onnx]

Each weight is the one the graph computes with: an initializer as stored, or what its DequantizeLinear gives
((q - zero_point) * scale), the embedding's int8 rows times their scales. From model.onnx (fp32, not in git) that is
what training wrote. From model_quantized.onnx (the default) the PyTorch model computes what ONNX Runtime computes
with that file without graph optimizations (attentive-code-14m: logits within 1.5e-5 on a 48-token prompt); with
them, as the engine runs it, ONNX Runtime also rounds activations to int8 (logits within 0.21, the same top token at
98% of positions). 4-bit files (MatMulNBits) are not read. The output layer is tied to the embedding as in training:
the two must dequantize equal (the exporter quantizes both per vocabulary row), or this stops.
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from training.model.checkpoint import save_shards
from training.model.model import GPT, GPTConfig


def model_config(config: dict) -> GPTConfig:
    """Our exported config.json (Hugging Face field names) -> GPTConfig."""
    pe = config.get("attentive", {}).get("positional_encoding", {})
    if config.get("model_type") != "attentive" or pe.get("type") != "sinusoidal":
        raise ValueError("not an Attentive model folder (config.json: model_type 'attentive', sinusoidal positions)")
    return GPTConfig(vocab_size=config["vocab_size"], block_size=config["max_position_embeddings"],
                     n_layer=config["num_hidden_layers"], n_head=config["num_attention_heads"],
                     n_embd=config["hidden_size"], ffn_mult=config["intermediate_size"] // config["hidden_size"],
                     layer_norm_eps=config["layer_norm_eps"], scale_embedding=pe.get("scale_embedding", True),
                     pe_base=pe.get("base", 10000.0))


def graph_weights(graph) -> dict[str, np.ndarray]:
    """The state dict's weights as the graph uses them (float32; Linear weights as [out, in])."""
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:  # the exporter's dedup: one initializer, the others Identity nodes of it
        if node.op_type == "Identity" and node.input[0] in init:
            init[node.output[0]] = init[node.input[0]]
    dequantized = {}
    for node in graph.node:
        if node.op_type == "DequantizeLinear":
            q, scale = init[node.input[0]], init[node.input[1]]
            zp = init[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros_like(scale)
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            shape[axis] = -1  # per-channel along `axis`
            dequantized[node.output[0]] = (q.astype(np.float32) - zp.reshape(shape)) * scale.reshape(shape)

    def module(node, op):  # "/model/blocks.0/attn/c_attn/MatMul" -> "blocks.0.attn.c_attn"
        return node.name[len("/model/"):-len(op) - 1].replace("/", ".")

    # by the nodes that use them, not by initializer names: the exporter shares equal initializers between
    # modules (an untrained model's zero biases, for one) through Identity nodes
    sd = {}
    for node in graph.node:
        if not node.name.startswith("/model/"):
            continue
        if node.op_type == "LayerNormalization" and node.name.endswith("/LayerNormalization"):
            sd[f"{module(node, 'LayerNormalization')}.weight"] = init[node.input[1]]
            sd[f"{module(node, 'LayerNormalization')}.bias"] = init[node.input[2]]
        elif node.op_type == "MatMul" and node.name.endswith("/MatMul"):
            w = dequantized.get(node.input[1], init.get(node.input[1]))
            if w is not None:  # not attention's own products (Q K^T, P V)
                sd[f"{module(node, 'MatMul')}.weight"] = w.T  # MatMul weight [in, out] -> Linear [out, in]
        elif node.op_type == "Add" and node.name.endswith("/Add") and node.name[:-3] + "MatMul_output_0" in node.input:
            sd[f"{module(node, 'Add')}.bias"] = next(init[i] for i in node.input if i in init)
    if "model.wte.weight" in init:
        sd["wte.weight"] = init["model.wte.weight"]
    else:  # int8 rows, each with its scale
        sd["wte.weight"] = init["model.wte.weight_rows_q"].astype(np.float32) * init["model.wte.weight_rows_scale"][:, None]
    return sd


def read_checkpoint(model_dir: str, onnx_name: str = "model_quantized.onnx") -> tuple[GPT, dict]:
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    cfg = model_config(config)
    sd = graph_weights(onnx.load(os.path.join(model_dir, "onnx", onnx_name)).graph)
    head = sd.pop("lm_head.weight", None)
    if head is not None and not np.allclose(head, sd["wte.weight"], rtol=0, atol=1e-6):
        raise ValueError("the output layer is not the embedding in this file: a tied checkpoint cannot hold it")
    model = GPT(cfg)
    weights = {k: torch.from_numpy(np.array(v, np.float32)) for k, v in sd.items()}
    model.load_state_dict(weights | {"lm_head.weight": weights["wte.weight"]}, strict=True)
    trained = config.get("attentive", {}).get("trained", {})
    meta = dict(stage=trained.get("stage"), config=trained.get("config"), step=trained.get("step"),
                tokens=trained.get("tokens"), val_loss=trained.get("val_loss"), model_config=cfg.to_dict(),
                read_from=os.path.join(model_dir, "onnx", onnx_name))
    return model, meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="exported model folder (config.json, onnx/)")
    ap.add_argument("--onnx", default="model_quantized.onnx", help="file in onnx/: model_quantized.onnx or model.onnx")
    ap.add_argument("--out", required=True, help="checkpoint folder to write (ckpt.json + float32 shards)")
    args = ap.parse_args(argv)
    model, meta = read_checkpoint(args.model, args.onnx)
    save_shards(model, args.out, meta)
    print(f"wrote {args.out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters from {meta['read_from']}")


if __name__ == "__main__":
    main()
