import random

import pytest

from training.data import chat_data
from training.data.bpe import SPECIAL_TOKENS, train_bpe
from training.data.chat_data import (build_conversations, js_functions, python_functions, render,
                                     tokenize_conversation, tokenize_conversations)

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


@pytest.fixture(scope="module")
def tok():
    return train_bpe([PY * 5, TS * 5, chat_data.SYSTEM_PROMPT * 3], 400, SPECIAL_TOKENS)


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
    assert c["params"] == [("x", "the value"), ("lo", "the lower bound")] and c["returns"] == "the clamped value"
    assert c["nodoc"].startswith("export function clamp(") and c["nodoc"].rstrip().endswith("}")
    assert c["full"].startswith("/**") and "/**" not in c["nodoc"]
    assert fns["joinPath"]["nodoc"].rstrip().endswith("};")


def test_mask_covers_exactly_the_reply(tok):
    msgs = [{"role": "system", "content": chat_data.SYSTEM_PROMPT}, {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "```python\nprint(4)\n```"}]
    ids, mask = tokenize_conversation(msgs, tok)
    assert len(ids) == len(mask)
    assert ids == tok.encode(render(msgs), allow_special=True)  # same ids as the JS runtime encoding the template
    assert tok.decode([i for i, m in zip(ids, mask) if m]) == "```python\nprint(4)\n```<|im_end|>"
    prompt = tok.decode([i for i, m in zip(ids, mask) if not m])
    assert prompt.endswith("<|im_start|>assistant\n\n") and "print(4)" not in prompt


def test_conversations_and_packing(tok):
    docs = [{"path": "a.py", "language": "python", "text": PY}, {"path": "b.ts", "language": "typescript", "text": TS},
            {"path": "c.d.ts", "language": "typescript", "text": TS}]
    convs = build_conversations(docs, seed=0)
    assert {c["path"] for c in convs} == {"a.py", "b.ts"}  # only the docs given (train or val), no .d.ts
    assert len(convs) == 4
    for c in convs:
        roles = [m["role"] for m in c["messages"]]
        assert roles == ["system", "user", "assistant"] and c["messages"][0]["content"] == chat_data.SYSTEM_PROMPT
    kinds = {build_conversations(docs, seed=s)[0]["kind"] for s in range(30)}
    assert kinds == set(chat_data.KIND_WEIGHTS)
    ids, mask, stats = tokenize_conversations(convs, tok)
    assert len(ids) == len(mask) and stats["conversations"] == 4 and ids.count(0) == 4  # one <|endoftext|> each
    assert all(m == 0 for i, m in zip(ids, mask) if i in (0, 4))  # no loss on <|endoftext|> / <|im_start|>
    assert sum(m for i, m in zip(ids, mask) if i == 5) == 4  # each assistant <|im_end|> is learned
    small, _, st = tokenize_conversations(convs, tok, max_tokens=len(ids) // 2)
    assert len(small) <= len(ids) // 2 and st["conversations"] < 4


def test_template_mentions_generation_prompt():
    assert "add_generation_prompt" in chat_data.CHAT_TEMPLATE and "<|im_start|>" in chat_data.CHAT_TEMPLATE
    msgs = [{"role": "user", "content": "hi"}]
    assert render(msgs, add_generation_prompt=True) == (
        f"<|im_start|>system\n{chat_data.SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_that_clause():
    assert chat_data._that_clause("Returns the sum.") == "that returns the sum"
    assert chat_data._that_clause("Compute the sum.") == "to compute the sum"
    assert chat_data._that_clause("HTTP helper does x") == "to HTTP helper does x"
