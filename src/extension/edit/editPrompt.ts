// What an edit request sends the model. Instruct models (a chat template, or any model server): a system prompt that
// asks for only the rewritten code in one fenced block, the code around the region as context, the region and the
// instruction; a follow-up instruction continues the same conversation. Base models: a template whose natural
// continuation is the rewritten code, ending at the closing fence. Pure (no `vscode`).

import type { ChatMessage } from '../../protocol/engine';

export const EDIT_SYSTEM_PROMPT =
  'You rewrite code as instructed. Reply with only the complete rewritten code, in one fenced code block, with no explanation before or after it. Keep the code\'s indentation, and change nothing the instruction does not ask for.';

export interface EditRequest {
  /** Workspace-relative path, for the model's orientation. */
  fileName: string;
  /** VS Code's language id ("python"): the fence's info string. */
  language: string;
  /** The lines to rewrite, joined by "\n". */
  code: string;
  /** A few lines before and after the region (already cut to the budget), or "". */
  before: string;
  after: string;
  instruction: string;
}

/** A fence longer than any run of backticks in `text`. */
function fenceFor(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

/** The first user message: context, region, instruction. */
function firstRequest(request: EditRequest): string {
  const fence = fenceFor(request.before + request.code + request.after);
  const context = [
    request.before ? `The code just before it in ${request.fileName} (for context; do not repeat it):\n${fence}${request.language}\n${request.before}\n${fence}` : '',
    request.after ? `The code just after it (for context; do not repeat it):\n${fence}${request.language}\n${request.after}\n${fence}` : '',
  ].filter(Boolean);
  return [
    `Rewrite this code from ${request.fileName}:\n${fence}${request.language}\n${request.code}\n${fence}`,
    ...context,
    `Instruction: ${request.instruction.trim()}`,
  ].join('\n\n');
}

/**
 * Chat messages for an instruct model. `followUps`: earlier rounds on the same region, oldest first (each the
 * instruction and the code the model answered), then `request.instruction` refines the last answer.
 */
export function editMessages(request: EditRequest, followUps: ReadonlyArray<{ instruction: string; answer: string }> = []): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: EDIT_SYSTEM_PROMPT }];
  if (!followUps.length) return [...messages, { role: 'user', content: firstRequest(request) }];
  const [first, ...later] = followUps;
  messages.push({ role: 'user', content: firstRequest({ ...request, instruction: first!.instruction }) });
  let previous = first!.answer;
  for (const round of later) {
    messages.push({ role: 'assistant', content: fenced(previous, request.language) }, { role: 'user', content: `Instruction: ${round.instruction.trim()}` });
    previous = round.answer;
  }
  messages.push({ role: 'assistant', content: fenced(previous, request.language) }, { role: 'user', content: `Instruction: ${request.instruction.trim()}` });
  return messages;
}

function fenced(code: string, language: string): string {
  const fence = fenceFor(code);
  return `${fence}${language}\n${code}\n${fence}`;
}

/**
 * A prompt for a base (completion-only) model, and where its answer ends: the template opens a fence for the
 * rewritten code, so the model's continuation up to the closing fence is the answer.
 */
export function baseEditPrompt(request: EditRequest): { prompt: string; stop: string[] } {
  const fence = fenceFor(request.before + request.code + request.after);
  const prompt = [
    `File: ${request.fileName}`,
    request.before ? `${fence}${request.language}\n${request.before}\n${fence}` : '',
    `Original code:\n${fence}${request.language}\n${request.code}\n${fence}`,
    `The same code changed as follows: ${request.instruction.trim()}\n${fence}${request.language}\n`,
  ]
    .filter(Boolean)
    .join('\n\n');
  return { prompt, stop: [`\n${fence}`] };
}
