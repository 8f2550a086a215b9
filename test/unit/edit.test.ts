// Edits (issue 19), the parts without VS Code: the proposal's hunks and what the region shows as they are decided
// (offsets after partial accepts), streaming's pending lines, extracting the code from messy answers, refusing
// unusable ones, indentation, where a chat code block belongs, and the prompts.

import { describe, expect, it } from 'vitest';
import { locateBlock } from '../../src/extension/chat/applyTarget';
import { extractCode, matchIndentation, unusableAnswer } from '../../src/extension/edit/answer';
import { baseEditPrompt, EDIT_SYSTEM_PROMPT, editMessages, type EditRequest } from '../../src/extension/edit/editPrompt';
import { Proposal } from '../../src/extension/edit/proposal';

const ORIGINAL = ['def total(items):', '    s = 0', '    for i in items:', '        s += i', '    return s'];
const PROPOSED = ['def total(items: list[int]) -> int:', '    s = 0', '    for i in items:', '        s += i', '    # the sum', '    return s'];

/** "-text" removed, "+text" added, " text" same, "~text" pending. */
const picture = (proposal: Proposal) => proposal.display().map((l) => ({ same: ' ', removed: '-', added: '+', pending: '~' })[l.kind] + l.text);

describe('a proposal: hunks, decisions, what the region shows', () => {
  it('groups the line diff into hunks and shows both sides of each open one', () => {
    const proposal = new Proposal(ORIGINAL, PROPOSED, false);
    expect(proposal.hunks.map((h) => [h.removed, h.added])).toEqual([
      [['def total(items):'], ['def total(items: list[int]) -> int:']],
      [[], ['    # the sum']],
    ]);
    expect(picture(proposal)).toEqual(['-def total(items):', '+def total(items: list[int]) -> int:', '     s = 0', '     for i in items:', '         s += i', '+    # the sum', '     return s']);
    expect(proposal.display().filter((l) => l.hunk === 1).map((l) => l.text)).toEqual(['    # the sum']);
  });

  it('accepting one hunk and rejecting the other leaves the other hunk\'s lines where they were', () => {
    const proposal = new Proposal(ORIGINAL, PROPOSED, false);
    proposal.decide(1, 'accepted');
    // The first hunk is still open and in the same place; the accepted line is plain text now.
    expect(picture(proposal)).toEqual(['-def total(items):', '+def total(items: list[int]) -> int:', '     s = 0', '     for i in items:', '         s += i', '     # the sum', '     return s']);
    expect(proposal.settled).toBe(false);
    proposal.decide(0, 'rejected');
    expect(proposal.settled).toBe(true);
    expect(proposal.resolved()).toEqual(['def total(items):', '    s = 0', '    for i in items:', '        s += i', '    # the sum', '    return s']);
    // A decided hunk stays decided.
    proposal.decide(0, 'accepted');
    expect(proposal.resolved()[0]).toBe('def total(items):');
  });

  it('accept all gives the proposal, reject all the original, exactly', () => {
    const accepted = new Proposal(ORIGINAL, PROPOSED, false);
    accepted.decideAll('accepted');
    expect(accepted.display().map((l) => l.text)).toEqual(PROPOSED);
    const rejected = new Proposal(ORIGINAL, PROPOSED, false);
    rejected.decideAll('rejected');
    expect(rejected.display().map((l) => l.text)).toEqual(ORIGINAL);
    expect(rejected.display().every((l) => l.kind === 'same')).toBe(true);
  });

  it('while streaming, the original past the last matched line is pending, not removed', () => {
    const partial = new Proposal(ORIGINAL, PROPOSED.slice(0, 2), true);
    expect(picture(partial)).toEqual(['-def total(items):', '+def total(items: list[int]) -> int:', '     s = 0', '~    for i in items:', '~        s += i', '~    return s']);
    expect(partial.settled).toBe(false);
    // Nothing matched yet: all of it pending, the new lines above it.
    expect(picture(new Proposal(ORIGINAL, ['"""Adds."""'], true))).toEqual(['+"""Adds."""', ...ORIGINAL.map((l) => `~${l}`)]);
    // The same lines once the answer is complete: what was not repeated is removed.
    expect(picture(new Proposal(ORIGINAL, PROPOSED.slice(0, 2), false)).filter((l) => l.startsWith('-'))).toEqual(['-def total(items):', '-    for i in items:', '-        s += i', '-    return s']);
  });

  it('an insertion (an empty region) is one added hunk', () => {
    const proposal = new Proposal([], ['x = 1', 'y = 2'], false);
    expect(picture(proposal)).toEqual(['+x = 1', '+y = 2']);
    proposal.decide(0, 'rejected');
    expect(proposal.display()).toEqual([]);
  });
});

describe('the code in an answer', () => {
  it('takes the first fenced block from prose around it, any fence length or tilde', () => {
    expect(extractCode('Here is the updated function:\n\n```python\ndef f():\n    return 1\n```\n\nThis adds a return.', true)).toEqual(['def f():', '    return 1']);
    expect(extractCode('~~~ts\nconst a = 1;\n~~~\n', true)).toEqual(['const a = 1;']);
    expect(extractCode('````md\n```js\nx\n```\n````', true)).toEqual(['```js', 'x', '```']);
    expect(extractCode('Sure!\r\n```js\r\nlet a = 1;\r\n```', true)).toEqual(['let a = 1;']);
  });

  it('streams: an open fence runs to the end, the unfinished last line waits', () => {
    expect(extractCode('```python\ndef f():\n    ret', false)).toEqual(['def f():']);
    expect(extractCode('```python\ndef f():\n    return 1', true)).toEqual(['def f():', '    return 1']);
  });

  it('without a fence: prose lines before and after the code go', () => {
    expect(extractCode('Here is the rewritten code:\ndef f(x: int) -> int:\n    return x\nThis version adds type hints.', true)).toEqual(['def f(x: int) -> int:', '    return x']);
    // Code that reads like a sentence stays (it has code punctuation).
    expect(extractCode('Result = compute(a, b);\n', true)).toEqual(['Result = compute(a, b);']);
  });

  it('re-indents an answer that lost the region\'s indentation, and leaves a matching one alone', () => {
    const method = ['    def area(self):', '        return 1'];
    expect(matchIndentation(method, ['def area(self) -> int:', '    return 1', '', '    # done'])).toEqual(['    def area(self) -> int:', '        return 1', '', '        # done']);
    expect(matchIndentation(method, ['    def area(self) -> int:', '        return 2'])).toEqual(['    def area(self) -> int:', '        return 2']);
    expect(matchIndentation(['\tif x:', '\t\ty()'], ['if x:', '\ty()'])).toEqual(['\tif x:', '\t\ty()']);
  });

  it('refuses an empty answer, an unchanged one, and the whole file when a function was asked for', () => {
    expect(unusableAnswer(ORIGINAL, [], [])).toMatch(/no code/);
    expect(unusableAnswer(ORIGINAL, ['', '  '], [])).toMatch(/no code/);
    expect(unusableAnswer(ORIGINAL, [...ORIGINAL], [])).toMatch(/unchanged/);
    const around = ['import os', 'import sys', '', 'LIMIT = 10', 'def other():', '    return LIMIT', 'print(total([1]))'];
    expect(unusableAnswer(ORIGINAL, [...around.slice(0, 4), ...PROPOSED, ...around.slice(4)], around)).toMatch(/whole file/);
    expect(unusableAnswer(ORIGINAL, PROPOSED, around)).toBeUndefined();
  });
});

describe('where a chat code block belongs', () => {
  const FILE = [
    'import math', '', '', '@cache', 'def area(r):', '    return math.pi * r * r', '', '', 'def total(items):', '    s = 0', '    for i in items:', '        s += i', '    return s', '', '', 'print(total([1, 2]))',
  ];

  it('the definition of the same name, with its decorators, to the end of its block', () => {
    expect(locateBlock(FILE, ['def total(items: list[int]) -> int:', '    return sum(items)'])).toEqual({ first: 8, last: 12 });
    expect(locateBlock(FILE, ['def area(r: float) -> float:', '    return math.pi * r ** 2'])).toEqual({ first: 3, last: 5 });
    // The block restates the decorator: the same lines.
    expect(locateBlock(FILE, ['@cache', 'def area(r):', '    return 3.14 * r * r'])).toEqual({ first: 3, last: 5 });
  });

  it('TypeScript: a function, a method in a class, a const arrow function', () => {
    const ts = ['export class Shape {', '  area(): number {', '    return 0;', '  }', '', '  name(): string {', '    return "s";', '  }', '}', '', 'export const double = (x: number) => {', '  return 2 * x;', '};'];
    expect(locateBlock(ts, ['  name(): string {', '    return "shape";', '  }'])).toEqual({ first: 5, last: 7 });
    expect(locateBlock(ts, ['export const double = (x: number): number => {', '  return x * 2;', '};'])).toEqual({ first: 10, last: 12 });
  });

  it('else the lines it shares most of its own with; nothing when it shares too little', () => {
    expect(locateBlock(FILE, ['    s = 0', '    for i in items:', '        s += i * 2'])).toEqual({ first: 9, last: 10 });
    expect(locateBlock(FILE, ['x = compute()', 'print(x)'])).toBeUndefined();
    expect(locateBlock(FILE, ['', '  '])).toBeUndefined();
  });
});

describe('edit prompts', () => {
  const request: EditRequest = { fileName: 'src/calc.py', language: 'python', code: ORIGINAL.join('\n'), before: 'import math', after: 'print(total([1]))', instruction: ' add type hints ' };

  it('an instruct model gets the system prompt, the region, its context and the instruction', () => {
    const messages = editMessages(request);
    expect(messages[0]).toEqual({ role: 'system', content: EDIT_SYSTEM_PROMPT });
    expect(messages[1]!.content).toBe(
      'Rewrite this code from src/calc.py:\n```python\n' + ORIGINAL.join('\n') + '\n```\n\n' +
        'The code just before it in src/calc.py (for context; do not repeat it):\n```python\nimport math\n```\n\n' +
        'The code just after it (for context; do not repeat it):\n```python\nprint(total([1]))\n```\n\nInstruction: add type hints',
    );
  });

  it('a follow-up continues the conversation with the last answer', () => {
    const messages = editMessages({ ...request, instruction: 'also keep the comments' }, [{ instruction: 'add type hints', answer: PROPOSED.join('\n') }]);
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[1]!.content).toMatch(/Instruction: add type hints$/);
    expect(messages[2]!.content).toBe('```python\n' + PROPOSED.join('\n') + '\n```');
    expect(messages[3]!.content).toBe('Instruction: also keep the comments');
  });

  it('a base model continues a template whose answer ends at the closing fence; fences outgrow backticks in the code', () => {
    const { prompt, stop } = baseEditPrompt(request);
    expect(prompt.endsWith('The same code changed as follows: add type hints\n```python\n')).toBe(true);
    expect(stop).toEqual(['\n```']);
    const withFence = baseEditPrompt({ ...request, code: 'doc = """\n```\n"""' });
    expect(withFence.stop).toEqual(['\n````']);
  });
});
