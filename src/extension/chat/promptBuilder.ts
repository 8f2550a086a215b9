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
  return `${attachment.label} (${attachment.language}):\n${fence}${attachment.language}\n${attachment.text}\n${fence}`;
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

/**
 * @param history finished entries before the new request (user/assistant), oldest first
 * @param request the new user entry (with its attachments)
 * @param countTokens tokens of one message's content (plus a few for its turn markers, added here)
 * @param budget tokens available for the prompt (the context minus the reply's budget)
 */
export function buildPrompt(
  history: readonly ChatEntry[],
  request: Pick<ChatEntry, 'content' | 'attachments'>,
  countTokens: (text: string) => number,
  budget: number,
): BuiltPrompt {
  const TURN_OVERHEAD = 4; // <|im_start|>role\n ... <|im_end|>\n
  const cost = (text: string) => countTokens(text) + TURN_OVERHEAD;
  let remaining = budget - cost(SYSTEM_PROMPT);
  const notes: string[] = [];

  // The request itself; if its attachments do not fit, cut them from the end and say so.
  let content = userMessageContent(request);
  if (cost(content) > remaining) {
    const words = requestText(request.content);
    const room = remaining - cost(words) - 16;
    const attached = (request.attachments ?? []).map(formatAttachment).join('\n\n');
    const kept = room > 0 ? truncateToTokens(attached, room, countTokens) : '';
    content = kept ? `${words}\n\n${kept}\n[… truncated]` : words;
    notes.push('the attached code was truncated to fit the context');
  }
  remaining -= cost(content);

  // Older turns, newest first, as whole user+assistant pairs where possible.
  const older: ChatMessage[] = [];
  let dropped = 0;
  const usable = history.filter((e) => e.status === 'done' || e.status === 'stopped' || e.role === 'user');
  for (let i = usable.length - 1; i >= 0; i--) {
    const entry = usable[i]!;
    const text = entry.role === 'user' ? userMessageContent(entry) : entry.content;
    const tokens = cost(text);
    if (tokens > remaining) {
      dropped = i + 1;
      break;
    }
    remaining -= tokens;
    older.unshift({ role: entry.role, content: text });
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

/** The longest prefix of `text` (cut at a line end where possible) within `maxTokens`. */
export function truncateToTokens(text: string, maxTokens: number, countTokens: (text: string) => number): string {
  if (countTokens(text) <= maxTokens) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (countTokens(text.slice(0, mid)) <= maxTokens) low = mid;
    else high = mid - 1;
  }
  const cut = text.slice(0, low);
  const lineEnd = cut.lastIndexOf('\n');
  return lineEnd > low / 2 ? cut.slice(0, lineEnd) : cut;
}
