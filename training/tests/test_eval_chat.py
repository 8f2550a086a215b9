"""eval_chat's automatic scores on hand-written answers, and its whole run on a tiny random checkpoint."""
import functools
import json
import os
import time

import pytest
import torch

from training.data import chat_data
from training.data.bpe import SPECIAL_TOKENS, train_bpe
from training.eval import eval_chat
from training.eval.eval_chat import score_answer, score_answers
from training.model.checkpoint import save_shards
from training.model.model import GPT, GPTConfig

TS_SKIP = eval_chat.typescript_unavailable_reason()
needs_ts = pytest.mark.skipif(TS_SKIP is not None, reason=f"TypeScript syntax check unavailable: {TS_SKIP}")

PY = '''
import math


def hypotenuse(a, b):
    """Return the length of the hypotenuse of a right triangle.

    >>> hypotenuse(3, 4)
    5.0
    >>> hypotenuse(5, 12)
    13.0
    """
    return math.sqrt(a * a + b * b)


def count_vowels(text):
    """Count the vowels in a text.

    >>> count_vowels("banana")
    3
    """
    total = 0
    for char in text:
        if char in "aeiou":
            total += 1
    return total
'''

TS = '''
/**
 * Clamps a number between a lower and an upper bound.
 * @param x - the value
 */
export function clamp(x: number, lo: number, hi: number): number {
  if (x < lo) return lo;
  return x > hi ? hi : x;
}
'''

DOCS = [{"path": "geometry.py", "language": "python", "text": PY}, {"path": "clamp.ts", "language": "typescript", "text": TS}]
GOOD = "def hypotenuse(a, b):\n    return math.sqrt(a * a + b * b)\n"


@functools.lru_cache(maxsize=None)
def held_out_records():
    return {r["name"]: r for r in chat_data.build_chat_eval(DOCS, 20, seed=0)}


def example(kind, name="hypotenuse", language="python", with_doctest=True):
    """A held-out record as build_chat_eval writes it, for a given task."""
    records = held_out_records()
    fn = next(f for d in DOCS for f in chat_data.mine_functions(d) if f["name"] == name)
    record = dict(records[name], kind=kind, language=language)
    if with_doctest and not record["doctest"]:
        record["doctest"] = {"function_source": fn["full"], "imports": ["import math"], "examples": fn["examples"]}
    return record


def test_a_correct_answer_scores_everywhere():
    r = score_answer(example("write"), f"Here it is:\n```python\n{GOOD}```\nIt uses `a` and `b`.")
    assert r["names_function"] and r["mentions"] and r["parses"] and r["defines_function"]
    assert (r["examples_passed"], r["examples_total"], r["examples_pass"]) == (2, 2, True)
    assert r["identifiers_share"] == 1.0  # hypotenuse, a, b


def test_a_wrong_implementation_fails_the_examples():
    r = score_answer(example("fix"), "```python\ndef hypotenuse(a, b):\n    return math.sqrt(a * a - b * b)\n```")
    assert r["parses"] and r["defines_function"] and r["examples_pass"] is False and r["examples_passed"] == 0
    r = score_answer(example("complete"), "```python\ndef other(a, b):\n    return 5.0\n```")
    assert r["defines_function"] is False and r["examples_pass"] is False and not r["names_function"]


def test_a_syntax_error_fails_to_parse():
    r = score_answer(example("write"), "```python\ndef hypotenuse(a, b)\n    return a\n```")
    assert r["parses"] is False and r["examples_pass"] is False
    for ex in (example("write"), example("write", "clamp", "typescript", with_doctest=False)):
        assert score_answer(ex, "")["parses"] is False  # no code at all is no parse


def test_an_endless_loop_times_out_as_a_failure(monkeypatch):
    monkeypatch.setattr(eval_chat, "RUN_TIMEOUT_S", 1.0)
    start = time.time()
    r = score_answer(example("write"), "```python\ndef hypotenuse(a, b):\n    while True:\n        pass\n```")
    assert time.time() - start < 10
    assert r["examples_pass"] is False and r["examples_passed"] == 0 and "timed out" in r["run_error"]


def test_explanations_are_scored_on_the_names_they_use():
    ex = example("explain", "count_vowels", with_doctest=False)
    assert ex["identifiers"] == ["count_vowels", "text", "total", "char"]
    r = score_answer(ex, "It counts the vowels of `text` one `char` at a time.")
    assert not r["names_function"] and r["mentions"] and r["identifiers_share"] == 0.5
    assert r["parses"] is None and r["examples_pass"] is None  # an explanation is not code
    r = score_answer(ex, "It counts vowels; contexts and totals are words, not the identifiers.")
    assert not r["mentions"] and r["identifiers_share"] == 0.0


def test_generated_tests_run_against_the_original():
    ex = example("test")
    r = score_answer(ex, "```python\ndef test_hypotenuse():\n    assert hypotenuse(3, 4) == 5.0\n```")
    assert r["parses"] and r["tests_pass"] and r["examples_pass"] is None
    r = score_answer(ex, "```python\ndef test_hypotenuse():\n    assert hypotenuse(3, 4) == 6.0\n```")
    assert r["tests_pass"] is False
    assert score_answer(ex, "assert hypotenuse(3, 4) == 5.0")["tests_pass"] is False  # no test function at all


@needs_ts
def test_typescript_answers_are_parsed_in_one_node_process():
    ex = example("fix", "clamp", "typescript", with_doctest=False)
    good = "```ts\nexport function clamp(x: number, lo: number, hi: number): number {\n  return x < lo ? lo : x;\n}\n```"
    broken = "```ts\nexport function clamp(x: number {\n  return x\n```"
    method = "```ts\nclamp(x: number): number {\n  return x;\n}\n```"  # a class method, as mined from a class
    results = score_answers([ex, ex, ex, dict(ex, language="javascript")],
                            [good, broken, method, "```js\nconst f = (x: number) => x;\n```"])
    assert [r["parses"] for r in results] == [True, False, True, False]  # type annotations are not JavaScript
    assert all(r["parse_not_scored"] is None for r in results)


def test_javascript_is_not_scored_without_the_parser(monkeypatch):
    monkeypatch.setattr(eval_chat, "typescript_unavailable_reason", lambda: "node is not on PATH")
    ex = example("write", "clamp", "typescript", with_doctest=False)
    r = score_answer(ex, "```ts\nfunction clamp() {}\n```")
    assert r["parses"] is None and r["parse_not_scored"] == "node is not on PATH"
    s = eval_chat.summarize([dict(r, ended=True)])
    assert s["overall"]["parses_not_scored"] == 1 and s["overall"]["parses_scored"] == 0


def test_end_to_end_on_a_tiny_checkpoint(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    stats = chat_data.write_chat_eval(str(data / "chat_eval.jsonl"), DOCS, 10, seed=0)
    assert stats["examples"] == 3 and stats["by_language"] == {"python": 2, "typescript": 1}
    tok = train_bpe([PY * 3, TS * 3, chat_data.SYSTEM_PROMPT * 3], 300, SPECIAL_TOKENS)
    tok.save_hf(str(data / "tokenizer.json"))
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=2048, n_layer=1, n_head=2, n_embd=32))
    save_shards(model, str(tmp_path / "ckpt"), {"model_config": model.config.to_dict(), "step": 0})
    out = tmp_path / "scores.json"
    eval_chat.main(["--ckpt", str(tmp_path / "ckpt"), "--tokenizer", str(data / "tokenizer.json"), "--data", str(data),
                    "--max-new-tokens", "6", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["examples"] == 3 and len(report["results"]) == 3
    fields = {"id", "kind", "language", "name", "answer", "ended", "names_function", "identifiers_share", "mentions",
              "parses", "parse_not_scored", "defines_function", "examples_passed", "examples_total", "examples_pass",
              "tests_pass", "run_error"}
    assert all(set(r) == fields for r in report["results"])
    summary = report["summary"]
    assert summary["overall"]["examples"] == 3
    assert sum(s["examples"] for kind, s in summary.items() if kind != "overall") == 3
    assert set(summary) == {r["kind"] for r in report["results"]} | {"overall"}
    assert os.path.exists(out)
