"""The committed test/fixtures/models/* agree with their reference.json (ONNX runs in onnxruntime-node)."""
import json
import os

import numpy as np
import onnx
import pytest

from training.eval.evaluate import ort_unavailable_reason, run_ort, feed, cosine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "test", "fixtures", "models")
NAMES = ["attentive-tiny", "llama-tiny", "gpt2-tiny", "gpt2-tiny-nopos"]
ORT_SKIP = ort_unavailable_reason()


def load(name):
    d = os.path.join(FIX, name)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(d, "reference.json")) as f:
        ref = json.load(f)
    return d, cfg, ref


def kv_dims(cfg):
    if cfg["model_type"] == "gpt2":
        return cfg["n_layer"], cfg["n_head"], cfg["n_embd"] // cfg["n_head"]
    return cfg["num_hidden_layers"], cfg["num_key_value_heads"], cfg["head_dim"]


def feeds_for(cfg, input_ids, attention_mask, position_ids, with_pos):
    n_layer, kvh, hd = kv_dims(cfg)
    B = len(input_ids)
    f = {"input_ids": feed(np.array(input_ids, np.int64)), "attention_mask": feed(np.array(attention_mask, np.int64))}
    if with_pos:
        f["position_ids"] = feed(np.array(position_ids, np.int64))
    for i in range(n_layer):
        for kv in ("key", "value"):
            f[f"past_key_values.{i}.{kv}"] = {"dims": [B, kvh, 0, hd], "type": "float32", "data": []}
    return f


@pytest.mark.parametrize("name", NAMES)
def test_layout(name):
    d, cfg, ref = load(name)
    for fn in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
               "special_tokens_map.json", "onnx/model.onnx", "reference.json"):
        assert os.path.exists(os.path.join(d, fn)), fn
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)
    assert total < 2_000_000
    from training.data.bpe import BPETokenizer
    tok = BPETokenizer.load_hf(os.path.join(d, "tokenizer.json"))
    assert tok.vocab_size == cfg["vocab_size"] == 512
    for p in ref["prompts"]:
        assert tok.encode(p["text"], allow_special=True) == p["ids"]
        assert len(p["last_logits"]) == cfg["vocab_size"] and len(p["greedy"]) == 12
    with open(os.path.join(d, "tokenizer_config.json")) as f:
        tc = json.load(f)
    assert "chat_template" in tc and "<|im_start|>" in tc["chat_template"]


@pytest.mark.parametrize("name", NAMES)
def test_graph_interface(name):
    d, cfg, ref = load(name)
    m = onnx.load(os.path.join(d, "onnx", "model.onnx"))
    inputs = [i.name for i in m.graph.input]
    outputs = [o.name for o in m.graph.output]
    assert inputs == ref["onnx_inputs"] and outputs == ref["onnx_outputs"]
    assert ("position_ids" in inputs) == (name != "gpt2-tiny-nopos")
    n_layer = kv_dims(cfg)[0]
    assert sum(o.startswith("attentions.") for o in outputs) == (n_layer if name == "attentive-tiny" else 0)
    ops = [n.op_type for n in m.graph.node]
    assert ops.count("Softmax") == n_layer  # decomposed attention, one Softmax per layer
    assert not any(op in ("Attention", "MultiHeadAttention", "GroupQueryAttention") for op in ops)


@pytest.mark.skipif(ORT_SKIP is not None, reason=f"onnxruntime-node unavailable: {ORT_SKIP}")
@pytest.mark.parametrize("name", NAMES)
def test_onnx_matches_reference(name):
    d, cfg, ref = load(name)
    with_pos = "position_ids" in ref["onnx_inputs"]
    files = ["model.onnx"] + (["model_quantized.onnx"] if os.path.exists(os.path.join(d, "onnx", "model_quantized.onnx")) else [])
    jobs = []
    for fn in files:
        path = os.path.join(d, "onnx", fn)
        for p in ref["prompts"]:
            n = len(p["ids"])
            jobs.append({"cmd": "run", "model": path, "fetch": ["logits"], "opt": "all",
                         "feeds": feeds_for(cfg, [p["ids"]], [[1] * n], [list(range(n))], with_pos)})
        pb = ref["padded_batch"]
        jobs.append({"cmd": "run", "model": path, "fetch": ["logits"], "opt": "all",
                     "feeds": feeds_for(cfg, pb["input_ids"], pb["attention_mask"], pb["position_ids"], with_pos)})
        for p in ref["prompts"]:
            jobs.append({"cmd": "greedy", "model": path, "prompt": p["ids"], "steps": 12, "opt": "all"})
    res = run_ort(jobs)
    k = 0
    for fn in files:
        exact = fn == "model.onnx"
        for i, p in enumerate(ref["prompts"]):
            out = res[k]["outputs"]["logits"]
            k += 1
            V = cfg["vocab_size"]
            logits = np.array(out["data"], np.float32).reshape(out["dims"])[0]
            if exact:
                assert np.abs(logits[-1] - np.array(p["last_logits"])).max() < 1e-4
                if i == ref["all_positions"]["prompt"]:
                    assert np.abs(logits - np.array(ref["all_positions"]["logits"])).max() < 1e-4
            else:
                assert cosine(logits[-1], p["last_logits"]) >= 0.999
            assert logits.shape == (len(p["ids"]), V)
        out = res[k]["outputs"]["logits"]
        k += 1
        logits = np.array(out["data"], np.float32).reshape(out["dims"])[:, -1]
        want = np.array(ref["padded_batch"]["last_logits"])
        if exact:
            assert np.abs(logits - want).max() < 1e-4
        else:
            assert min(cosine(logits[j], want[j]) for j in range(2)) >= 0.999
        for p in ref["prompts"]:
            r = res[k]
            k += 1
            if exact:
                assert r["tokens"] == p["greedy"]
                assert np.abs(np.array(r["prefill_logits"]) - np.array(p["last_logits"])).max() < 1e-4
            else:
                assert cosine(r["prefill_logits"], p["last_logits"]) >= 0.999
