// Builds the messages sent to the model for a chat turn, within the model's context window by token count:
// the system prompt and the newest request always; attachments and older turns newest first while they fit.
// Pure (no vscode import) so it is unit-tested directly.

import type { ChatMessage } from '../../protocol/engine';
import { parseSlashCommand, type Attachment, type ChatEntry, type SlashCommand } from '../../protocol/chat';

export const SYSTEM_PROMPT = 'You are Attentive, a helpful coding assistant running locally in the editor.';

const INSTRUCTIONS: Record<Exclude<SlashCommand, 'clear'>, string> = {
  explain: 'Explain this code',
  fix: 'Find the problems in this code and fix them',
  doc: 'Write documentation for this code',
  tests: 'Write unit tests for this code',
};

/** The user's words for a request, with a slash command turned into its instruction. */
export function requestText(input: string): string {
  const { command, text } = parseSlashCommand(input);
  if (!command || command === 'clear') return text;
  return text ? `${INSTRUCTIONS[command]}: ${text}` : `${INSTRUCTIONS[command]}.`;
}

export function formatAttachment(attachment: Attachment): string {
  const fence = attachment.text.includes('```') ? '````' : '```';
  const notes = [
    attachment.language,
    attachment.cut ? `only its first ${attachment.cut.keptLines} of ${attachment.cut.totalLines} lines` : '',
    attachment.parts ? `only ${attachment.parts.kept} of ${attachment.parts.total} ${attachment.parts.unit}` : '',
  ].filter(Boolean);
  return `${attachment.label}${notes.length ? ` (${notes.join(', ')})` : ''}:\n${fence}${attachment.language}\n${attachment.text}\n${fence}`;
}

export function userMessageContent(entry: Pick<ChatEntry, 'content' | 'attachments'>): string {
  const request = requestText(entry.content);
  const attached = (entry.attachments ?? []).map(formatAttachment);
  return attached.length ? `${request}\n\n${attached.join('\n\n')}` : request;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  /** What was left out to fit, for the UI ("2 older messages left out"), or undefined. */
  trimmedNote?: string;
}

/** Token counts and cuts, from the engine's worker (which holds the model's tokenizer; the host keeps none). */
export interface TokenCounter {
  /** Tokens of each text (no special tokens). */
  count(texts: string[]): Promise<number[]>;
  /** The longest prefix of `text` within `maxTokens` tokens, cut at a line end where possible. */
  truncate(text: string, maxTokens: number): Promise<string>;
}

/**
 * @param history finished entries before the new request (user/assistant), oldest first
 * @param request the new user entry (with its attachments)
 * @param tokens counts one message's content (a few tokens for its turn markers are added here)
 * @param budget tokens available for the prompt (the context minus the reply's budget)
 */
export async function buildPrompt(
  history: readonly ChatEntry[],
  request: Pick<ChatEntry, 'content' | 'attachments'>,
  tokens: TokenCounter,
  budget: number,
): Promise<BuiltPrompt> {
  const TURN_OVERHEAD = 4; // <|im_start|>role\n ... <|im_end|>\n
  const usable = history.filter((e) => e.status === 'done' || e.status === 'stopped' || e.role === 'user');
  const olderTexts = usable.map((entry) => (entry.role === 'user' ? userMessageContent(entry) : entry.content));
  let content = userMessageContent(request);
  // One round trip for the usual case: the system prompt, the request and every older turn.
  const [systemTokens, contentTokens, ...olderTokens] = await tokens.count([SYSTEM_PROMPT, content, ...olderTexts]);
  let remaining = budget - (systemTokens! + TURN_OVERHEAD);
  const notes: string[] = [];

  // The request itself; if its attachments do not fit, cut them from the end and say so.
  let requestCost = contentTokens! + TURN_OVERHEAD;
  if (requestCost > remaining) {
    const words = requestText(request.content);
    const [wordTokens] = await tokens.count([words]);
    const room = remaining - (wordTokens! + TURN_OVERHEAD) - 16;
    const attached = (request.attachments ?? []).map(formatAttachment).join('\n\n');
    const kept = room > 0 ? await tokens.truncate(attached, room) : '';
    content = kept ? `${words}\n\n${kept}\n[… truncated]` : words;
    requestCost = (await tokens.count([content]))[0]! + TURN_OVERHEAD;
    notes.push('the attached code was truncated to fit the context');
  }
  remaining -= requestCost;

  // Older turns, newest first, as whole user+assistant pairs where possible.
  const older: ChatMessage[] = [];
  let dropped = 0;
  for (let i = usable.length - 1; i >= 0; i--) {
    const cost = olderTokens[i]! + TURN_OVERHEAD;
    if (cost > remaining) {
      dropped = i + 1;
      break;
    }
    remaining -= cost;
    older.unshift({ role: usable[i]!.role, content: olderTexts[i]! });
  }
  // A reply without its question confuses the model: drop a leading assistant turn.
  while (older[0]?.role === 'assistant') {
    older.shift();
    dropped++;
  }
  if (dropped > 0) notes.unshift(`${dropped} older message${dropped === 1 ? '' : 's'} left out`);

  const messages: ChatMessage[] = [{ role: 'system', content: SYSTEM_PROMPT }, ...older, { role: 'user', content }];
  return notes.length ? { messages, trimmedNote: notes.join('; ') } : { messages };
}
