"""training/export/export.py + quantize.py: the ONNX graph equals PyTorch in onnxruntime-node."""
import json
import os

import numpy as np
import onnx
import pytest
import torch

from training.eval.evaluate import cosine, feed, ort_feeds, ort_unavailable_reason, run_ort
from training.export.export import export_attentive
from training.export.onnx_to_ckpt import read_checkpoint
from training.model.model import GPT, GPTConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER = os.path.join(ROOT, "test", "fixtures", "models", "tokenizer.json")
ORT_SKIP = ort_unavailable_reason()
needs_ort = pytest.mark.skipif(ORT_SKIP is not None, reason=f"onnxruntime-node unavailable: {ORT_SKIP}")
torch.set_num_threads(2)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(3)
    cfg = GPTConfig(vocab_size=512, block_size=128, n_layer=2, n_head=4, n_embd=48)
    model = GPT(cfg).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.1)
    out = tmp_path_factory.mktemp("export") / "attentive-test"
    export_attentive(model, TOKENIZER, str(out), trained={"stage": "test"}, quantize=True)
    return model, cfg, str(out)


def torch_run(model, input_ids, mask, pos, past=None):
    with torch.no_grad():
        return model(torch.tensor(input_ids), attention_mask=torch.tensor(mask), position_ids=torch.tensor(pos),
                     past_key_values=past, output_attentions=True)


def feeds(cfg, input_ids, mask, pos, past=None):
    B = len(input_ids)
    f = {"input_ids": feed(np.array(input_ids, np.int64)), "attention_mask": feed(np.array(mask, np.int64)),
         "position_ids": feed(np.array(pos, np.int64))}
    for i in range(cfg.n_layer):
        for j, kv in enumerate(("key", "value")):
            if past is None:
                f[f"past_key_values.{i}.{kv}"] = {"dims": [B, cfg.n_head, 0, cfg.head_dim], "type": "float32", "data": []}
            else:
                f[f"past_key_values.{i}.{kv}"] = feed(past[i][j].numpy().astype(np.float32))
    return f


def arr(o):
    return np.array(o["data"], np.float32).reshape(o["dims"])


def test_folder_layout(exported):
    _, cfg, out = exported
    for fn in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
               "special_tokens_map.json", "onnx/model.onnx", "onnx/model_quantized.onnx"):
        assert os.path.exists(os.path.join(out, fn)), fn
    c = json.load(open(os.path.join(out, "config.json")))
    assert c["model_type"] == "attentive" and c["num_hidden_layers"] == 2 and c["num_key_value_heads"] == 4
    assert c["head_dim"] == 12 and c["positional_encoding"] == "sinusoidal" and c["vocab_size"] == 512
    assert c["attentive"]["outputs_attentions"] is True
    t = json.load(open(os.path.join(out, "tokenizer_config.json")))
    assert "<|im_start|>" in t["chat_template"] and t["added_tokens_decoder"]["5"]["content"] == "<|im_end|>"
    m = onnx.load(os.path.join(out, "onnx", "model.onnx"))
    assert [i.name for i in m.graph.input][:3] == ["input_ids", "attention_mask", "position_ids"]
    outs = [o.name for o in m.graph.output]
    assert outs[:3] == ["logits", "present.0.key", "present.0.value"] and outs[-1] == "attentions.1"
    assert m.opset_import[0].version == 17
    # training/export/graph_cleanup.py ran: every Reshape target is a constant, and no Cast is left in the attention.
    inits = {i.name for i in m.graph.initializer}
    assert all(n.input[1] in inits for n in m.graph.node if n.op_type == "Reshape")
    assert not [n for n in m.graph.node if n.op_type == "Shape" and "/attn/" in n.name]
    q = onnx.load(os.path.join(out, "onnx", "model_quantized.onnx"))
    assert any(i.data_type == onnx.TensorProto.INT8 for i in q.graph.initializer)


@needs_ort
def test_onnx_parity(exported):
    model, cfg, out = exported
    path = os.path.join(out, "onnx", "model.onnx")
    g = np.random.default_rng(0)
    # 1) prefill, batch 1, empty past
    a = g.integers(6, 512, (1, 9)).tolist()
    # 2) batch 2 with left padding, empty past
    b = g.integers(6, 512, (2, 6)).tolist()
    bmask = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]]
    bpos = (np.cumsum(bmask, 1) - 1).clip(0).tolist()
    # 3) decode 2 tokens after a past of 6 (batch 2, padded)
    _, past, _ = torch_run(model, b, bmask, bpos)
    c = g.integers(6, 512, (2, 2)).tolist()
    cmask = [r + [1, 1] for r in bmask]
    cpos = [[p[-1] + 1, p[-1] + 2] for p in bpos]
    cases = [(a, [[1] * 9], [list(range(9))], None), (b, bmask, bpos, None), (c, cmask, cpos, past)]
    res = run_ort([{"cmd": "run", "model": path, "feeds": feeds(cfg, *case), "opt": "all"} for case in cases])
    for (ids, mask, pos, pst), r in zip(cases, res):
        logits, presents, attns = torch_run(model, ids, mask, pos, pst)
        o = r["outputs"]
        assert np.abs(arr(o["logits"]) - logits.numpy()).max() < 1e-4
        for i in range(cfg.n_layer):
            assert np.abs(arr(o[f"present.{i}.key"]) - presents[i][0].numpy()).max() < 1e-4
            assert np.abs(arr(o[f"present.{i}.value"]) - presents[i][1].numpy()).max() < 1e-4
            at = arr(o[f"attentions.{i}"])
            assert at.shape == tuple(attns[i].shape)
            assert np.abs(at - attns[i].numpy()).max() < 1e-5
        # real query rows sum to 1 and are exactly 0 on padded keys
        at = arr(o["attentions.0"])
        assert np.allclose(at.sum(-1), 1.0, atol=1e-5)
    at = arr(res[1]["outputs"]["attentions.0"])
    assert (at[0, :, 2:, :2] == 0).all()
    assert (at[1][:, np.triu(np.ones((6, 6)), 1).astype(bool)] == 0).all()


@needs_ort
def test_greedy_and_int8(exported):
    model, cfg, out = exported
    prompt = list(range(20, 60))
    want = model.generate_greedy(prompt, 16)
    with torch.no_grad():
        last = model(torch.tensor([prompt]))[0][0, -1].numpy()
    res = run_ort([{"cmd": "greedy", "model": os.path.join(out, "onnx", f), "prompt": prompt, "steps": 16, "opt": "all"}
                   for f in ("model.onnx", "model_quantized.onnx")])
    assert res[0]["tokens"] == want
    assert np.abs(np.array(res[0]["prefill_logits"]) - last).max() < 1e-4
    assert cosine(res[1]["prefill_logits"], last) >= 0.999


def test_random_shape_folder(tmp_path):
    """training.export.random_shape: a folder of the asked shape, exported as the bundled model is (for bench/model-shapes.mjs)."""
    from training.export import random_shape
    out = str(tmp_path / "shape")
    random_shape.main(["--out", out, "--layers", "2", "--embd", "64", "--heads", "4", "--context", "128", "--tokenizer", TOKENIZER])
    config = json.load(open(os.path.join(out, "config.json")))
    assert (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"], config["max_position_embeddings"]) == (2, 64, 4, 128)
    assert config["attentive"]["trained"]["stage"].startswith("random weights")
    assert config["attentive"]["fim"]["prompt"] == "spm"
    assert all(os.path.getsize(os.path.join(out, "onnx", f)) > 0 for f in ("model.onnx", "model_quantized.onnx", "model_q4.onnx"))
    vocab = config["vocab_size"]
    # embedding (tied output layer, sinusoidal positions: no parameters), per block 12 C^2 + 13 C, the final LayerNorm
    assert config["attentive"]["trained"]["params"] == vocab * 64 + 2 * (12 * 64 * 64 + 13 * 64) + 2 * 64


def test_checkpoint_read_back_from_onnx(exported):
    """onnx_to_ckpt: from model.onnx the trained weights themselves; from model_quantized.onnx weights that compute
    what the int8 file computes."""
    model, cfg, out = exported
    fp32, meta = read_checkpoint(out, "model.onnx")
    assert meta["model_config"] == cfg.to_dict() and meta["stage"] == "test"
    want = model.state_dict()
    for k, v in fp32.state_dict().items():
        assert torch.equal(v, want[k]), k
    int8, _ = read_checkpoint(out)
    assert not torch.equal(int8.wte.weight, model.wte.weight)
    if ORT_SKIP is None:
        check_int8_file_matches(int8.eval(), os.path.join(out, "onnx", "model_quantized.onnx"), list(range(20, 60)))


def check_int8_file_matches(model, path, prompt, steps=16):
    """The model's logits on the prompt equal the file's (ONNX Runtime without graph optimizations, which would
    also round activations to int8), and so do its greedy tokens."""
    cfg = model.config
    with torch.no_grad():
        ref = model(torch.tensor([prompt]))[0][0].numpy()
        greedy = model.generate_greedy(prompt, steps)
    run, gen = run_ort([{"cmd": "run", "model": path, "feeds": ort_feeds(prompt, cfg.n_layer, cfg.n_head, cfg.head_dim),
                         "fetch": ["logits"], "opt": "disabled"},
                        {"cmd": "greedy", "model": path, "prompt": prompt, "steps": steps, "opt": "disabled"}])
    assert np.abs(arr(run["outputs"]["logits"])[0] - ref).max() < 1e-4
    assert gen["tokens"] == greedy


@needs_ort
def test_shipped_model_read_back_from_its_int8_file():
    """The bundled model's training checkpoint is not in git: evaluations that need one run on this copy, which
    computes what models/attentive-code-14m/onnx/model_quantized.onnx does."""
    folder = os.path.join(ROOT, "models", "attentive-code-14m")
    model, meta = read_checkpoint(folder)
    assert meta["model_config"]["n_embd"] == 384 and meta["stage"] == "sft"
    prompt = [6 + (i * 37) % 4000 for i in range(48)]
    check_int8_file_matches(model.eval(), os.path.join(folder, "onnx", "model_quantized.onnx"), prompt, 24)
