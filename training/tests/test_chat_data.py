import difflib
import random
import re

import pytest

from training.data import chat_data, chat_tasks
from training.data.bpe import SPECIAL_TOKENS, train_bpe
from training.data.chat_data import (build_chat_eval, build_conversations, js_functions, make_conversation,
                                     mine_functions, python_functions, render, tokenize_conversation,
                                     tokenize_conversations)

PY = '''
import os


def area(width, height):
    """Compute the area of a rectangle.

    Both sides must be non-negative.
    """
    assert width >= 0 and height >= 0
    return width * height


class Box:
    def volume(self, depth):
        """Returns the volume of the box for a given depth."""
        a = area(self.w, self.h)
        return a * depth

    def undocumented(self):
        return 1
'''

TS = '''
/**
 * Clamps a number between a lower and an upper bound.
 * @param x - the value
 * @param lo - the lower bound
 * @returns the clamped value
 */
export function clamp(x: number, lo: number, hi: number): number {
  if (x < lo) return lo;
  return x > hi ? hi : x;
}

/** Joins the parts of a path with forward slashes. */
const joinPath = (...parts: string[]): string => {
  const s = parts.join("/");
  return s.replace(/\\/+/g, "/");
};
'''

# doctest examples (one raising), a loop, a comment inside the code; `limits` is a module global the examples miss
PY_DOCTEST = '''
import math

LIMITS = (0, 10)


def total_until(values, limit):
    """Sum the values from the start while the running total stays below limit.

    :param values: the numbers to add
    >>> total_until([1, 2, 3, 4], 7)
    6
    >>> total_until([], 5)
    0
    >>> total_until([1], -1)
    Traceback (most recent call last):
    ...
    ValueError: negative limit
    """
    if limit < 0:
        raise ValueError("negative limit")
    total = 0
    for i in range(len(values)):
        if total + values[i] >= limit:  # stop before passing the limit
            break
        total += values[i]
    return total


def hypotenuse(a, b):
    """Return the length of the hypotenuse of a right triangle.

    >>> hypotenuse(3, 4)
    5.0
    >>> hypotenuse(0, LIMITS[1])
    10.0
    """
    return math.sqrt(a * a + b * b)


def is_adult(age):
    """Tell whether a person of this age is an adult."""
    # the law says 18
    return age >= 18
'''

SORRY = '''
def apologise(name):
    """Say that we cannot help, politely.

    The message reads: I'm sorry, I can't do that.
    """
    text = "no"
    return text + name
'''

DOCS = [{"path": "a.py", "language": "python", "text": PY}, {"path": "b.ts", "language": "typescript", "text": TS},
        {"path": "c.py", "language": "python", "text": PY_DOCTEST}]


@pytest.fixture(scope="module")
def tok():
    return train_bpe([PY * 5, TS * 5, PY_DOCTEST * 3, chat_data.SYSTEM_PROMPT * 3], 400, SPECIAL_TOKENS)


def mined(text, name, language="python"):
    return next(fn for fn in mine_functions({"path": "x", "language": language, "text": text}) if fn["name"] == name)


def fenced(text):
    return re.search(r"```\w*\n(.*?)\n```", text, re.S).group(1) + "\n"


def test_python_functions():
    fns = {f["name"]: f for f in python_functions(PY)}
    assert set(fns) == {"area", "volume"}
    a = fns["area"]
    assert a["signature"] == "def area(width, height):"
    assert a["doc"].startswith("Compute the area of a rectangle.")
    assert '"""' in a["full"] and '"""' not in a["nodoc"]
    assert a["nodoc"] == "def area(width, height):\n    assert width >= 0 and height >= 0\n    return width * height\n"
    assert fns["volume"]["full"].startswith("def volume(self, depth):\n    \"\"\"")  # dedented method
    assert python_functions("def broken(:\n") == []


def test_js_functions():
    fns = {f["name"]: f for f in js_functions(TS)}
    assert set(fns) == {"clamp", "joinPath"}
    c = fns["clamp"]
    assert c["doc"] == "Clamps a number between a lower and an upper bound."
    assert c["param_docs"] == [("x", "the value"), ("lo", "the lower bound")] and c["returns_doc"] == "the clamped value"
    assert c["nodoc"].startswith("export function clamp(") and c["nodoc"].rstrip().endswith("}")
    assert c["full"].startswith("/**") and "/**" not in c["nodoc"]
    assert fns["joinPath"]["nodoc"].rstrip().endswith("};")


def test_facts_read_from_the_code():
    f = mined(PY_DOCTEST, "total_until")["facts"]
    assert f["params"] == ["values", "limit"] and f["locals"] == ["total", "i"]
    assert f["raises"] == [("ValueError", "limit < 0")] and f["checks"] == ["total + values[i] >= limit"]
    assert f["loops"] == [("for", "i", "range(len(values))")] and f["calls"] == ["range", "len"]
    assert f["returns"] == ["total"]
    assert mined(PY, "volume")["facts"]["params"] == ["depth"]  # self is not a parameter to explain
    c = mined(TS, "clamp", "typescript")["facts"]
    assert c["params"] == ["x", "lo", "hi"] and c["checks"] == ["x < lo"] and c["returns"] == ["lo", "x > hi ? hi : x"]
    j = mined(TS, "joinPath", "typescript")["facts"]
    assert j["params"] == ["parts"] and j["locals"] == ["s"] and j["calls"] == ["parts.join", "s.replace"]
    assert j["returns"] == ['s.replace(/\\/+/g, "/")']  # quoted from the source, not from the blanked copy


def test_explain_names_the_function_its_parameters_and_what_the_code_does():
    reply = chat_tasks.explain_reply(mined(PY, "area"), "python")
    assert reply.startswith("`area` is a Python function to compute the area of a rectangle.")
    assert "Both sides must be non-negative." in reply  # the rest of the docstring
    for fact in ("It takes `width` and `height`.", "It checks `width >= 0 and height >= 0`.", "It returns `width * height`."):
        assert fact in reply
    reply = chat_tasks.explain_reply(mined(PY_DOCTEST, "total_until"), "python")
    assert ">>>" not in reply  # the examples are not prose
    for fact in ("It raises `ValueError` when `limit < 0`.", "It loops over `range(len(values))`, one `i` at a time.",
                 "It keeps its intermediate results in `total` and `i`."):
        assert fact in reply
    reply = chat_tasks.explain_reply(mined(TS, "clamp", "typescript"), "typescript")
    assert reply.startswith("`clamp` is a TypeScript function that clamps a number")
    assert "  - `x`: the value\n  - `lo`: the lower bound\n  - `hi`\n" in reply and "It returns the clamped value." in reply


def test_test_task_states_the_doctest_examples_and_passes_against_the_function():
    fn = mined(PY_DOCTEST, "total_until")
    assert [(e["want"], e["exc_msg"]) for e in fn["examples"]][:2] == [("6\n", None), ("0\n", None)]
    assert fn["examples"][2]["exc_msg"] == "ValueError: negative limit\n"
    conv = make_conversation(fn, "python", random.Random(0), multi_turn_rate=0, first_kind="test")
    assert conv["turns"] == ["test"] and fn["full"].rstrip() in conv["messages"][1]["content"]
    test = fenced(conv["messages"][2]["content"])
    assert "    assert total_until([1, 2, 3, 4], 7) == 6\n" in test
    assert "    with pytest.raises(ValueError):\n        total_until([1], -1)\n" in test
    ns = {}
    exec(fn["full"] + "\n" + test, ns)
    ns["test_total_until"]()
    wrong = fn["full"].replace("return total\n", "return total + 1\n")
    exec(wrong + "\n" + test, ns)
    with pytest.raises(AssertionError):
        ns["test_total_until"]()
    # no examples: no test task, and the drawn tasks never include it
    assert make_conversation(mined(PY, "area"), "python", random.Random(0), first_kind="test") is None
    assert all("test" not in c["turns"] for s in range(20) for c in build_conversations(DOCS[:2], seed=s))


def token_changes(a: str, b: str):
    ta, tb = chat_tasks._tokens(a), chat_tasks._tokens(b)
    return [(ta[i1:i2], tb[j1:j2]) for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb).get_opcodes()
            if op != "equal"]


def test_fix_task_shows_one_operator_changed_and_answers_with_the_original():
    fn = mined(PY_DOCTEST, "is_adult")
    conv = make_conversation(fn, "python", random.Random(0), multi_turn_rate=0, first_kind="fix")
    buggy = fenced(conv["messages"][1]["content"])
    assert buggy == fn["full"].replace("age >= 18", "age > 18")  # the comment and layout as written
    assert "# the law says 18" in buggy
    reply = conv["messages"][2]["content"]
    assert reply.startswith("The bug is on line 4, `return age > 18`, which has `>` where `is_adult` needs `>=`.")
    assert fenced(reply) == fn["full"]
    # every bug the longer function can get is one token-level edit: the one its sentence names
    fn = mined(PY_DOCTEST, "total_until")
    expected = {("<", "<="): (["<"], ["<="]), (">=", ">"): ([">="], [">"]), ("+", "-"): (["+"], ["-"]),
                ("+=", "-="): (["+="], ["-="]), ("len(values)", "len(values) - 1"): ([], ["-", "1"]),
                ("total", "values"): (["total"], ["values"])}
    bugs = chat_tasks.python_bugs(fn["full"], fn["facts"])
    assert {(b.shown_good, b.shown_bad) for b in bugs} == set(expected)
    for bug in bugs:
        assert chat_tasks.python_bug_is_exact(fn["full"], bug)
        assert token_changes(fn["full"], bug.apply(fn["full"])) == [expected[bug.shown_good, bug.shown_bad]]
    # an offset inside a string is refused: the edit would change a string token, not an operator
    bad = chat_tasks.Bug(fn["full"].index("negative limit") + 8, fn["full"].index("negative limit") + 9, "-", "-", " ")
    assert not chat_tasks.python_bug_is_exact(fn["full"], bad)


def test_js_fix_flips_one_operator_in_the_code_not_the_jsdoc():
    fn = mined(TS, "clamp", "typescript")
    bugs = chat_tasks.js_bugs(fn)
    assert [(b.shown_good, b.shown_bad) for b in bugs] == [("<", "<="), (">", ">=")]  # not "@param x - the value"
    for bug in bugs:
        lines = list(zip(fn["full"].split("\n"), bug.apply(fn["full"]).split("\n")))
        [(before, after)] = [(a, b) for a, b in lines if a != b]
        assert after == before.replace(f" {bug.shown_good} ", f" {bug.shown_bad} ", 1)
    conv = make_conversation(fn, "typescript", random.Random(1), multi_turn_rate=0, first_kind="fix")
    assert fenced(conv["messages"][2]["content"]) == fn["full"] and fenced(conv["messages"][1]["content"]) != fn["full"]


def test_rename_edits_every_use_and_the_parameter_docs_only():
    fn = mined(PY_DOCTEST, "total_until")
    renamed = chat_tasks.python_rename(fn["full"], "values", "items")
    assert renamed == (fn["full"].replace("values[i]", "items[i]").replace("len(values)", "len(items)")
                       .replace("total_until(values,", "total_until(items,").replace(":param values:", ":param items:"))
    assert "Sum the values from the start" in renamed  # prose keeps its words
    assert chat_tasks.python_rename(fn["full"], "values", "total") is None  # would merge two names


def test_multi_turn_conversations_mask_every_reply_and_nothing_else(tok):
    convs = [c for s in range(6) for c in build_conversations(DOCS, seed=s, multi_turn_rate=1.0)]
    assert {len(c["turns"]) for c in convs} == {2, 3}
    for c in convs:
        assert len(set(c["turns"])) == len(c["turns"]) and "rename" not in c["turns"][:-1]
        replies = [m["content"] for m in c["messages"] if m["role"] == "assistant"]
        assert [m["role"] for m in c["messages"]] == ["system"] + ["user", "assistant"] * len(replies)
        ids, mask = tokenize_conversation(c["messages"], tok)
        assert ids == tok.encode(render(c["messages"]), allow_special=True)
        runs = re.findall(r"1+", "".join(map(str, mask)))
        assert len(runs) == len(replies)
        assert tok.decode([i for i, m in zip(ids, mask) if m]) == "".join(r + "<|im_end|>" for r in replies)
    follow_ups = {k for c in convs for k in c["turns"][1:]}
    assert follow_ups == set(chat_data.FOLLOW_UP_WEIGHTS)
    # a follow-up works on the code as the conversation left it: a docstring only for code shown without one
    for c in convs:
        if "docstring" in c["turns"][1:]:
            assert c["turns"][0] == "explain"


def test_no_reply_declines():
    convs = [c for s in range(10) for c in build_conversations(DOCS + [{"path": "s.py", "language": "python", "text": SORRY}],
                                                               seed=s, multi_turn_rate=0.5)]
    assert convs and not any(c["path"] == "s.py" for c in convs)  # its replies would say "I'm sorry, I can't"
    refusal = re.compile(r"I can't|I cannot|I'm sorry|I am sorry|as an AI", re.I)
    assert not any(refusal.search(m["content"]) for c in convs for m in c["messages"] if m["role"] == "assistant")
    for phrase in ("I can't help", "I cannot do that", "As an AI model", "I'm sorry"):
        assert chat_data.REFUSAL.search(phrase)


def test_conversations_and_packing(tok):
    docs = DOCS[:2] + [{"path": "c.d.ts", "language": "typescript", "text": TS}]
    convs = build_conversations(docs, seed=0, multi_turn_rate=0)
    assert {c["path"] for c in convs} == {"a.py", "b.ts"}  # only the docs given (train or val), no .d.ts
    assert len(convs) == 4
    for c in convs:
        roles = [m["role"] for m in c["messages"]]
        assert roles == ["system", "user", "assistant"] and c["messages"][0]["content"] == chat_data.SYSTEM_PROMPT
    kinds = {c["kind"] for s in range(40) for c in build_conversations(DOCS, seed=s)}
    assert kinds == set(chat_data.KIND_WEIGHTS)
    ids, mask, stats = tokenize_conversations(convs, tok)
    assert len(ids) == len(mask) and stats["conversations"] == 4 and ids.count(0) == 4  # one <|endoftext|> each
    assert stats["by_turns"] == {"1": 4} and sum(stats["by_kind"].values()) == 4
    assert stats["by_language"] == {"python": 2, "typescript": 2}
    assert all(m == 0 for i, m in zip(ids, mask) if i in (0, 4))  # no loss on <|endoftext|> / <|im_start|>
    assert sum(m for i, m in zip(ids, mask) if i == 5) == 4  # each assistant <|im_end|> is learned
    small, _, st = tokenize_conversations(convs, tok, max_tokens=len(ids) // 2)
    assert len(small) <= len(ids) // 2 and st["conversations"] < 4
    multi = build_conversations(DOCS, seed=0, multi_turn_rate=1.0)
    _, _, st = tokenize_conversations(multi, tok)
    assert sum(st["by_kind"].values()) == sum(len(c["turns"]) for c in multi)  # every reply counted
    assert sum(int(n) * k for n, k in st["by_turns"].items()) == sum(len(c["turns"]) for c in multi)


def test_train_and_val_conversations_come_from_their_own_files():
    train, val = DOCS[:2], DOCS[2:]
    assert {c["path"] for c in build_conversations(train, seed=0)} <= {"a.py", "b.ts"}
    assert {c["path"] for c in build_conversations(val, seed=0)} == {"c.py"}
    assert {r["path"] for r in build_chat_eval(val, 10)} == {"c.py"}


def test_held_out_chat_set():
    records = build_chat_eval(DOCS, 6, seed=0)
    assert len(records) == 6 and [r["id"] for r in records] == list(range(6))
    kinds = [r["kind"] for r in records]
    assert kinds[:3] == ["explain", "test", "fix"] and kinds[3] in ("write", "complete")  # the tasks in turn
    for r in records:
        assert r["messages"][0]["role"] == "system" and r["messages"][-1]["role"] == "user"
        assert r["name"] == r["identifiers"][0] and set(r["params"]) <= set(r["identifiers"])
        assert r["reference"] and r["reference"] not in r["messages"][-1]["content"]
    # the two functions whose examples run alone go to the tasks that run them, with the examples that pass against
    # the function and its file's imports (`hypotenuse(0, LIMITS[1])` needs a module global: dropped)
    runnable = {r["name"]: r for r in records if r["doctest"]}
    assert set(runnable) == {"total_until", "hypotenuse"} and {r["kind"] for r in runnable.values()} <= {"test", "fix"}
    hyp = runnable["hypotenuse"]["doctest"]
    assert hyp["imports"] == ["import math"] and [e["source"] for e in hyp["examples"]] == ["hypotenuse(3, 4)\n"]
    assert hyp["function_source"] == mined(PY_DOCTEST, "hypotenuse")["full"]
    assert runnable["total_until"]["identifiers"] == ["total_until", "values", "limit", "total", "i"]
    assert chat_data.verified_examples(mined(PY_DOCTEST, "hypotenuse"), []) == []  # without `import math`


def test_template_mentions_generation_prompt():
    assert "add_generation_prompt" in chat_data.CHAT_TEMPLATE and "<|im_start|>" in chat_data.CHAT_TEMPLATE
    msgs = [{"role": "user", "content": "hi"}]
    assert render(msgs, add_generation_prompt=True) == (
        f"<|im_start|>system\n{chat_data.SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_mask_covers_exactly_the_reply(tok):
    msgs = [{"role": "system", "content": chat_data.SYSTEM_PROMPT}, {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "```python\nprint(4)\n```"}]
    ids, mask = tokenize_conversation(msgs, tok)
    assert len(ids) == len(mask)
    assert ids == tok.encode(render(msgs), allow_special=True)  # same ids as the JS runtime encoding the template
    assert tok.decode([i for i, m in zip(ids, mask) if m]) == "```python\nprint(4)\n```<|im_end|>"
    prompt = tok.decode([i for i, m in zip(ids, mask) if not m])
    assert prompt.endswith("<|im_start|>assistant\n\n") and "print(4)" not in prompt


def test_that_clause():
    assert chat_tasks.that_clause("Returns the sum.") == "that returns the sum"
    assert chat_tasks.that_clause("Compute the sum.") == "to compute the sum"
    assert chat_tasks.that_clause("HTTP helper does x") == "to HTTP helper does x"
    assert chat_tasks.that_clause("The sum of x.") == "that gives the sum of x"


def test_doctest_examples_skip_what_python_cannot_parse():
    """A NUL byte in an example (found in a real package's docstring) or bad syntax drops that example, not the run."""
    from training.data.docstring_examples import doctest_examples
    doc = "Pad.\n\n>>> pad('ab\x00')\n'ab\\x00 '\n>>> pad(\n'x'\n>>> pad('a')\n'a '\n"
    assert [e["source"] for e in doctest_examples(doc, "pad")] == ["pad('a')\n"]
