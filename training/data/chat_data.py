"""
Chat fine-tuning data mined from the corpus: documented functions become instruction/response pairs.

A Python function with a docstring (found with `ast`), or a JS/TS function preceded by a JSDoc comment,
yields one conversation of one of these kinds:
    write      user asks for a function from its summary (+ signature); assistant gives the function
    explain    user shows the function without its docs; assistant answers with the docs as prose
    docstring  user asks to document the undocumented function; assistant gives it documented
    complete   user shows signature + docs; assistant gives the whole function
Train conversations come only from train-split files and val conversations only from val-split files.
The loss mask is 1 on the assistant reply and its <|im_end|>, 0 elsewhere.
"""
import ast
import random
import re
import textwrap

SYSTEM_PROMPT = "You are Attentive, a helpful coding assistant running locally in the editor."

# ChatML; inserts our system prompt when the caller gives none (as the training data always has one)
CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' %}"
    "{{- '<|im_start|>system\\n" + SYSTEM_PROMPT + "<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- endif %}"
)

KIND_WEIGHTS = {"write": 0.35, "explain": 0.3, "docstring": 0.15, "complete": 0.2}
MIN_LINES, MAX_LINES, MAX_CHARS = 3, 60, 2500
MAX_PER_FILE = 4  # spread examples over many files
FENCE = {"python": "python", "typescript": "ts", "javascript": "js"}
LANG_NAME = {"python": "Python", "typescript": "TypeScript", "javascript": "JavaScript"}


def render(messages: list[dict], add_generation_prompt: bool = False) -> str:
    """Python twin of CHAT_TEMPLATE (tests check they agree on our data)."""
    out = "" if messages[0]["role"] == "system" else f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
    for m in messages:
        out += f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n"
    return out + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def summary_of(doc: str) -> str | None:
    """First paragraph of a docstring as one line, if it reads like a sentence."""
    para = " ".join(doc.strip().split("\n\n")[0].split())
    if not 15 <= len(para) <= 300 or not para[0].isalpha() or para.startswith((">>>", "..")):
        return None
    return para


# --- Python -------------------------------------------------------------------------------------------

def python_functions(text: str) -> list[dict]:
    """Documented functions: {name, signature, doc, full, nodoc, header} (sources dedented)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = text.splitlines(keepends=True)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or len(node.body) < 2:
            continue
        doc = ast.get_docstring(node)
        ds = node.body[0]
        if not doc or not isinstance(ds, ast.Expr):
            continue
        start, end = node.lineno, node.end_lineno
        if not MIN_LINES <= end - start + 1 <= MAX_LINES:
            continue
        # the docstring must sit on lines of its own so we can cut it out cleanly
        if ds.lineno <= start or lines[ds.lineno - 1][:ds.col_offset].strip() or lines[ds.end_lineno - 1][ds.end_col_offset:].strip():
            continue
        header = lines[start - 1:ds.lineno - 1]
        full = textwrap.dedent("".join(lines[start - 1:end])).rstrip() + "\n"
        nodoc = textwrap.dedent("".join(header + lines[ds.end_lineno:end])).rstrip() + "\n"
        if len(full) > MAX_CHARS or "\t" in full:
            continue
        signature = textwrap.dedent("".join(header)).strip()
        out.append({"name": node.name, "signature": signature, "doc": doc.strip(), "full": full, "nodoc": nodoc,
                    "header": textwrap.dedent("".join(lines[start - 1:ds.end_lineno])).rstrip() + "\n",
                    "params": [], "returns": None})
    return out


# --- JavaScript / TypeScript --------------------------------------------------------------------------

_JSDOC_FN = re.compile(
    r"/\*\*(?P<doc>(?:(?!\*/).)*?)\*/[ \t]*\n(?P<indent>[ \t]*)"
    r"(?P<decl>(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(?P<fname>[A-Za-z_$][\w$]*)"
    r"|(?:export\s+)?(?:const|let)\s+(?P<aname>[A-Za-z_$][\w$]*)\s*(?::[^=\n]+)?=\s*(?:async\s+)?(?=\()"
    r"|(?:(?:public|private|protected|static|async|override)\s+)*(?P<mname>[A-Za-z_$][\w$]*)\s*(?=[<(]))",
    re.S)
_NOT_METHODS = {"if", "for", "while", "switch", "catch", "return", "function", "with", "new", "typeof", "constructor"}


def _skip_string(s: str, i: int) -> int:
    """Index just past the string/template literal starting at s[i]."""
    q = s[i]
    i += 1
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] == q:
            return i + 1
        if s[i] == "\n" and q != "`":
            return i  # unterminated: give up on this string
        i += 1
    return i


def _match_braces(s: str, i: int) -> int | None:
    """Given s[i] == '{', index just past its matching '}' (skips strings and comments), or None."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c in "'\"`":
            i = _skip_string(s, i)
            continue
        if s.startswith("//", i):
            j = s.find("\n", i)
            i = len(s) if j < 0 else j
            continue
        if s.startswith("/*", i):
            j = s.find("*/", i + 2)
            if j < 0:
                return None
            i = j + 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _body_start(s: str, i: int) -> int | None:
    """From the signature start, index of the body's '{' after the parameter list (None for overloads etc.)."""
    p = s.find("(", i)
    if p < 0 or p - i > 200:
        return None
    depth = 0
    j = p
    while j < len(s):
        if s[j] in "'\"`":
            j = _skip_string(s, j)
            continue
        depth += s[j] == "("
        depth -= s[j] == ")"
        j += 1
        if depth == 0:
            break
    m = re.compile(r"[^;{}]*?(=>\s*)?\{").match(s, j)  # return type annotation, then the body
    if not m or m.end() - j > 200:
        return None
    return m.end() - 1


def parse_jsdoc(raw: str) -> tuple[str, list[tuple[str, str]], str | None]:
    """(description, [(param, text)], returns) from the inside of a /** ... */ comment."""
    lines = [re.sub(r"^\s*\* ?", "", ln) for ln in raw.split("\n")]
    text = "\n".join(lines).strip()
    text = re.sub(r"\{@(?:link|linkcode|linkplain)\s+([^}|\s]+)(?:[|\s][^}]*)?\}", r"`\1`", text)
    parts = re.split(r"\n?\s*(?=@\w)", text)
    desc, params, returns = parts[0].strip(), [], None
    for tag in parts[1:]:
        m = re.match(r"@param\s+(?:\{[^}]*\}\s*)?\[?([\w$.]+)[^\]\s]*\]?\s*(?:-\s*)?(.*)", tag, re.S)
        if m and m.group(2).strip():
            params.append((m.group(1), " ".join(m.group(2).split())))
        m = re.match(r"@returns?\s+(?:\{[^}]*\}\s*)?(.*)", tag, re.S)
        if m and m.group(1).strip():
            returns = " ".join(m.group(1).split())
    return desc, params, returns


def js_functions(text: str) -> list[dict]:
    out = []
    for m in _JSDOC_FN.finditer(text):
        name = m.group("fname") or m.group("aname") or m.group("mname")
        if not name or name in _NOT_METHODS:
            continue
        desc, params, returns = parse_jsdoc(m.group("doc"))
        if not desc or "@" in desc or "*/" in desc:
            continue
        decl_start = m.start("indent")
        b = _body_start(text, m.start("decl"))
        if b is None:
            continue
        e = _match_braces(text, b)
        if e is None:
            continue
        if e < len(text) and text[e] == ";":
            e += 1  # `const f = () => {...};`
        fn = textwrap.dedent(text[decl_start:e]).strip() + "\n"
        n_lines = fn.count("\n")
        if not MIN_LINES <= n_lines <= MAX_LINES or len(fn) > MAX_CHARS or "\t" in fn:
            continue
        comment_start = text.rfind("\n", 0, m.start()) + 1
        comment = textwrap.dedent(text[comment_start:m.start("indent")]).strip()
        signature = textwrap.dedent(text[decl_start:b]).strip()
        out.append({"name": name, "signature": signature, "doc": desc, "full": comment + "\n" + fn, "nodoc": fn,
                    "header": comment + "\n" + signature + " {\n", "params": params, "returns": returns})
    return out


# --- conversations ------------------------------------------------------------------------------------

def _that_clause(summary: str) -> str:
    """'Returns x.' -> 'that returns x'; 'Return x.' -> 'to return x' (imperative docstrings are the norm)."""
    s = summary.rstrip(".")
    first = s.split()[0]
    s = s[0].lower() + s[1:] if not (len(first) > 1 and first[1].isupper()) else s
    return ("that " if first.lower().endswith("s") and not first.lower().endswith("ss") else "to ") + s


def make_conversation(fn: dict, language: str, kind: str, rng: random.Random) -> list[dict]:
    lang, fence = LANG_NAME[language], FENCE[language]
    block = lambda code: f"```{fence}\n{code.rstrip()}\n```"  # noqa: E731
    summary = summary_of(fn["doc"])
    if kind == "write":
        user = rng.choice([
            f"Write a {lang} function {_that_clause(summary)}.\nUse this signature: `{fn['signature']}`",
            f"Implement `{fn['name']}` in {lang}: {summary}\n\n{block(fn['signature'])}",
            f"Write a {lang} function `{fn['name']}` {_that_clause(summary)}.",
        ])
        reply = block(fn["full"])
    elif kind == "explain":
        user = rng.choice([
            f"Explain this code:\n{block(fn['nodoc'])}",
            f"What does this function do?\n{block(fn['nodoc'])}",
            f"{block(fn['nodoc'])}\nWhat does `{fn['name']}` do?",
        ])
        reply = fn["doc"]
        if fn["params"]:
            reply += "\n\nParameters:\n" + "\n".join(f"- `{p}`: {t}" for p, t in fn["params"])
        if fn["returns"]:
            reply += f"\n\nReturns: {fn['returns']}"
    elif kind == "docstring":
        what = "a docstring" if language == "python" else "a JSDoc comment"
        user = rng.choice([f"Add {what} to this function:\n{block(fn['nodoc'])}",
                           f"Document this {lang} function with {what}.\n{block(fn['nodoc'])}"])
        reply = block(fn["full"])
    else:  # complete
        user = rng.choice([f"Complete this function:\n{block(fn['header'])}",
                           f"Finish the implementation:\n{block(fn['header'])}"])
        reply = block(fn["full"])
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user},
            {"role": "assistant", "content": reply}]


def build_conversations(docs: list[dict], seed: int = 0) -> list[dict]:
    """One conversation per documented function (at most MAX_PER_FILE per file), kinds drawn at random."""
    rng = random.Random(seed)
    kinds, weights = zip(*KIND_WEIGHTS.items())
    convs = []
    for d in docs:
        if d["language"] == "python":
            fns = python_functions(d["text"])
        elif d["path"].endswith(".d.ts"):
            continue  # declarations have no bodies
        else:
            fns = js_functions(d["text"])
        fns = [f for f in fns if summary_of(f["doc"]) and len(f["doc"]) <= 1500]
        rng.shuffle(fns)
        for fn in fns[:MAX_PER_FILE]:
            kind = rng.choices(kinds, weights)[0]
            convs.append({"messages": make_conversation(fn, d["language"], kind, rng), "kind": kind,
                          "language": d["language"], "path": d["path"]})
    return convs


def tokenize_conversation(messages: list[dict], tok) -> tuple[list[int], list[int]]:
    """Ids and loss mask of a rendered conversation, identical to encoding render(messages) with specials.

    Each assistant turn is split after 'assistant\\n', where the prompt ends at inference, and its reply
    is encoded on its own (a separate chunk either way: the pre-tokenizer splits after a newline)."""
    start, end = tok.token_to_id("<|im_start|>"), tok.token_to_id("<|im_end|>")
    ids, mask = [], []
    for m in messages:
        if m["role"] == "assistant":
            head = [start] + tok.encode("assistant\n")
            body = tok.encode(m["content"]) + [end]
            ids += head + body
            mask += [0] * len(head) + [1] * len(body)
        else:
            part = [start] + tok.encode(f"{m['role']}\n{m['content']}") + [end]
            ids += part
            mask += [0] * len(part)
        nl = tok.encode("\n")
        ids += nl
        mask += [0] * len(nl)
    return ids, mask


def tokenize_conversations(convs: list[dict], tok, max_tokens: int | None = None, seed: int = 0):
    """Shuffled conversations packed into one stream, each followed by <|endoftext|> (mask 0)."""
    convs = convs[:]
    random.Random(seed).shuffle(convs)
    eot = tok.token_to_id("<|endoftext|>")
    ids, mask = [], []
    stats = {"conversations": 0, "by_kind": {}, "by_language": {}}
    for c in convs:
        i, m = tokenize_conversation(c["messages"], tok)
        if max_tokens is not None and len(ids) + len(i) + 1 > max_tokens:
            break
        ids += i + [eot]
        mask += m + [0]
        stats["conversations"] += 1
        stats["by_kind"][c["kind"]] = stats["by_kind"].get(c["kind"], 0) + 1
        stats["by_language"][c["language"]] = stats["by_language"].get(c["language"], 0) + 1
    stats["available_conversations"] = len(convs)
    return ids, mask, stats
