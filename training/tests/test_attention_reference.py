"""The committed attention_reference.json files (training/fixtures/attention_reference.py) belong to their fixtures and are
proper causal attention: prompt 0's ids of reference.json, rows summing to 1, nothing above the diagonal."""
import json
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "test", "fixtures", "models")


@pytest.mark.parametrize("name", ["llama-tiny", "gpt2-tiny"])
def test_attention_reference(name):
    with open(os.path.join(MODELS, name, "reference.json")) as f:
        ref = json.load(f)
    with open(os.path.join(MODELS, name, "attention_reference.json")) as f:
        att = json.load(f)
    with open(os.path.join(MODELS, name, "config.json")) as f:
        cfg = json.load(f)
    assert att["ids"] == ref["prompts"][0]["ids"] and att["text"] == ref["prompts"][0]["text"]
    probs = np.asarray(att["attentions"], np.float64)  # [layers, heads, query, key]
    T = len(att["ids"])
    layers = cfg.get("num_hidden_layers", cfg.get("n_layer"))
    heads = cfg.get("num_attention_heads", cfg.get("n_head"))
    assert probs.shape == (layers, heads, T, T)
    assert np.allclose(probs.sum(-1), 1, atol=1e-5)
    assert np.all(probs[..., np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0)
