"""The evaluation code (evaluate.py helpers, eval_bpb.py, eval_fim.py, heads.py) on tiny synthetic inputs."""
import math
import os
import shutil

import numpy as np
import pytest
import torch

from training.eval import eval_bpb, eval_fim, heads
from training.eval.evaluate import fast_logits, ort_unavailable_reason, run_ort_eval, token_nll, windows
from training.model.model import GPT, GPTConfig

ORT_SKIP = ort_unavailable_reason()
needs_ort = pytest.mark.skipif(ORT_SKIP is not None, reason=f"onnxruntime-node unavailable: {ORT_SKIP}")
torch.set_num_threads(2)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=32, n_layer=2, n_head=2, n_embd=16)).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.3)
    return model


class CharTok:
    """A stand-in tokenizer: one id per (ASCII) character, its code (>= 10: never a special id)."""

    def encode(self, text):
        return [ord(c) for c in text]

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


# --- evaluate.py ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n,w,s", [(1, 4, 2), (10, 4, 2), (10, 4, 4), (9, 4, 3), (100, 16, 5), (3, 8, 4)])
def test_windows_count_each_target_once(n, w, s):
    seen = []
    for b, e, f in windows(n, w, s):
        assert 0 < e - b <= w and e <= n and 0 <= f < e - b
        if b > 0:
            assert f >= w - s or e == n  # a later window counts only targets with >= w - s ids of context
        seen += list(range(b + f, e))
    assert seen == list(range(n))


def test_fast_logits_equals_forward(tiny):
    x = torch.randint(0, 64, (3, 20))
    with torch.no_grad():
        assert torch.allclose(fast_logits(tiny, x), tiny(x)[0], atol=1e-5)


def test_token_nll():
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    nll = token_nll(logits, torch.tensor([1, 0]))
    assert np.allclose(nll, [math.log(2), math.log(1 + math.exp(-2))])


# --- eval_bpb.py ---------------------------------------------------------------------------------

def test_torch_nll_short_document_is_the_plain_loss(tiny):
    ids = list(range(6, 26))  # 20 ids, fits one window
    total, n = eval_bpb.torch_nll(tiny, ids, window=32, stride=16)
    with torch.no_grad():
        want = torch.nn.functional.cross_entropy(tiny(torch.tensor([ids[:-1]]))[0][0], torch.tensor(ids[1:]),
                                                 reduction="sum")
    assert n == 19 and abs(total - float(want)) < 1e-3


def test_torch_nll_sliding_windows_match_the_manual_sum(tiny):
    g = np.random.default_rng(1)
    ids = g.integers(6, 64, 70).tolist()
    total, n = eval_bpb.torch_nll(tiny, ids, window=32, stride=16)
    assert n == 69
    manual = 0.0
    with torch.no_grad():
        for b, e, f in windows(69, 32, 16):
            lg = tiny(torch.tensor([ids[b:e]]))[0][0]
            manual += float(torch.nn.functional.cross_entropy(lg, torch.tensor(ids[b + 1:e + 1]), reduction="none")[f:].sum())
    assert abs(total - manual) < 1e-3


def test_summarize_bits_per_byte():
    docs = [{"language": "python", "text": "abcd"}, {"language": "python", "text": "éé"},
            {"language": "javascript", "text": "xy"}]
    per_doc = [(4 * math.log(2), 2), (4 * math.log(2), 2), (2 * math.log(2), 1)]
    s = eval_bpb.summarize(per_doc, docs)
    assert s["python"]["bytes"] == 8 and s["python"]["tokens"] == 4
    assert abs(s["python"]["bpb"] - 1.0) < 1e-9 and abs(s["python"]["loss"] - 2 * math.log(2)) < 1e-9
    assert abs(s["javascript"]["bpb"] - 1.0) < 1e-9 and s["all"]["files"] == 3


@pytest.mark.skipif(shutil.which("xz") is None, reason="xz not installed")
def test_xz_bpb():
    text = "def f(x):\n    return x\n" * 50
    r = eval_bpb.xz_bpb([text, text])
    assert r["concat"] < r["per_file"] < 8 and r["per_file_raw"] < r["per_file"]


# --- eval_fim.py ---------------------------------------------------------------------------------

DOCS = [{"language": "python", "path": "a.py", "text": "import os\n\ndef f(x):\n    return x + 1\n"},
        {"language": "javascript", "path": "b.js", "text": "const a = 1;\nfunction g() {\n  return a;\n}\n"},
        {"language": "typescript", "path": "c.ts", "text": "let x: number = 2;\nexport { x };\n"}]


def test_sample_cases_are_deterministic_lines():
    cases = eval_fim.sample_cases(DOCS, {"python": 2, "javascript": 3, "typescript": 1}, seed=3)
    assert cases == eval_fim.sample_cases(DOCS, {"python": 2, "javascript": 3, "typescript": 1}, seed=3)
    assert [c["language"] for c in cases] == ["python"] * 2 + ["javascript"] * 3 + ["typescript"]
    for c in cases:
        assert c["prefix"] + c["middle"] + c["suffix"] == DOCS[c["doc"]]["text"]
        assert c["middle"].strip() and "\n" not in c["middle"] and c["line"] > 0
        assert c["prefix"].endswith("\n") and c["suffix"].startswith("\n")


def test_build_prompt_layout_and_clipping():
    tok = CharTok()
    case = {"prefix": "a" * 50 + "\n", "middle": "mid", "suffix": "\n" + "b" * 50}
    fim = eval_fim.build_prompt(tok.encode, case, "fim", context=40, max_new=8)
    assert len(fim) == 40 - 8 and fim[0] == 1 and fim[-1] == 2 and fim.count(3) == 1
    n_suf = len(fim) - 2 - fim.index(3)  # between <|fim_suffix|> and <|fim_middle|>
    assert n_suf == (40 - 8 - 3) // 4  # both sides long: the suffix gets a quarter
    assert fim[fim.index(3) - 1] == tok.encode("\n")[0] and fim[fim.index(3) + 1] == tok.encode("\n")[0]
    spm = eval_fim.build_prompt(tok.encode, case, "spm_eot", context=40, max_new=8)
    assert spm[:2] == [0, 3] and spm[-1] == 2 and len(spm) == 32
    plain = eval_fim.build_prompt(tok.encode, case, "plain", context=40, max_new=8)
    assert plain == tok.encode("a" * 32)  # no final "\n", the last tokens kept
    raw = eval_fim.build_prompt(tok.encode, case, "plain_raw_eot_ban", context=40, max_new=8)
    assert raw[0] == 0 and raw[-1] == tok.encode("\n")[0] and len(raw) == 32
    short = {"prefix": "ab\n", "middle": "m", "suffix": "\ncd"}
    assert eval_fim.build_prompt(tok.encode, short, "fim", 40, 8) == [1] + tok.encode("ab\n") + [3] + tok.encode("\ncd") + [2]
    # the SPM variant: sentinels, suffix, <|fim_middle|>, then the prefix without its final "\n"
    assert eval_fim.build_prompt(tok.encode, short, "spmv", 40, 8) == [1, 3] + tok.encode("\ncd") + [2] + tok.encode("ab")
    assert eval_fim.completion(tok.decode, tok.encode("\nline\nmore"), "spmv") == "line"


def test_completion_and_stops():
    tok = CharTok()
    enc = tok.encode
    assert eval_fim.completion(tok.decode, enc("x = 1") + [0] + enc("zz"), "fim") == "x = 1"
    assert eval_fim.completion(tok.decode, enc("x = 1\ny"), "fim_eot") == "x = 1"
    assert eval_fim.completion(tok.decode, enc("\n    x = 1\n"), "plain") == "    x = 1"
    assert eval_fim.completion(tok.decode, enc("  # c\n  y\n"), "plain_eot") == "  y"
    assert eval_fim.completion(tok.decode, enc("\n  y"), "plain_raw") == ""
    assert eval_fim.completion(tok.decode, [2] + enc("y"), "plain_raw") == ""
    assert eval_fim.exact("  x = 1 ", {"middle": "x = 1"})
    assert eval_fim.stop_spec("plain_eot", [9])["stop_after"] == 2
    assert eval_fim.stop_spec("plain_raw", [9])["stop_after"] == 1
    assert eval_fim.stop_spec("fim_ban", [9])["ban"] == [1, 2, 3, 4]
    assert eval_fim.parse_mode("plain_raw_eot_ban") == ("plain_raw", True, True)
    with pytest.raises(ValueError):
        eval_fim.parse_mode("psm")


def test_score():
    cases = [{"language": "python", "middle": "a"}, {"language": "python", "middle": "b"},
             {"language": "typescript", "middle": "c"}]
    s = eval_fim.score(cases, ["a", "x", " c"])
    assert s["python"]["exact"] == 1 and s["typescript"]["em"] == 1.0 and s["all"]["exact"] == 2
    long = cases + [{"language": "python", "middle": "  return x"}]
    s = eval_fim.score(long, ["a", "x", " c", "return x"])
    assert s["nontrivial"] == {"n": 1, "exact": 1, "em": 1.0, "se": 0.0} and s["all"]["n"] == 4


# --- heads.py ------------------------------------------------------------------------------------

def test_bracket_pairs():
    toks = [b"f", b"(", b"a", b",", b" [", b"1", b"]", b")", b" {", b"}", b")"]
    # ( at 1 .. ) at 7 (gap 6); [ at 4 .. ] at 6 (gap 2: left out); { } adjacent: left out; the last ) unmatched
    assert heads.bracket_pairs(toks) == [(7, 1)]
    assert heads.bracket_pairs([b"(", b"x", b"]", b"y", b"z", b")"]) == []  # mismatch clears the stack
    assert heads.bracket_pairs([b"g(", b"x", b"y", b"z)"]) == [(3, 0)]


def test_attention_stats_on_synthetic_heads():
    T = 40
    att = np.zeros((3, T, T))
    att[0, 0, 0] = 1
    att[0, np.arange(1, T), np.arange(T - 1)] = 1      # previous-token head
    att[1, :, 0] = 1                                   # first-token head
    att[2] = np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]  # uniform
    st = heads.attention_stats(att, min_query=16)
    n = st["n"]
    assert n == T - 16
    assert np.allclose(st["prev_token"] / n, [1, 0, np.mean(1 / np.arange(17, T + 1))])
    assert np.allclose((st["sink"] / n)[:2], [0, 1])
    assert np.allclose((st["distance"] / n)[:2], [1, np.arange(16, T).mean()])
    assert np.allclose((st["entropy_bits"] / n)[:2], [0, 0])
    assert np.isclose(st["entropy_bits"][2] / n, np.mean(np.log2(np.arange(17, T + 1))))


def test_repeat_stats_and_labels():
    L = 10
    att = np.zeros((2, 2 * L, 2 * L))
    t = np.arange(L - 1)
    att[0, L + t, t + 1] = 1  # induction
    att[1, L + t, t] = 1      # duplicate-token
    st = heads.repeat_stats(att, L)
    assert np.allclose(st["induction"] / st["n"], [1, 0]) and np.allclose(st["duplicate"] / st["n"], [0, 1])
    base = {"prev_token": 0.0, "self": 0.0, "sink": 0.0, "induction": 0.0, "duplicate": 0.0, "bracket_top1": 0.0,
            "distance": 30.0}
    assert heads.label_head({**base, "prev_token": 0.9})[:2] == ("previous-token", "prev_token")
    assert heads.label_head({**base, "prev_token": 0.5, "induction": 0.6})[0] == "induction"  # 3x vs 1.25x
    assert heads.label_head({**base, "sink": 0.7})[0] == "first-token (sink)"
    assert heads.label_head(base)[0] == "broad"
    assert heads.label_head({**base, "distance": 3.0})[0] == "local"


def test_analyse_runs_on_a_tiny_model(tiny):
    class Tok(CharTok):
        token_bytes = [b""] * 6 + [bytes([32 + (i % 90)]) for i in range(58)]

        def encode(self, text):
            return [6 + (ord(c) - 32) % 58 for c in text]

    docs = [{"language": lang, "text": "def f(a, (b)):\n    return [a, b]\n" * 3} for lang in ("python", "javascript", "typescript")]
    table, summary = heads.analyse(tiny, Tok(), docs, n_windows=3, length=24, n_random=2, random_len=8, min_query=4,
                                   batch=2, log=lambda *_: None)
    assert len(table) == 2 * 2 and {r["name"] for r in table} == {"L0H0", "L0H1", "L1H0", "L1H1"}
    for r in table:
        assert 0 <= r["scores"]["prev_token"] <= 1 and r["scores"]["entropy_bits"] >= 0 and r["label"]
    assert summary["code_windows"] == 3 and summary["random_sequences"] == 2


# --- ONNX through Node -------------------------------------------------------------------------------

@needs_ort
def test_ort_eval_matches_pytorch(tiny, tmp_path):
    from training.export.export import export_decoder_onnx
    cfg = tiny.config
    path = str(tmp_path / "model.onnx")
    export_decoder_onnx(tiny, path, cfg.n_layer, cfg.n_head, cfg.head_dim, cfg.vocab_size)
    g = np.random.default_rng(2)
    ids = g.integers(6, 64, 50).tolist()
    wins = [{"ids": ids[b:e + 1], "from": f} for b, e, f in windows(49, 32, 16)]
    prompts = [ids[:10], ids[10:15]]
    res = run_ort_eval([{"cmd": "nll", "model": path, "windows": wins},
                        {"cmd": "generate", "model": path, "prompts": prompts, "max_new": 8, "stop": []},
                        {"cmd": "generate", "model": path, "prompts": prompts, "max_new": 8, "stop": [],
                         "ban": [tiny.generate_greedy(prompts[0], 1)[0]]}])
    total, n = eval_bpb.torch_nll(tiny, ids, 32, 16)
    assert sum(res[0]["n"]) == n == 49 and abs(sum(res[0]["nll"]) - total) < 1e-3
    for p, out in zip(prompts, res[1]["outputs"]):
        assert out == tiny.generate_greedy(p, 8)
    assert res[2]["outputs"][0][0] != res[1]["outputs"][0][0]
    # stop after the 2nd soft stop token
    first = res[1]["outputs"][0]
    soft = run_ort_eval([{"cmd": "generate", "model": path, "prompts": [prompts[0]], "max_new": 8, "stop": [],
                          "stop_soft": [first[1], first[3]], "stop_after": 2}])[0]["outputs"][0]
    k = [i for i, t in enumerate(first) if t in (first[1], first[3])][1]
    assert soft == first[:k + 1]


@needs_ort
def test_parity_report(tiny, tmp_path):
    from training.eval.evaluate import parity
    from training.export.export import export_decoder_onnx
    cfg = tiny.config
    path = str(tmp_path / "model.onnx")
    export_decoder_onnx(tiny, path, cfg.n_layer, cfg.n_head, cfg.head_dim, cfg.vocab_size)
    r = parity(tiny, [path], list(range(6, 26)), steps=6)["model.onnx"]
    assert r["max_abs_logit_diff"] < 1e-4 and r["cosine_min"] > 0.99999 and r["same_argmax"] == 1.0
    assert r["greedy_identical"] == 6 and r["positions"] == 20


@needs_ort
def test_main_entry_points_end_to_end(tmp_path):
    """eval_bpb.main and eval_fim.main on a tiny exported model with the fixture tokenizer (vocab 512)."""
    import json
    from training.export.export import export_decoder_onnx
    from training.model.checkpoint import save_shards
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tokenizer = os.path.join(root, "test", "fixtures", "models", "tokenizer.json")
    torch.manual_seed(1)
    model = GPT(GPTConfig(vocab_size=512, block_size=64, n_layer=1, n_head=2, n_embd=16)).eval()
    ckpt = tmp_path / "ckpt"
    save_shards(model, str(ckpt), {"stage": "test", "step": 0, "model_config": model.config.to_dict()})
    onnx_path = str(tmp_path / "model.onnx")
    export_decoder_onnx(model, onnx_path, 1, 2, 8, 512)
    docs = tmp_path / "docs.jsonl"
    with open(docs, "w") as f:
        for d in DOCS:
            f.write(json.dumps({**d, "source": "test", "licence": "MIT", "text": d["text"] * 4}) + "\n")
    out = eval_bpb.main(["--ckpt", str(ckpt), "--onnx", onnx_path, "--onnx-languages", "all", "--docs", str(docs),
                         "--tokenizer", tokenizer, "--window", "32", "--stride", "16",
                         "--json", str(tmp_path / "bpb.json")])
    ck = out["checkpoints"][os.path.relpath(str(ckpt))]
    ox = out["onnx"][os.path.relpath(onnx_path)]
    for lang in ("python", "javascript", "typescript", "all"):
        assert abs(ck[lang]["bpb"] - ox[lang]["bpb"]) < 1e-4 and ck[lang]["tokens"] == ox[lang]["tokens"] > 0
    assert out["xz"]["all"]["concat"] > 0
    res = eval_fim.main(["--onnx", onnx_path, "--docs", str(docs), "--tokenizer", tokenizer, "--cases", "2,1,1",
                         "--modes", "fim,plain_eot,plain_raw_ban", "--context", "64", "--max-new", "8",
                         "--json", str(tmp_path / "fim.json"), "--cases-out", str(tmp_path / "cases.jsonl")])
    assert len(res["runs"]) == 3
    for r in res["runs"].values():
        assert r["all"]["n"] == 4 and 0 <= r["all"]["em"] <= 1
    assert len(open(tmp_path / "cases.jsonl").read().splitlines()) == 4
    whole = eval_fim.main(["--onnx", onnx_path, "--docs", str(docs), "--tokenizer", tokenizer, "--cases", "2,1,1",
                           "--modes", "plain_raw_eot", "--context", "64", "--max-new", "8", "--whole-prefix"])
    assert whole["method"]["n"] < 4  # the later lines of these files do not fit in 64 - 8 - 1 tokens
