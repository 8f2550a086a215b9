"""
A checkpoint's answers to the held-out chat set (chat_eval.jsonl: prompts on functions of the held-out files, written
by data/prepare.py with chat_data.write_chat_eval), scored automatically.

    nice /usr/bin/python3 -m training.eval.eval_chat --ckpt training/runs/cpu/sft \
        [--tokenizer training/.data/tokenizer.json] [--data training/.data] [--limit N] [--max-new-tokens 256] \
        [--out CKPT_DIR/eval_chat.json]

Each prompt (the messages up to the last user turn, rendered with the ChatML template and the assistant's generation
prompt) is answered greedily until <|im_end|>, --max-new-tokens or the end of the model's context, and scored:
  names_function     the answer names the function (its name as a whole word)
  identifiers_share  the share of the function's own identifiers (its name, parameters, local names) it names
  mentions           names_function, or for an explanation at least one of those identifiers
  parses             answers that should be code (write, complete, docstring, fix, test, rename): the first fenced
                     block, or the whole answer without one, parses (Python: ast; JS/TS: the TypeScript parser of
                     node_modules/typescript, as written or as a class member for a method, every answer in one node
                     process; not scored without node or the package)
  examples_pass      Python prompts whose function has doctest examples that pass against the original function (with
                     its file's imports, see chat_data.verified_examples): a write, complete, docstring, fix or rename
                     answer must define the function, and every example must pass against the answer's code, run in a
                     fresh `python -I` with a timeout (docstring_examples.run_examples); an answer without the function fails
  tests_pass         test answers on such functions: the test functions of the answer, run against the original, pass
Prints a table by task and overall, and writes every answer with its scores to --out.
"""
import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import torch

from training.data.bpe import SPECIAL_TOKENS, BPETokenizer
from training.data.chat_data import render
from training.data.docstring_examples import run_examples
from training.eval.evaluate import write_json
from training.model.checkpoint import load_model, resolve_ckpt
from training.paths import DATA, ROOT

CODE_KINDS = ("write", "complete", "docstring", "fix", "test", "rename")
DEFINES_FUNCTION = ("write", "complete", "docstring", "fix", "rename")  # the answer is the whole function
TYPESCRIPT = os.path.join(ROOT, "node_modules", "typescript")
RUN_TIMEOUT_S = 5.0  # for one answer's examples or tests: an endless loop is a failure, not a hang
# closed by a fence as long as the opening one; an unclosed fence: the answer ran out of tokens
_FENCED = re.compile(r"^(`{3,})[\w+-]*[ \t]*\n(.*?)(?:^\1`*[ \t]*$|\Z)", re.S | re.M)

# Syntax only (transpileModule reports the parser's diagnostics, no type checking). A class method mined from a
# class body is not a statement on its own, so code that fails as written is tried again inside a class.
SYNTAX_CHECK_JS = r"""
const fs = require('fs');
const ts = require(process.argv[2]);
const jobs = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const errors = (code, fileName) =>
  (ts.transpileModule(code, { fileName, reportDiagnostics: true }).diagnostics || [])
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
const results = jobs.map(({ code, language }) => {
  const fileName = language === 'typescript' ? 'answer.ts' : 'answer.js';
  const asWritten = errors(code, fileName);
  return asWritten.length === 0 || errors(`class Answer {\n${code}\n}`, fileName).length === 0 ? null : asWritten[0];
});
fs.writeFileSync(process.argv[4], JSON.stringify(results));
"""


def typescript_unavailable_reason() -> str | None:
    """None when the JS/TS syntax check can run, else why not."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not os.path.isfile(os.path.join(TYPESCRIPT, "package.json")):
        return "node_modules/typescript is absent (run npm install)"
    return None


def js_syntax_errors(jobs: list[dict], timeout: float = 300) -> list[str | None]:
    """For each {code, language} (javascript or typescript), None if it parses, else the parser's first message;
    all in one node process."""
    with tempfile.TemporaryDirectory() as d:
        script, jobs_path, out = (os.path.join(d, n) for n in ("check.cjs", "jobs.json", "out.json"))
        with open(script, "w", encoding="utf-8") as f:
            f.write(SYNTAX_CHECK_JS)
        with open(jobs_path, "w", encoding="utf-8") as f:
            json.dump(jobs, f)
        proc = subprocess.run(["node", script, TYPESCRIPT, jobs_path, out], capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"the TypeScript syntax check failed ({proc.returncode}): {proc.stderr[-2000:]}")
        with open(out, encoding="utf-8") as f:
            return json.load(f)


def answer_code(answer: str) -> str:
    """The first fenced block of an answer, or the whole answer when it has none."""
    m = _FENCED.search(answer)
    return m.group(2) if m else answer


def names(identifier: str, text: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(identifier)}(?![\w$])", text) is not None


def python_tree(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def python_code_scores(ex: dict, code: str) -> dict:
    """parses; for a function with runnable examples, defines_function and the examples' results (write, complete,
    docstring, fix, rename) or tests_pass (test)."""
    tree = python_tree(code) if code.strip() else None  # an empty answer parses, but holds no code
    out = {"parses": tree is not None}
    doctest = ex.get("doctest")
    if doctest and ex["kind"] in DEFINES_FUNCTION:
        defines = tree is not None and any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == ex["name"]
                                           for n in ast.walk(tree))
        passed, error = 0, None
        if defines:
            run = run_examples(code, doctest["examples"], doctest["imports"], timeout=RUN_TIMEOUT_S)
            passed, error = sum(run["passed"]), run["error"]
        total = len(doctest["examples"])
        out.update(defines_function=defines, examples_passed=passed, examples_total=total, examples_pass=passed == total,
                   run_error=error)
    elif doctest and ex["kind"] == "test":
        run = {"tests": {}, "error": "does not parse"}
        if tree is not None:
            run = run_examples(doctest["function_source"] + "\n\n" + code, [], doctest["imports"], run_tests=True,
                               timeout=RUN_TIMEOUT_S)
        out.update(tests_pass=bool(run["tests"]) and all(run["tests"].values()), run_error=run["error"])
    return out


def score_answers(examples: list[dict], answers: list[str]) -> list[dict]:
    """The scores of each answer to its held-out example (a chat_eval.jsonl record); see the module's docstring.
    A score that does not apply is None."""
    results, js_jobs = [], []
    for ex, answer in zip(examples, answers):
        named = [i for i in ex["identifiers"] if names(i, answer)]
        r = {"id": ex["id"], "kind": ex["kind"], "language": ex["language"], "name": ex["name"], "answer": answer,
             "names_function": names(ex["name"], answer), "identifiers_share": len(named) / len(ex["identifiers"]),
             "parses": None, "parse_not_scored": None, "defines_function": None, "examples_passed": None,
             "examples_total": None, "examples_pass": None, "tests_pass": None, "run_error": None,
             "ended": None}  # whether generation ended with <|im_end|>: set by whoever generated the answer
        r["mentions"] = r["names_function"] or (ex["kind"] == "explain" and bool(named))
        code = answer_code(answer)
        if ex["kind"] in CODE_KINDS and ex["language"] == "python":
            r.update(python_code_scores(ex, code))
        elif ex["kind"] in CODE_KINDS and code.strip():
            js_jobs.append((r, {"code": code, "language": ex["language"]}))
        elif ex["kind"] in CODE_KINDS:
            r["parses"] = False
        results.append(r)
    if js_jobs:
        why_not = typescript_unavailable_reason()
        errors = [None] * len(js_jobs) if why_not else js_syntax_errors([job for _, job in js_jobs])
        for (r, _), error in zip(js_jobs, errors):
            r["parses"], r["parse_not_scored"] = (None, why_not) if why_not else (error is None, None)
    return results


def score_answer(example: dict, answer: str) -> dict:
    return score_answers([example], [answer])[0]


def summarize(results: list[dict]) -> dict:
    """Rates by task and overall: each over the answers it applies to (its `_scored` count)."""
    def rates(rs: list[dict]) -> dict:
        def scored(key: str) -> int:
            return sum(r[key] is not None for r in rs)

        def rate(key: str) -> float | None:
            return sum(bool(r[key]) for r in rs if r[key] is not None) / scored(key) if scored(key) else None

        passed = sum(r["examples_passed"] for r in rs if r["examples_total"])
        total = sum(r["examples_total"] for r in rs if r["examples_total"])
        return {"examples": len(rs), "ended": rate("ended"), "names_function": rate("names_function"),
                "identifiers_share": sum(r["identifiers_share"] for r in rs) / len(rs), "mentions": rate("mentions"),
                "parses_scored": scored("parses"), "parses": rate("parses"),
                "parses_not_scored": sum(r["parse_not_scored"] is not None for r in rs),
                "examples_scored": scored("examples_pass"), "examples_pass": rate("examples_pass"),
                "examples_passed_share": passed / total if total else None,
                "tests_scored": scored("tests_pass"), "tests_pass": rate("tests_pass")}
    kinds = sorted({r["kind"] for r in results})
    return {**{k: rates([r for r in results if r["kind"] == k]) for k in kinds}, "overall": rates(results)}


def print_table(summary: dict) -> None:
    pct = lambda x: "" if x is None else f"{100 * x:.0f}%"  # noqa: E731
    print("| task | examples | ended | names the function | identifiers named | mentions | parses (scored) "
          "| examples pass (scored) | tests pass (scored) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind, s in summary.items():
        not_scored = f", {s['parses_not_scored']} not scored" if s["parses_not_scored"] else ""
        print(f"| {kind} | {s['examples']} | {pct(s['ended'])} | {pct(s['names_function'])} | "
              f"{pct(s['identifiers_share'])} | {pct(s['mentions'])} | {pct(s['parses'])} ({s['parses_scored']}{not_scored}) | "
              f"{pct(s['examples_pass'])} ({s['examples_scored']}) | {pct(s['tests_pass'])} ({s['tests_scored']}) |")


def generate_answer(model, tok: BPETokenizer, messages: list[dict], max_new_tokens: int) -> tuple[str, bool]:
    """The greedy answer to the conversation and whether it ended with <|im_end|> (else: out of tokens or context)."""
    ids = tok.encode(render(messages, add_generation_prompt=True), allow_special=True)
    room = min(max_new_tokens, model.config.block_size - len(ids))
    if room <= 0:
        return "", False
    end = tok.token_to_id("<|im_end|>")
    specials = {tok.token_to_id(t) for t in SPECIAL_TOKENS}
    with torch.no_grad():
        out = model.generate_greedy(ids, room, eos_id=end)
    stop = next((k for k, i in enumerate(out) if i in specials), len(out))
    return tok.decode(out[:stop]), stop < len(out) and out[stop] == end


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer", default=os.path.join(DATA, "tokenizer.json"))
    ap.add_argument("--data", default=DATA, help="the folder holding chat_eval.jsonl")
    ap.add_argument("--limit", type=int, default=None, help="score only the first N prompts")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--out", default=None, help="JSON with every answer and its scores (default: beside the checkpoint)")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    model = load_model(args.ckpt)[0].eval()
    tok = BPETokenizer.load_hf(args.tokenizer)
    with open(os.path.join(args.data, "chat_eval.jsonl"), encoding="utf-8") as f:
        examples = [json.loads(line) for line in f][:args.limit]
    answers, ended, start = [], [], time.time()
    for n, ex in enumerate(examples, 1):
        text, done = generate_answer(model, tok, ex["messages"], args.max_new_tokens)
        answers.append(text)
        ended.append(done)
        if n % 20 == 0 or n == len(examples):
            print(f"  {n}/{len(examples)} answered, {time.time() - start:.0f} s", flush=True)
    results = score_answers(examples, answers)
    for r, done in zip(results, ended):
        r["ended"] = done
    summary = summarize(results)
    print(f"{args.ckpt} on {os.path.join(args.data, 'chat_eval.jsonl')} ({len(examples)} prompts, greedy, "
          f"at most {args.max_new_tokens} new tokens)")
    print_table(summary)
    out = args.out or os.path.join(os.path.dirname(resolve_ckpt(args.ckpt)), "eval_chat.json")
    report = {"ckpt": os.path.abspath(args.ckpt), "data": os.path.abspath(args.data), "examples": len(examples),
              "max_new_tokens": args.max_new_tokens, "summary": summary, "results": results}
    write_json(out, report)
    print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
