"""
Chat fine-tuning data mined from the corpus: documented functions become conversations about their code.

A Python function with a docstring (found with `ast`), or a JS/TS function preceded by a JSDoc comment, yields one
conversation. Its first task is drawn with KIND_WEIGHTS among those the function allows (write, explain, docstring,
complete, fix; test when its docstring has doctest examples); MULTI_TURN_RATE of the conversations go on with one
or two follow-ups on the same function (FOLLOW_UP_WEIGHTS: explain, docstring, test, rename). chat_tasks.py builds
each task's request and its reply from the code itself. Every reply does the task: a function whose reply would
contain refusal phrasing (REFUSAL, from a docstring or a string) gives no conversation.

Train conversations come only from train-split files and val conversations only from val-split files; the held-out
chat set (build_chat_eval -> chat_eval.jsonl, scored by training/eval/eval_chat.py) also only from val-split files.
The loss mask is 1 on every assistant reply and its <|im_end|>, 0 elsewhere.
"""
import ast
import json
import random
import re
import textwrap

from training.data import chat_tasks, docstring_examples
from training.data.chat_tasks import summary_of
from training.data.code_facts import code_facts, own_identifiers
from training.data.docstring_examples import doctest_examples

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

# first task of a conversation, among those the function allows (test: only functions with doctest examples, so
# weighted up; fix: only where a bug can be injected)
KIND_WEIGHTS = {"write": 0.2, "explain": 0.25, "docstring": 0.1, "complete": 0.15, "fix": 0.2, "test": 0.3}
FOLLOW_UP_WEIGHTS = {"explain": 0.3, "docstring": 0.2, "test": 0.3, "rename": 0.2}
MULTI_TURN_RATE = 0.2  # conversations with 2 or 3 user turns (half each) on the same function
MIN_LINES, MAX_LINES, MAX_CHARS = 3, 60, 2500
MAX_PER_FILE = 4  # spread examples over many files
EVAL_MAX_CHARS = 750  # held-out chat set: a reply with the whole function fits 256 new tokens (~3.4 bytes a token)
EVAL_GROUPS = ("explain", "test", "fix", ("write", "complete"))  # the held-out set's mix, in turn
REFUSAL = re.compile(r"\b(?:I can(?:'|no)?t|I'm sorry|I am sorry|as an AI|I'm unable|I am unable|I won't)\b", re.I)


def render(messages: list[dict], add_generation_prompt: bool = False) -> str:
    """Python twin of CHAT_TEMPLATE (tests check they agree on our data)."""
    out = "" if messages[0]["role"] == "system" else f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
    for m in messages:
        out += f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n"
    return out + ("<|im_start|>assistant\n" if add_generation_prompt else "")


# --- Python -------------------------------------------------------------------------------------------

def python_functions(text: str) -> list[dict]:
    """Documented functions: {name, signature, doc, full, nodoc, header, param_docs, returns_doc} (sources dedented;
    param_docs and returns_doc are JSDoc's, empty here)."""
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
                    "param_docs": [], "returns_doc": None})
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
                    "header": comment + "\n" + signature + " {\n", "param_docs": params, "returns_doc": returns})
    return out


# --- conversations ------------------------------------------------------------------------------------

def mine_functions(doc: dict) -> list[dict]:
    """The documented functions of one file that conversations are built on, each with the facts read from its code
    (fn["facts"]) and, for Python, its doctest examples (fn["examples"])."""
    if doc["language"] == "python":
        fns = python_functions(doc["text"])
    elif doc["path"].endswith(".d.ts"):
        return []  # declarations have no bodies
    else:
        fns = js_functions(doc["text"])
    out = []
    for fn in fns:
        if not summary_of(fn["doc"]) or len(fn["doc"]) > 1500:
            continue
        fn["facts"] = code_facts(fn, doc["language"])
        if fn["facts"] is not None:
            fn["examples"] = doctest_examples(fn["doc"], fn["name"]) if doc["language"] == "python" else []
            out.append(fn)
    return out


def _draw(weights: dict, kinds: list[str], rng: random.Random) -> str:
    return rng.choices(kinds, [weights[k] for k in kinds])[0]


def make_conversation(fn: dict, language: str, rng: random.Random, multi_turn_rate: float = MULTI_TURN_RATE,
                      first_kind: str | None = None) -> dict | None:
    """{messages, turns: the kind of each assistant reply} on one function; first_kind forces the first task (else
    drawn). Follow-ups never repeat a kind, and a rename comes last (later replies would use the old name). None
    when the forced task cannot be built or a reply would contain refusal phrasing."""
    kinds = [first_kind] if first_kind else [k for k in KIND_WEIGHTS if k != "test" or fn["examples"]]
    turn, turns = None, []
    while kinds and turn is None:
        kind = _draw(KIND_WEIGHTS, kinds, rng)
        kinds.remove(kind)
        turn = chat_tasks.first_turn(fn, language, kind, rng)
    if turn is None:
        return None
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    follow_ups = rng.choice([1, 2]) if rng.random() < multi_turn_rate else 0
    while turn is not None:
        user, reply, shown = turn
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
        turns.append(kind)
        if len(turns) > follow_ups or kind == "rename":
            break
        options = [k for k in FOLLOW_UP_WEIGHTS if k not in turns and (k != "rename" or len(turns) == follow_ups)]
        turn = None
        while options and turn is None:
            kind = _draw(FOLLOW_UP_WEIGHTS, options, rng)
            options.remove(kind)
            turn = chat_tasks.follow_up(fn, language, kind, rng, shown)
    if any(REFUSAL.search(m["content"]) for m in messages if m["role"] == "assistant"):
        return None
    return {"messages": messages, "turns": turns}


def build_conversations(docs: list[dict], seed: int = 0, multi_turn_rate: float = MULTI_TURN_RATE) -> list[dict]:
    """One conversation per documented function (at most MAX_PER_FILE per file), tasks drawn at random."""
    rng = random.Random(seed)
    convs = []
    for d in docs:
        fns = mine_functions(d)
        rng.shuffle(fns)
        fns.sort(key=lambda fn: not fn["examples"])  # functions with doctest examples first: they allow the test task
        for fn in fns[:MAX_PER_FILE]:
            conv = make_conversation(fn, d["language"], rng, multi_turn_rate)
            if conv is not None:
                convs.append({**conv, "kind": conv["turns"][0], "language": d["language"], "path": d["path"]})
    return convs


# --- the held-out chat set ----------------------------------------------------------------------------

def verified_examples(fn: dict, imports: list[str]) -> list[dict]:
    """fn's doctest examples that pass against fn with only its file's imports around it (as the scorer runs them:
    the module's other functions and globals are missing); [] unless they still check a call of the function."""
    if not fn["examples"]:
        return []
    passed = docstring_examples.run_examples(fn["full"], fn["examples"], imports)["passed"]
    kept = [e for e, ok in zip(fn["examples"], passed) if ok]
    if kept != fn["examples"] and not all(docstring_examples.run_examples(fn["full"], kept, imports)["passed"]):
        return []  # a dropped example set up what a later one used
    return kept if docstring_examples.checks_a_call(kept, fn["name"]) else []


def build_chat_eval(docs: list[dict], prompts: int = 200, seed: int = 0) -> list[dict]:
    """Up to `prompts` single-turn prompts on the functions of docs (val-split files), one function each, the tasks
    taken in turn from EVAL_GROUPS while functions allow them. A record: id, kind, language, path, name, identifiers
    (the function's name, parameters, locals), params, messages (up to the last user turn), reference (the data's
    reply), doctest (Python, not for explain: {function_source, imports (the file's), examples that pass against
    the function}, or None)."""
    rng = random.Random(seed)
    fns = [(fn, d) for d in docs for fn in mine_functions(d) if len(fn["full"]) <= EVAL_MAX_CHARS]
    rng.shuffle(fns)
    runnable = {}  # function index -> (examples that pass, the file's imports)
    for i, (fn, d) in enumerate(fns):
        imports = docstring_examples.file_imports(d["text"]) if fn["examples"] else []
        if verified := verified_examples(fn, imports):
            runnable[i] = (verified, imports)
    # functions with runnable examples are few: every task but explain (which is not run) looks at them first, so
    # that the turns share them out, and explain last
    runnable_first = sorted(range(len(fns)), key=lambda i: i not in runnable)
    used, per_file, out = set(), {}, []

    def record(i: int, group) -> dict | None:
        fn, d = fns[i]
        kind = group if isinstance(group, str) else rng.choice(group)
        if per_file.get(d["path"], 0) >= MAX_PER_FILE:
            return None
        examples, imports = runnable.get(i, ([], [])) if kind != "explain" else ([], [])
        # a test reply states the examples that run when there are such, else all of them (then scored on parsing)
        conv = make_conversation({**fn, "examples": examples or fn["examples"]}, d["language"], rng, 0, first_kind=kind)
        if conv is None:
            return None
        return {"id": len(out), "kind": kind, "language": d["language"], "path": d["path"], "name": fn["name"],
                "identifiers": own_identifiers(fn), "params": fn["facts"]["params"], "messages": conv["messages"][:-1],
                "reference": conv["messages"][-1]["content"],
                "doctest": {"function_source": fn["full"], "imports": imports, "examples": examples} if examples else None}

    scans = {group: iter(runnable_first[::-1] if group == "explain" else runnable_first) for group in EVAL_GROUPS}
    while len(out) < prompts and scans:
        for group in list(scans):
            for i in scans[group]:
                rec = None if i in used else record(i, group)
                if rec is not None:
                    used.add(i)
                    per_file[rec["path"]] = per_file.get(rec["path"], 0) + 1
                    out.append(rec)
                    break
            else:
                del scans[group]  # no function left for this task
            if len(out) == prompts:
                break
    return out


def write_chat_eval(path: str, docs: list[dict], prompts: int = 200, seed: int = 0) -> dict:
    """build_chat_eval's records as JSON lines in `path`; returns the set's figures."""
    records = build_chat_eval(docs, prompts, seed)
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    stats = {"examples": len(records), "by_kind": {}, "by_language": {},
             "with_doctests": sum(r["doctest"] is not None for r in records),
             "doctest_examples": sum(len(r["doctest"]["examples"]) for r in records if r["doctest"])}
    for r in records:
        stats["by_kind"][r["kind"]] = stats["by_kind"].get(r["kind"], 0) + 1
        stats["by_language"][r["language"]] = stats["by_language"].get(r["language"], 0) + 1
    return stats


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
    # by_kind counts replies (a multi-turn conversation has several), by_turns conversations by their user turns
    stats = {"conversations": 0, "by_kind": {}, "by_turns": {}, "by_language": {}}
    for c in convs:
        i, m = tokenize_conversation(c["messages"], tok)
        if max_tokens is not None and len(ids) + len(i) + 1 > max_tokens:
            break
        ids += i + [eot]
        mask += m + [0]
        stats["conversations"] += 1
        for kind in c["turns"]:
            stats["by_kind"][kind] = stats["by_kind"].get(kind, 0) + 1
        turns = str(len(c["turns"]))
        stats["by_turns"][turns] = stats["by_turns"].get(turns, 0) + 1
        stats["by_language"][c["language"]] = stats["by_language"].get(c["language"], 0) + 1
    stats["available_conversations"] = len(convs)
    return ids, mask, stats
