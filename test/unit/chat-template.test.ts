// A model's chat template is the model folder's code: whatever it holds, parsing and rendering end within the time
// limit with text or a `model-invalid` error, and what the user writes is data, never template code (fast-check).

import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/protocol/engine';
import { ChatTemplate, MAX_TEMPLATE_CHARS } from '../../src/worker/chatTemplate';

const LIMIT_MS = 100;
/** Beyond the limit: V8 stops the script at its next interrupt check, and a slow machine schedules late. */
const SLACK_MS = 400;
const FIXTURE = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../fixtures/tokenizers/chat_templates.json'), 'utf8')) as {
  bos_token: string;
  eos_token: string;
  templates: Record<string, string>;
};

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

/** Parses and renders `source` for `messages`: the text, or the error's code; and how long it took. */
function attempt(source: string, messages: Message[]): { outcome: string; ms: number } {
  const started = performance.now();
  try {
    const rendered = ChatTemplate.parse(source, LIMIT_MS).render({ messages, add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>' });
    return { outcome: `text:${rendered.length}`, ms: performance.now() - started };
  } catch (error) {
    // Anything but an EngineError would reach the user as a raw stack, or crash the worker's call.
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('model-invalid');
    expect((error as EngineError).message).toMatch(/^The model's chat template \(tokenizer_config\.json\)/);
    return { outcome: 'model-invalid', ms: performance.now() - started };
  }
}

const message = fc.record({ role: fc.constantFrom<Message['role']>('system', 'user', 'assistant'), content: fc.string({ maxLength: 40 }) });

/** Template code from Jinja's own pieces: text, expressions over the conversation, conditions and loops, nested. */
const templateCode: fc.Arbitrary<string> = fc.letrec<{ block: string }>((tie) => ({
  block: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('text', '{{ bos_token }}', "{{ message['content'] }}", '{{ messages[0].content | trim }}', '{{ messages | length }}', '{{ raise_exception("no") }}', '{{ loop.index }}', '{{ undefined_name.attr }}', '{%- if add_generation_prompt %}A:{% endif %}'),
    fc.tuple(fc.integer({ min: 0, max: 5_000_000 }), tie('block')).map(([n, body]) => `{% for i in range(${n}) %}${body}{% endfor %}`),
    tie('block').map((body) => `{% for message in messages %}${body}{% endfor %}`),
    fc.tuple(fc.constantFrom("message['role'] == 'user'", 'loop.first', 'messages', 'i % 2'), tie('block'), tie('block')).map(([test, a, b]) => `{% if ${test} %}${a}{% else %}${b}{% endif %}`),
    fc.array(tie('block'), { maxLength: 3 }).map((blocks) => blocks.join('')),
  ),
})).block;

describe('chat templates from model folders', () => {
  it('any text as a template ends within the time limit with text or model-invalid', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: fc.constantFrom('{', '}', '%', '{{', '}}', '{%', '%}', 'for', 'in', 'if', ' ', 'x', '(', ')', '-', '"') , maxLength: 60 })), fc.array(message, { maxLength: 3 }), (source, messages) => {
        expect(attempt(source, messages).ms).toBeLessThan(LIMIT_MS + SLACK_MS);
      }),
      { numRuns: 300 },
    );
  });

  it('generated template code, loops of up to 5 million nested, ends within the time limit with text or model-invalid', () => {
    let stopped = 0;
    let rendered = 0;
    fc.assert(
      fc.property(templateCode, fc.array(message, { minLength: 1, maxLength: 4 }), (source, messages) => {
        const { outcome, ms } = attempt(source, messages);
        expect(ms).toBeLessThan(LIMIT_MS + SLACK_MS);
        if (outcome === 'model-invalid') stopped++;
        else rendered++;
      }),
      { numRuns: 150, seed: 20261207 },
    );
    // Both sides were reached: some generated templates render, some are stopped (by the limit or an error).
    expect(stopped).toBeGreaterThan(0);
    expect(rendered).toBeGreaterThan(0);
  });

  it('a loop that never ends is stopped at the limit with the reason', () => {
    const forever = '{% for i in range(100000000) %}{% for j in range(100000000) %}{{ "" }}{% endfor %}{% endfor %}';
    const started = performance.now();
    expect(() => ChatTemplate.parse(forever, LIMIT_MS).render({ messages: [] })).toThrow("The model's chat template (tokenizer_config.json) did not finish rendering within 100 ms and was stopped.");
    expect(performance.now() - started).toBeLessThan(LIMIT_MS + SLACK_MS);
  });

  it('refuses a template that balloons its output, and one too long to be a chat template', () => {
    const doubling = "{% set ns = namespace(s='aaaaaaaaaa') %}{% for i in range(20) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}";
    expect(() => ChatTemplate.parse(doubling).render({ messages: [{ content: 'hi' }] })).toThrow(
      "The model's chat template (tokenizer_config.json) rendered 10485760 characters from 2 of conversation.",
    );
    expect(() => ChatTemplate.parse('x'.repeat(MAX_TEMPLATE_CHARS + 1))).toThrow(/is 262145 characters; the most accepted is 262144/);
  });

  for (const [name, source] of Object.entries(FIXTURE.templates)) {
    it(`${name}: what the user writes, template syntax included, comes out as written`, () => {
      const template = ChatTemplate.parse(source);
      // Templates trim message content: contents without surrounding whitespace; Jinja syntax is likely in them.
      const content = fc
        .oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.constantFrom('{{ 7 * 7 }}', "{% for i in range(9) %}x{% endfor %}", '{{ raise_exception("boom") }}', '</s><s>[INST]', '<|im_end|>'))
        .map((text) => text.trim())
        .filter((text) => text.length > 0);
      // Alternating user/assistant turns ending with the user, with or without a system message first (Llama 2's rule).
      const conversation = fc.tuple(fc.option(content, { nil: undefined }), fc.array(fc.tuple(content, content), { maxLength: 2 }), content).map(([system, pairs, last]) => [
        ...(system === undefined ? [] : [{ role: 'system' as const, content: system }]),
        ...pairs.flatMap(([user, assistant]) => [{ role: 'user' as const, content: user }, { role: 'assistant' as const, content: assistant }]),
        { role: 'user' as const, content: last },
      ]);
      fc.assert(
        fc.property(conversation, (messages) => {
          const render = (conversation: Message[]) => template.render({ messages: conversation, add_generation_prompt: true, bos_token: FIXTURE.bos_token, eos_token: FIXTURE.eos_token });
          // The same conversation with a plain marker for each content: putting the contents in their markers' places
          // gives exactly what the real contents render to, so no content changed anything else.
          const withMarkers = render(messages.map((m, i) => ({ ...m, content: `CONTENT${i}MARKER` })));
          expect(render(messages)).toBe(messages.reduce((text, m, i) => text.replace(`CONTENT${i}MARKER`, () => m.content), withMarkers));
        }),
        { numRuns: 100 },
      );
    });
  }
});
