"""
A docstring's doctest examples: which of them a test can state, the pytest test that states them, and running them
(or a generated test) against a function in a separate, isolated Python.
"""
import ast
import builtins
import doctest
import json
import os
import resource
import subprocess
import sys
import tempfile


def doctest_examples(doc: str, name: str) -> list[dict]:
    """The docstring's doctest examples that a pytest test can state, as {source, want, exc_msg} (exc_msg: the
    expected builtin exception's line, else None); [] unless one of them checks a call of `name`."""
    try:
        examples = doctest.DocTestParser().get_examples(doc)
    except ValueError:
        return []
    out = []
    for ex in examples:
        if "doctest:" in ex.source or "print(" in ex.source:
            continue
        try:
            ast.parse(ex.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # ValueError: a NUL byte in the example
            continue
        want = ex.want.strip()
        if ex.exc_msg is not None:
            if not isinstance(getattr(builtins, _exception_name(ex.exc_msg), None), type):
                continue
        elif want and ("\n" in want or "..." in want or not _is_literal(want)):
            continue
        out.append({"source": ex.source, "want": ex.want, "exc_msg": ex.exc_msg})
    while out and not (out[-1]["want"].strip() or out[-1]["exc_msg"]):
        out.pop()  # statements after the last checked example set up nothing
    return out if checks_a_call(out, name) else []


def checks_a_call(examples: list[dict], name: str) -> bool:
    """Whether one of the examples states what a call of `name` gives."""
    return any(e["want"].strip() and e["exc_msg"] is None and f"{name}(" in e["source"] for e in examples)


def _exception_name(exc_msg: str) -> str:
    return exc_msg.split(":")[0].strip()


def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
        return True
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _is_expression(source: str) -> bool:
    try:
        ast.parse(source, mode="eval")
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _indented(code: str, depth: int = 1) -> str:
    return "\n".join("    " * depth + line for line in code.split("\n"))


def pytest_function(name: str, examples: list[dict]) -> str:
    """A pytest test that states the examples: `assert f(x) == y`, `pytest.raises` for exceptions."""
    lines, uses_pytest = [], False
    for ex in examples:
        src, want = ex["source"].rstrip("\n"), ex["want"].strip()
        if ex["exc_msg"] is not None:
            uses_pytest = True
            lines.append(f"    with pytest.raises({_exception_name(ex['exc_msg'])}):\n{_indented(src, 2)}")
        elif want and _is_expression(src):
            op = "is" if want in ("None", "True", "False") else "=="
            lines.append(_indented(f"assert {src} {op} {want}"))
        else:
            lines.append(_indented(src))
    test = f"def test_{name.strip('_')}():\n" + "\n".join(lines) + "\n"
    return ("import pytest\n\n\n" if uses_pytest else "") + test



# --- running doctest examples in isolation -------------------------------------------------------------

def file_imports(text: str) -> list[str]:
    """The module-level absolute imports of a Python file (what its functions may use besides builtins)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [ast.unparse(node) for node in tree.body  # an import has no comments or layout to keep
            if isinstance(node, ast.Import) or isinstance(node, ast.ImportFrom) and node.level == 0
            and node.module != "__future__"]


EXAMPLE_RUNNER = r"""
import doctest, json, sys
job = json.load(open(sys.argv[1], encoding="utf-8"))
result = {"error": None, "passed": [], "tests": {}}
globs = {"__name__": "__chat_eval__"}
for statement in job["imports"]:
    try:
        exec(statement, globs)
    except BaseException:
        pass  # a module missing here: what needs it fails on its own
try:
    exec(compile(job["code"], "<answer>", "exec"), globs)
except BaseException as e:
    result["error"] = f"{type(e).__name__}: {e}"[:300]
if result["error"] is None:
    runner = doctest.DocTestRunner()
    for ex in job["examples"]:
        example = doctest.Example(ex["source"], ex["want"], exc_msg=ex["exc_msg"])
        test = doctest.DocTest([example], globs, "example", None, 0, None)
        result["passed"].append(runner.run(test, out=lambda s: None, clear_globs=False).failed == 0)
    tests = [n for n in list(globs) if n.startswith("test") and callable(globs[n])] if job["run_tests"] else []
    for name in tests:
        try:
            globs[name]()
            result["tests"][name] = True
        except BaseException:
            result["tests"][name] = False
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(result, f)
"""


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run_examples(code: str, examples: list[dict], imports: list[str] = (), run_tests: bool = False,
                 timeout: float = 5.0) -> dict:
    """Exec each import statement that works, then `code`, in a fresh Python (-I: no user site-packages, no PYTHON*
    variables; in a temporary folder; 2 GiB of memory), then run each doctest example ({source, want, exc_msg})
    against its globals, in order, and with run_tests every `test*` function it defines. Returns {"error",
    "passed": [bool per example], "tests": {name: bool}}; a timeout or a crash is an error with nothing passed."""
    with tempfile.TemporaryDirectory() as d:
        job, out = os.path.join(d, "job.json"), os.path.join(d, "out.json")
        with open(job, "w", encoding="utf-8") as f:
            json.dump({"imports": list(imports), "code": code, "examples": examples, "run_tests": run_tests}, f)
        try:
            subprocess.run([sys.executable, "-I", "-c", EXAMPLE_RUNNER, job, out], cwd=d, timeout=timeout,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           preexec_fn=_limit_memory)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:g} s", "passed": [False] * len(examples), "tests": {}}
        if not os.path.exists(out):
            return {"error": "the process died", "passed": [False] * len(examples), "tests": {}}
        with open(out, encoding="utf-8") as f:
            return json.load(f)
