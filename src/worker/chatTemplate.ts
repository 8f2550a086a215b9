// A model's chat template: Jinja code from the model folder's tokenizer_config.json, run by @huggingface/jinja within
// a time limit. The template is the folder's code, so a loop in it must not hold the engine's thread: without the
// limit only the host's watchdog (30 s, then a new worker and a reload) would end it, on every chat request.

import * as vm from 'node:vm';
import { Template } from '@huggingface/jinja';
import { EngineError } from '../protocol/engine';
import { durationText } from '../protocol/estimates';

/** How long parsing or one rendering may take. Real templates take well under a millisecond for a conversation. */
export const TEMPLATE_TIME_LIMIT_MS = 1000;
/** The longest template accepted: the Hub's largest (tool-calling variants) are around 10,000 characters. */
export const MAX_TEMPLATE_CHARS = 256 * 1024;
/** What a rendering may add to the conversation's own text (role markers, system prompts, tool lists). */
const MAX_RENDERED_OVERHEAD_CHARS = 1_000_000;

/** Runs `work` in a context of its own so that V8 can stop it after `limitMs` (vm's timeout ends any JavaScript it runs). */
const CALL_WORK = new vm.Script('work()');

function withinTimeLimit<T>(work: () => T, limitMs: number, what: string): T {
  try {
    return CALL_WORK.runInContext(vm.createContext({ work }), { timeout: limitMs }) as T;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new EngineError(`The model's chat template (tokenizer_config.json) did not finish ${what} within ${durationText(limitMs)} and was stopped.`, 'model-invalid');
    }
    throw new EngineError(`The model's chat template (tokenizer_config.json) failed ${what}: ${(error as Error)?.message ?? String(error)}`, 'model-invalid');
  }
}

export class ChatTemplate {
  private constructor(
    private readonly template: Template,
    private readonly limitMs: number,
  ) {}

  /** Parses a template; a broken, oversized or endlessly parsing one is refused with `model-invalid`. */
  static parse(source: string, limitMs = TEMPLATE_TIME_LIMIT_MS): ChatTemplate {
    if (source.length > MAX_TEMPLATE_CHARS) {
      throw new EngineError(`The model's chat template (tokenizer_config.json) is ${source.length} characters; the most accepted is ${MAX_TEMPLATE_CHARS}.`, 'model-invalid');
    }
    return new ChatTemplate(
      withinTimeLimit(() => new Template(source), limitMs, 'parsing'),
      limitMs,
    );
  }

  /** The template's text for `context`; a rendering that errs, runs past the time limit or balloons fails with `model-invalid`. */
  render(context: { messages: ReadonlyArray<{ content: string }> } & Record<string, unknown>): string {
    const rendered = withinTimeLimit(() => this.template.render(context), this.limitMs, 'rendering');
    if (typeof rendered !== 'string') throw new EngineError("The model's chat template (tokenizer_config.json) rendered no text.", 'model-invalid');
    const given = context.messages.reduce((sum, message) => sum + message.content.length, 0);
    if (rendered.length > given + MAX_RENDERED_OVERHEAD_CHARS) {
      throw new EngineError(`The model's chat template (tokenizer_config.json) rendered ${rendered.length} characters from ${given} of conversation.`, 'model-invalid');
    }
    return rendered;
  }
}
