"""
Facts read from a mined function's code, for replies grounded in it (chat_tasks.py): its parameters, what it
returns, checks, raises, loops over and calls, and the names it keeps results in. Python from its AST; JavaScript and
TypeScript from its text with strings and comments blanked.
"""
import ast
import re

MAX_FACT_CHARS = 60  # longer expressions are described, not quoted


def unique(items) -> list:
    return list(dict.fromkeys(items))


def quotable(text: str | None) -> str | None:
    """The text if it can be quoted inline: one line, short, no backtick."""
    return text if text and "\n" not in text and "`" not in text and len(text) <= MAX_FACT_CHARS else None


class SourceOffsets:
    """AST positions (line, UTF-8 byte column) as indices in the source text, and the text of nodes."""

    def __init__(self, source: str):
        self.source, self.lines, self.starts = source, source.split("\n"), [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def at(self, lineno: int, col: int) -> int:
        return self.starts[lineno - 1] + len(self.lines[lineno - 1].encode("utf-8")[:col].decode("utf-8", "replace"))

    def span(self, node) -> tuple[int, int]:
        return self.at(node.lineno, node.col_offset), self.at(node.end_lineno, node.end_col_offset)

    def text(self, node) -> str:
        a, e = self.span(node)
        return self.source[a:e]


def _dotted(node) -> str | None:
    """`f`, `os.path.join`, `self.run` for a call's target; None for anything else (subscripts, calls)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return base and f"{base}.{node.attr}"
    return None


def python_facts(source: str) -> dict | None:
    """What the function in `source` (one def, dedented) does, read from its AST; None if it does not parse."""
    try:
        fn = ast.parse(source).body[0]
    except (SyntaxError, ValueError, RecursionError, MemoryError, IndexError):
        return None
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    seg = SourceOffsets(source).text
    a = fn.args
    params = [p.arg for p in a.posonlyargs + a.args + ([a.vararg] if a.vararg else []) + a.kwonlyargs
              + ([a.kwarg] if a.kwarg else [])]
    method = bool(params) and params[0] in ("self", "cls")
    params = params[1:] if method else params
    parent = {child: node for node in ast.walk(fn) for child in ast.iter_child_nodes(node)}
    comprehension_targets = {id(n) for c in ast.walk(fn) if isinstance(c, ast.comprehension) for n in ast.walk(c.target)}
    returns, raises, checks, loops, calls, local_names, yields = [], [], [], [], [], [], False
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and node.value is not None:
            returns.append(seg(node.value))
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            yields = True
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name, cond = _dotted(exc), parent.get(node)
            if name:
                when = quotable(seg(cond.test)) if isinstance(cond, ast.If) and node in cond.body else None
                raises.append((name, when))
        elif isinstance(node, ast.While) and quotable(seg(node.test)):
            loops.append(("while", seg(node.test)))
        elif isinstance(node, (ast.If, ast.Assert)) and quotable(seg(node.test)):
            checks.append(seg(node.test))
        elif isinstance(node, (ast.For, ast.AsyncFor)) and quotable(seg(node.iter)) and quotable(seg(node.target)):
            loops.append(("for", seg(node.target), seg(node.iter)))
        elif isinstance(node, ast.Call) and _dotted(node.func):
            calls.append(_dotted(node.func))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and id(node) not in comprehension_targets:
            local_names.append(node.id)
    raised = {exc for exc, _ in raises}
    conditions = {when for _, when in raises}
    return {"params": params, "method": method, "async": isinstance(fn, ast.AsyncFunctionDef), "generator": yields,
            "returns": returns, "raises": unique(raises), "checks": [c for c in unique(checks) if c not in conditions][:3],
            "loops": unique(loops)[:3], "calls": [c for c in unique(calls) if c != fn.name and c not in raised][:6],
            "locals": [n for n in unique(local_names) if n not in params][:8]}


_JS_KEYWORDS = {"if", "for", "while", "switch", "catch", "return", "function", "typeof", "new", "await", "super",
                "import", "with", "do", "else", "in", "of", "void", "delete", "throw", "yield", "async"}
_IDENT = r"[A-Za-z_$][\w$]*"


def _js_blanked(s: str) -> str:
    """The source with comments and the insides of string and template literals blanked to spaces (line breaks
    kept): the same length, so a match's span quotes the original."""
    out, i = list(s), 0
    blank = lambda a, b: out.__setitem__(slice(a, b), [c if c == "\n" else " " for c in s[a:b]])  # noqa: E731
    while i < len(s):
        if s[i] in "'\"`":
            j = _skip_js_string(s, i)
            blank(i + 1, max(i + 1, j - 1))
            i = j
        elif s.startswith("//", i) or s.startswith("/*", i):
            j = s.find("\n" if s[i + 1] == "/" else "*/", i + 2)
            j = len(s) if j < 0 else j + (0 if s[i + 1] == "/" else 2)
            blank(i, j)
            i = j
        else:
            i += 1
    return "".join(out)


def _skip_js_string(s: str, i: int) -> int:
    q, i = s[i], i + 1
    while i < len(s):
        if s[i] == "\\":
            i += 2
        elif s[i] == q:
            return i + 1
        elif s[i] == "\n" and q != "`":
            return i
        else:
            i += 1
    return i


def _split_top_level(s: str) -> list[str]:
    """A parameter list split at its top-level commas (not those inside brackets or a type's <...>)."""
    parts, depth, cur = [], 0, ""
    for prev, c in zip(" " + s, s):
        depth += c in "([{<"
        depth -= c in ")]}" or c == ">" and prev != "="  # `=>` of an arrow function in a default value
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    return parts + [cur] if cur.strip() else parts


def js_facts(fn: dict) -> dict:
    """The same facts for a JS/TS function, read with regexes from its code (comments and strings blanked)."""
    source = fn["nodoc"]
    code = _js_blanked(source)
    open_paren = code.find("(", code.find(fn["name"]) + len(fn["name"]))
    depth, close = 0, open_paren
    for close in range(open_paren, len(code)):
        depth += code[close] == "("
        depth -= code[close] == ")"
        if depth == 0:
            break
    params = []
    for part in _split_top_level(code[open_paren + 1:close]):
        m = re.match(_IDENT, re.sub(r"^\s*(?:\.\.\.|(?:public|private|protected|readonly)\s+)*", "", part))
        if m and m.group() != "this":  # destructured parameters ({ a, b }) have no name of their own
            params.append(m.group())
    head = code[:open_paren]

    def quoted(pattern: str, group: int = 1) -> list[str]:  # a group's original text in each match in the body
        return [source[m.start(group):m.end(group)].strip() for m in re.compile(pattern).finditer(code, close + 1)]

    calls = [c for c in re.findall(rf"(?<![\w$.])({_IDENT}(?:\.{_IDENT})*)\s*\(", code[close + 1:])
             if c.split(".")[0] not in _JS_KEYWORDS and c != fn["name"]]
    for_of = rf"\bfor\s*\(\s*(?:const|let|var)\s+({_IDENT})\s+of\s+([^)]+)\)"
    loops = [("for", target, it) for target, it in zip(quoted(for_of), quoted(for_of, 2)) if quotable(it)]
    loops += [("while", t) for t in quoted(r"\bwhile\s*\(([^)]*)\)") if quotable(t)]
    local_names = [n for n in re.findall(rf"\b(?:const|let|var)\s+({_IDENT})", code[close + 1:]) if n not in params]
    return {"params": params, "method": False, "async": bool(re.search(r"\basync\b", head)),
            "generator": bool(re.search(r"function\s*\*", head)),
            "returns": [r for r in quoted(r"\breturn\b([^;\n]*)") if r],
            "raises": [(e, None) for e in unique(re.findall(rf"\bthrow\s+(?:new\s+)?({_IDENT})", code[close + 1:]))],
            "checks": unique(c for c in quoted(r"\bif\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)") if quotable(c))[:3],
            "loops": unique(loops)[:3], "calls": unique(calls)[:6], "locals": unique(local_names)[:8]}


def code_facts(fn: dict, language: str) -> dict | None:
    return python_facts(fn["full"]) if language == "python" else js_facts(fn)


def own_identifiers(fn: dict) -> list[str]:
    """The function's name, parameters and local names: what an answer about it should mention."""
    return unique([fn["name"], *fn["facts"]["params"], *fn["facts"]["locals"]])
