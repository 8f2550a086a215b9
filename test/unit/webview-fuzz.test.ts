// Property-based checks (fast-check) of the two gates every webview message passes before the host acts on it: for
// any value at all, and for messages of every known type with arbitrary fields, the validator never throws and either
// refuses (null) or returns a plain object of a known type that validates to itself, with nothing added.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateAttentionMessage } from '../../src/protocol/attention';
import { validateWebviewMessage } from '../../src/protocol/chat';

const CHAT_TYPES = ['ready', 'send', 'stop', 'regenerate', 'editLast', 'retry', 'newChat', 'openConversation', 'deleteConversation', 'attach', 'removeAttachment', 'draft', 'codeAction', 'setup'];
const ATTENTION_TYPES = ['ready', 'requestMatrix', 'requestRows', 'hoverToken', 'revealToken', 'exportPng', 'exportJson'];
const FIELDS = ['text', 'id', 'kind', 'action', 'code', 'language', 'view', 'requestId', 'layer', 'query', 'index', 'dataUrl', 'name', 'head'];

/** Values shaped like what a page could send: JSON, some near-misses of valid fields, and prototype keys. */
const field = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('file', 'selection', 'insert', 'copy', 'selectModel', 'head', 'mean', 'rollout', '__proto__', 'constructor', 'x.png', 'data:image/png;base64,AAAA'),
  fc.record({ kind: fc.constantFrom('head', 'mean', 'max', 'rollout', 'x'), layer: fc.oneof(fc.nat(2000), fc.double()), head: fc.oneof(fc.nat(2000), fc.string()) }),
  fc.integer({ min: -5, max: 40_000 }),
);
const message = (types: string[]) =>
  fc.tuple(fc.constantFrom(...types), fc.dictionary(fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'extra'), field)).map(([type, fields]) => ({ ...fields, type }));

function checkGate(validate: (raw: unknown) => unknown, types: string[]): void {
  const accepted = (raw: unknown): boolean => {
    const result = validate(raw) as Record<string, unknown> | null;
    if (result === null) return true;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(types).toContain(result['type']);
    expect(validate(structuredClone(result))).toEqual(result); // a validated message validates to itself
    for (const key of Object.keys(result)) expect(key === 'type' || FIELDS.includes(key)).toBe(true);
    return true;
  };
  fc.assert(fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), accepted), { numRuns: 3000, seed: 20261206 });
  fc.assert(fc.property(message(types), accepted), { numRuns: 5000, seed: 20261207 });
}

describe('webview message gates under arbitrary input', () => {
  it('the chat view\'s', () => checkGate(validateWebviewMessage, CHAT_TYPES));
  it('the attention view\'s', () => checkGate(validateAttentionMessage, ATTENTION_TYPES));
  it('the generator reaches every type\'s acceptance (the properties are not vacuous)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(message([...CHAT_TYPES]), (raw) => {
        const result = validateWebviewMessage(raw);
        if (result) seen.add(result.type);
        return true;
      }),
      { numRuns: 5000, seed: 20261207 },
    );
    expect([...seen].sort()).toEqual(expect.arrayContaining(['attach', 'draft', 'newChat', 'ready', 'regenerate', 'retry', 'send', 'setup', 'stop']));
  });
});
