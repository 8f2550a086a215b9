"""training/fixtures/shape_model.py on a tiny Qwen2 shape: the folder the engine reads, weights quantized with int8
activations, the tied embedding's head in the graph, and ONNX Runtime's logits close to transformers'
Qwen2ForCausalLM's. Needs transformers: runs in .venv-serve (npm run test:python)."""
import json
import os

import onnx
import pytest
import torch

from training.fixtures import shape_model
from training.eval.evaluate import cosine, ort_unavailable_reason, run_ort
from training.model import hf_decoders

ORT_SKIP = ort_unavailable_reason()
TINY = dict(vocab_size=700, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128, rope_theta=1000000.0, tie_word_embeddings=True,
            init_std=0.1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    shape_model.SHAPES["tiny-qwen2"] = TINY
    try:
        return shape_model.write_folder(str(tmp_path_factory.mktemp("shape") / "tiny"), "tiny-qwen2", seed=5)
    finally:
        del shape_model.SHAPES["tiny-qwen2"]


def test_folder_has_what_the_engine_reads(folder):
    config = json.load(open(os.path.join(folder, "config.json")))
    assert config["model_type"] == "qwen2" and config["architectures"] == ["Qwen2ForCausalLM"]
    assert config["tie_word_embeddings"]
    assert config["vocab_size"] == 700 and config["num_key_value_heads"] == 2
    tokenizer = json.load(open(os.path.join(folder, "tokenizer.json")))
    ids = set(tokenizer["model"]["vocab"].values()) | {t["id"] for t in tokenizer["added_tokens"]}
    assert ids == set(range(700)), "every id the model can emit decodes"
    assert sorted(os.listdir(os.path.join(folder, "onnx"))) == ["model_q4.onnx", "model_quantized.onnx"]
    assert not os.path.exists(os.path.join(folder, ".fp32")), "the float32 step is deleted"
    for name, bits in (("model_q4.onnx", 4), ("model_quantized.onnx", 8)):
        graph = onnx.load(os.path.join(folder, "onnx", name)).graph
        nbits = [n for n in graph.node if n.op_type == "MatMulNBits"]
        # q, k, v, o, gate, up, down per layer, and the (tied) lm_head
        assert len(nbits) == 7 * TINY["num_hidden_layers"] + 1
        for node in nbits:
            attrs = {a.name: a.i for a in node.attribute}
            assert attrs["bits"] == bits and attrs["accuracy_level"] == 4


@pytest.mark.skipif(ORT_SKIP is not None, reason=f"onnxruntime-node unavailable: {ORT_SKIP}")
def test_quantized_files_compute_the_pytorch_model(folder):
    torch.manual_seed(5)
    model = hf_decoders.qwen2(**TINY).eval()  # the same seed: the same random weights as the export
    prompt = [11, 200, 37, 640, 5]
    with torch.no_grad():
        logits, _, _ = model(torch.tensor([prompt]))
    expected = logits[0, -1].numpy()
    jobs = [{"cmd": "greedy", "model": os.path.join(folder, "onnx", name), "prompt": prompt, "steps": 1, "opt": "all"}
            for name in ("model_quantized.onnx", "model_q4.onnx")]
    int8, q4 = run_ort(jobs)
    # Weights and activations quantized: close, not equal (random weights; 4-bit measured 0.969). Garbage scores ~0.
    assert cosine(int8["prefill_logits"], expected) > 0.999
    assert cosine(q4["prefill_logits"], expected) > 0.95
    assert int8["tokens"][0] == int(expected.argmax())


def test_block_option_sets_the_4bit_block_only(tmp_path):
    shape_model.SHAPES["tiny-qwen2"] = TINY
    try:
        folder = shape_model.write_folder(str(tmp_path / "tiny64"), "tiny-qwen2", layers=1, seed=5, block=64)
    finally:
        del shape_model.SHAPES["tiny-qwen2"]
    for name, block in (("model_q4.onnx", 64), ("model_quantized.onnx", 32)):
        nbits = [n for n in onnx.load(os.path.join(folder, "onnx", name)).graph.node if n.op_type == "MatMulNBits"]
        assert nbits and all({a.name: a.i for a in n.attribute}["block_size"] == block for n in nbits), name
