"""
The chat tasks built from one mined function (see chat_data.py), each reply grounded in the code shown:

    write      user asks for a function from its summary (+ signature); assistant gives the function
    explain    user shows the function without its docs; assistant names it, its parameters and what it does,
               from the docstring's summary plus facts read from the code (what it returns, checks, raises,
               loops over, calls, the names it keeps results in)
    docstring  user shows the undocumented function; assistant gives it documented
    complete   user shows signature + docs; assistant gives the whole function
    test       (Python, docstring with doctest examples) assistant gives a pytest test built from the examples
    fix        user shows the function with one injected bug; assistant names the line and the change, then gives
               the original function
    rename     (follow-up only, Python) assistant gives the function with a parameter or local renamed

A fix's bug is one edit of the source text at an AST node's exact offsets (comments and layout stay as written),
checked by tokenizing: the buggy code differs from the original in exactly the tokens of that edit. JS/TS bugs
flip one operator between spaces on one line of code.
"""
import ast
import difflib
import io
import random
import re
import tokenize
from dataclasses import dataclass

from training.data.code_facts import SourceOffsets, quotable, unique
from training.data.docstring_examples import pytest_function

FENCE = {"python": "python", "typescript": "ts", "javascript": "js"}
LANG_NAME = {"python": "Python", "typescript": "TypeScript", "javascript": "JavaScript"}
SHORT_NAMES = {"s": "text", "n": "count", "i": "index", "k": "key", "v": "value", "x": "value", "d": "mapping",
               "l": "items", "lst": "items", "f": "func", "fn": "func", "e": "error", "c": "char", "p": "path",
               "m": "match", "res": "result", "ret": "result", "tmp": "temp", "val": "value", "idx": "index",
               "msg": "message", "num": "number", "cnt": "count", "buf": "buffer", "arr": "array"}
DETERMINERS = {"a", "an", "the", "this", "these", "its", "one", "each", "every", "all", "any", "some"}


def block(code: str, language: str) -> str:
    """The code in a Markdown fence longer than any run of backticks inside it (a JSDoc may hold a ``` example)."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", code)), default=0))
    return f"{fence}{FENCE[language]}\n{code.rstrip()}\n{fence}"


def summary_of(doc: str) -> str | None:
    """First paragraph of a docstring as one line, if it reads like a sentence."""
    para = " ".join(doc.strip().split("\n\n")[0].split())
    if not 15 <= len(para) <= 300 or not para[0].isalpha() or para.startswith((">>>", "..")):
        return None
    return para


def lower_first(text: str) -> str:
    """'Returns x' -> 'returns x', but 'HTTP x' stays."""
    first = text.split()[0] if text.split() else text
    return text if len(first) > 1 and first[1].isupper() else text[:1].lower() + text[1:]


def that_clause(summary: str) -> str:
    """'Returns x.' -> 'that returns x'; 'Return x.' -> 'to return x' (imperative docstrings are the norm);
    'The x.' -> 'that gives the x'."""
    s = lower_first(summary.rstrip("."))
    first = s.split()[0].lower()
    if first in DETERMINERS:
        return "that gives " + s
    return ("that " if first.endswith("s") and not first.endswith("ss") else "to ") + s


def _code_list(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _doc_details(doc: str) -> str:
    """The docstring after its summary, each paragraph cut at its first doctest example, at most two paragraphs."""
    paras = [re.split(r"(?m)^\s*>>>", p)[0].strip() for p in doc.strip().split("\n\n")[1:]]
    return "\n\n".join([p for p in paras if p][:2])[:600].strip()


def explain_reply(fn: dict, language: str) -> str:
    f = fn["facts"]
    kind = "method" if f["method"] else "generator function" if f["generator"] else "function"
    out = [f"`{fn['name']}` is {'an async' if f['async'] else 'a'} {LANG_NAME[language]} {kind} "
           f"{that_clause(summary_of(fn['doc']))}."]
    details = _doc_details(fn["doc"])
    if details:
        out.append(details)
    param_docs = dict(fn.get("param_docs") or [])
    if not f["params"]:
        points = ["It takes no arguments."]
    elif any(p in param_docs for p in f["params"]):  # JSDoc @param texts
        points = ["It takes:\n" + "\n".join(f"  - `{p}`: {param_docs[p]}" if p in param_docs else f"  - `{p}`"
                                             for p in f["params"])]
    else:
        points = [f"It takes {_code_list(f['params'])}."]
    for c in f["checks"]:
        points.append(f"It checks `{c}`.")
    for loop in f["loops"]:
        points.append(f"It loops over `{loop[2]}`, one `{loop[1]}` at a time." if loop[0] == "for"
                      else f"It loops while `{loop[1]}`.")
    if f["calls"]:
        points.append(f"It calls {_code_list(f['calls'])}.")
    for exc, when in f["raises"]:
        points.append(f"It raises `{exc}`" + (f" when `{when}`." if when else "."))
    if f["locals"]:
        points.append(f"It keeps its intermediate results in {_code_list(f['locals'])}.")
    quoted = [r for r in unique(f["returns"]) if quotable(r)]
    if fn.get("returns_doc"):
        points.append(f"It returns {lower_first(fn['returns_doc'].rstrip('.'))}.")
    elif f["generator"]:
        points.append("It yields its results one at a time.")
    elif len(f["returns"]) == 1:
        points.append(f"It returns `{quoted[0]}`." if quoted else "It returns a value.")
    elif f["returns"]:
        points.append(f"It has {len(f['returns'])} return statements" +
                      (f", for example `{quoted[0]}`." if quoted else "."))
    elif language == "python":
        points.append("It returns `None`.")
    out.append("\n".join(f"- {p}" for p in points))
    return "\n\n".join(out)


# --- bugs to fix ---------------------------------------------------------------------------------------

@dataclass
class Bug:
    start: int          # the edit: source[start:end] becomes `replacement`
    end: int
    replacement: str
    shown_bad: str      # what the fix sentence quotes: the buggy code ...
    shown_good: str     # ... and what it must be

    def apply(self, source: str) -> str:
        return source[:self.start] + self.replacement + source[self.end:]


FLIP_COMPARE = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==", "is": "is not",
                "is not": "is", "in": "not in", "not in": "in"}
_OPERATOR = re.compile(r"[\s()]*(<=|>=|==|!=|<|>|is\s+not|not\s+in|is|in|and|or|\+=|-=|\+|-)[\s()]*$")


def _operator_site(at: SourceOffsets, left, right, flips: dict) -> Bug | None:
    """The operator token between two nodes, if the gap holds nothing else (no comment, no line break)."""
    a = at.at(left.end_lineno, left.end_col_offset)
    b = at.at(right.lineno, right.col_offset)
    m = _OPERATOR.match(at.source, a, b)
    if not m or m.end() != b or " ".join(m.group(1).split()) not in flips:
        return None
    op = " ".join(m.group(1).split())
    return Bug(m.start(1), m.end(1), flips[op], flips[op], op)


def python_bugs(source: str, facts: dict) -> list[Bug]:
    """Every one-edit bug this function can be given: a flipped comparison, `+`/`-`, `and`/`or`, a dropped `not`,
    a `range` bound off by one, the wrong variable or boolean returned."""
    try:
        fn = ast.parse(source).body[0]
    except (SyntaxError, ValueError, RecursionError, MemoryError, IndexError):
        return []
    at = SourceOffsets(source)
    pos = at.span
    others = facts["params"] + facts["locals"]
    bugs = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Compare):
            for left, right in zip([node.left] + node.comparators, node.comparators):
                bugs.append(_operator_site(at, left, right, FLIP_COMPARE))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            bugs.append(_operator_site(at, node.left, node.right, {"+": "-", "-": "+"}))
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
            bugs.append(_operator_site(at, node.target, node.value, {"+=": "-=", "-=": "+="}))
        elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
            bugs.append(_operator_site(at, *node.values, {"and": "or", "or": "and"}))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            (a, _), (b, e) = pos(node), pos(node.operand)
            if re.fullmatch(r"not\s+", source[a:b]) and quotable(source[a:e]):
                bugs.append(Bug(a, b, "", source[b:e], source[a:e]))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
              and 1 <= len(node.args) <= 3 and not node.keywords):
            stop = node.args[0 if len(node.args) == 1 else 1]
            a, e = pos(stop)
            if isinstance(stop, (ast.Name, ast.Call, ast.Attribute, ast.Subscript)) and quotable(source[a:e]):
                bugs.append(Bug(e, e, " - 1", source[a:e] + " - 1", source[a:e]))
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
            wrong = [n for n in others if n != node.value.id]
            if wrong:
                a, e = pos(node.value)
                bugs.append(Bug(a, e, wrong[0], wrong[0], node.value.id))
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, bool):
            a, e = pos(node.value)
            flipped = str(not node.value.value)
            bugs.append(Bug(a, e, flipped, flipped, source[a:e]))
    return [b for b in bugs if b is not None]


def _tokens(text: str) -> list[str] | None:
    kept = (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type in kept]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def python_bug_is_exact(source: str, bug: Bug) -> bool:
    """The buggy code parses and its tokens differ from the original's in exactly the edited ones (an offset that
    landed inside a string or f-string would change a STRING token instead)."""
    buggy = bug.apply(source)
    try:
        ast.parse(buggy)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    before, after = _tokens(source), _tokens(buggy)
    if before is None or after is None:
        return False
    changes = [op for op in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(changes) != 1:
        return False
    _, i1, i2, j1, j2 = changes[0]
    return " ".join(before[i1:i2]) == " ".join(_tokens(source[bug.start:bug.end]) or []) and \
        " ".join(after[j1:j2]) == " ".join(_tokens(bug.replacement) or [])


_JS_FLIP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "===": "!==", "!==": "===", "==": "!=", "!=": "==",
            "&&": "||", "||": "&&", "+": "-", "-": "+"}
_JS_OPERATOR = re.compile(r"(?<= )(===|!==|<=|>=|==|!=|&&|\|\||<|>|\+|-)(?= )")


def js_bugs(fn: dict) -> list[Bug]:
    """One operator between spaces flipped on one line of code (not in a comment or a string) of fn['full']."""
    source, code_start = fn["full"], len(fn["full"]) - len(fn["nodoc"])
    bugs, line_start = [], code_start
    for line in source[code_start:].split("\n"):
        stripped = line.lstrip()
        if not stripped.startswith(("//", "*", "/*")):
            for m in _JS_OPERATOR.finditer(line):
                before = line[:m.start()]
                if "//" in before or "/*" in before or any(before.count(q) % 2 for q in "'\"`"):
                    continue
                op = m.group()
                bugs.append(Bug(line_start + m.start(), line_start + m.end(), _JS_FLIP[op], _JS_FLIP[op], op))
        line_start += len(line) + 1
    return bugs


def inject_bug(fn: dict, language: str, rng: random.Random) -> Bug | None:
    """One bug for the fix task, drawn among the function's candidates (Python: the first that checks exact)."""
    bugs = python_bugs(fn["full"], fn["facts"]) if language == "python" else js_bugs(fn)
    rng.shuffle(bugs)
    for bug in bugs:
        if language != "python" or python_bug_is_exact(fn["full"], bug):
            return bug
    return None


def fix_reply(fn: dict, language: str, bug: Bug) -> str:
    buggy = bug.apply(fn["full"])
    line_no = buggy[:bug.start].count("\n") + 1
    line = buggy.split("\n")[line_no - 1].strip()
    where = f"line {line_no}, `{line}`," if len(line) <= 100 else f"line {line_no}"
    return (f"The bug is on {where} which has `{bug.shown_bad}` where `{fn['name']}` needs `{bug.shown_good}`. "
            f"The corrected function:\n\n{block(fn['full'], language)}")


# --- renaming ------------------------------------------------------------------------------------------

def _rename_in_doc(doc: str, old: str, new: str) -> str:
    """`old`, :param old:, and Google/NumPy parameter lines `old (type): ...` / `old : type`."""
    o = re.escape(old)
    doc = re.sub(rf"(`|:param |:type |:param [\w.\[\]]+ ){o}(?=[`:])", rf"\g<1>{new}", doc)
    return re.sub(rf"(?m)^(\s+){o}(?=\s*(?:\([^)\n]*\))?\s*:)", rf"\g<1>{new}", doc)


def python_rename(source: str, old: str, new: str) -> str | None:
    """`source` with every use of the parameter or local `old` named `new` (and in the docstring's parameter
    docs), edited at the nodes' offsets; None when the result is not exactly that renaming of the AST."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    fn = tree.body[0]
    if any(isinstance(n, (ast.Global, ast.Nonlocal)) and old in n.names for n in ast.walk(fn)) or \
            any(isinstance(n, ast.Name) and n.id == new or isinstance(n, ast.arg) and n.arg == new for n in ast.walk(fn)):
        return None
    at = SourceOffsets(source)
    edits = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id == old or isinstance(node, ast.arg) and node.arg == old:
            a = at.at(node.lineno, node.col_offset)
            edits.append((a, a + len(old), new))
    doc = fn.body[0] if fn.body and isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant) \
        and isinstance(fn.body[0].value.value, str) else None
    if doc is not None:
        a, e = at.span(doc)
        edits.append((a, e, _rename_in_doc(source[a:e], old, new)))
    out = source
    for a, e, text in sorted(edits, reverse=True):
        out = out[:a] + text + out[e:]
    # the expected tree: the same renaming done on the AST itself
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id == old:
            node.id = new
        elif isinstance(node, ast.arg) and node.arg == old:
            node.arg = new
    if doc is not None:
        doc.value.value = _rename_in_doc(doc.value.value, old, new)
    try:
        return out if ast.dump(ast.parse(out)) == ast.dump(tree) else None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def rename_choice(fn: dict, rng: random.Random) -> tuple[str, str] | None:
    """A parameter or local to rename and its new name (a descriptive one for the usual short names)."""
    names = [n for n in fn["facts"]["params"] + fn["facts"]["locals"] if n != "_"]
    if not names:
        return None
    old = rng.choice(names)
    return old, SHORT_NAMES.get(old, f"new_{old}")


# --- the turns of a conversation ----------------------------------------------------------------------

def pytest_reply(fn: dict) -> str:
    return (f"A pytest test that checks `{fn['name']}` against the examples in its docstring:\n\n"
            + block(pytest_function(fn["name"], fn["examples"]), "python"))


def first_turn(fn: dict, language: str, kind: str, rng: random.Random) -> tuple[str, str, str] | None:
    """(request, reply, the function as the conversation now holds it) for a conversation's first task; None when
    the function does not allow the task (test without doctest examples, fix without a bug to inject)."""
    lang, name, show = LANG_NAME[language], fn["name"], lambda code: block(code, language)  # noqa: E731
    summary = summary_of(fn["doc"])
    if kind == "write":
        user = rng.choice([
            f"Write a {lang} function {that_clause(summary)}.\nUse this signature: `{fn['signature']}`",
            f"Implement `{name}` in {lang}: {summary}\n\n{show(fn['signature'])}",
            f"Write a {lang} function `{name}` {that_clause(summary)}.",
        ])
        return user, show(fn["full"]), fn["full"]
    if kind == "explain":
        user = rng.choice([f"Explain this code:\n{show(fn['nodoc'])}", f"What does this function do?\n{show(fn['nodoc'])}",
                           f"{show(fn['nodoc'])}\nWhat does `{name}` do?"])
        return user, explain_reply(fn, language), fn["nodoc"]
    if kind == "docstring":
        what = "a docstring" if language == "python" else "a JSDoc comment"
        user = rng.choice([f"Add {what} to this function:\n{show(fn['nodoc'])}",
                           f"Document this {lang} function with {what}.\n{show(fn['nodoc'])}"])
        return user, show(fn["full"]), fn["full"]
    if kind == "complete":
        user = rng.choice([f"Complete this function:\n{show(fn['header'])}",
                           f"Finish the implementation:\n{show(fn['header'])}"])
        return user, show(fn["full"]), fn["full"]
    if kind == "test":
        if not fn["examples"]:
            return None
        user = rng.choice([f"Write pytest tests for this function:\n{show(fn['full'])}",
                           f"{show(fn['full'])}\nWrite a unit test for `{name}` from the examples in its docstring."])
        return user, pytest_reply(fn), fn["full"]
    if kind == "fix":
        bug = inject_bug(fn, language, rng)
        if bug is None:
            return None
        buggy = show(bug.apply(fn["full"]))
        user = rng.choice([f"This function has a bug. Fix it:\n{buggy}",
                           f"`{name}` returns the wrong result for some inputs. Find the bug and fix it:\n{buggy}",
                           f"Fix the bug:\n{buggy}"])
        return user, fix_reply(fn, language, bug), fn["full"]
    raise ValueError(f"unknown task {kind!r}")


def follow_up(fn: dict, language: str, kind: str, rng: random.Random, shown: str) -> tuple[str, str, str] | None:
    """(request, reply, the function as now held) for a later turn on the function the conversation holds as
    `shown`; the request refers to it without repeating it. None when the task does not fit: a docstring for code
    that has one, tests from examples the user has not seen (the code shown without its docstring), a rename in
    JS/TS or one that does not check exact."""
    name, documented = fn["name"], shown != fn["nodoc"]
    if kind == "explain":
        return rng.choice(["Explain how it works.", f"What does `{name}` do?"]), explain_reply(fn, language), shown
    if kind == "docstring" and not documented:
        what = "a docstring" if language == "python" else "a JSDoc comment"
        return rng.choice([f"Now add {what} to it.", f"Document `{name}` with {what}."]), \
            block(fn["full"], language), fn["full"]
    if kind == "test" and documented and fn["examples"]:
        return rng.choice(["Now write pytest tests for it.", f"Write a test for `{name}` from its docstring's examples."]), \
            pytest_reply(fn), shown
    if kind == "rename" and language == "python":
        choice = rename_choice(fn, rng)
        renamed = choice and python_rename(shown, *choice)
        if renamed:
            old, new = choice
            return rng.choice([f"Rename `{old}` to `{new}`.", f"Please call `{old}` `{new}` instead."]), \
                f"`{name}` with `{old}` renamed to `{new}`:\n\n{block(renamed, language)}", renamed
    return None
