// Tokenizer and chat template of a model folder: @huggingface/tokenizers for tokenizer.json,
// @huggingface/jinja for the chat template in tokenizer_config.json (chatTemplate.ts, within a time limit).

import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError, type ChatMessage } from '../protocol/engine';
import { MAX_TOKEN_CHARS } from '../protocol/estimates';
import { ChatTemplate } from './chatTemplate';

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

export class ModelTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly chatTemplate: ChatTemplate | null;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  /** Largest token id + 1, counting added tokens. */
  readonly vocabSize: number;
  private readonly byteLevel: boolean;
  private readonly specialIds: Set<number>;
  private texts: string[] | null = null;

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>) {
    try {
      this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new EngineError(`tokenizer.json could not be loaded: ${(error as Error).message}`, 'model-invalid');
    }
    this.bosToken = tokenContent(tokenizerConfig['bos_token']);
    this.eosToken = tokenContent(tokenizerConfig['eos_token']);
    const template = tokenizerConfig['chat_template'];
    this.chatTemplate = typeof template === 'string' ? ChatTemplate.parse(template) : null;
    let maxId = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    const decoder = tokenizerJson['decoder'] as { type?: unknown } | null | undefined;
    this.byteLevel = decoder?.type === 'ByteLevel';
    this.specialIds = new Set([...this.tokenizer.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id));
  }

  /** Text of every token id, for constraining generation to a prefix (token healing). */
  tokenTexts(): readonly string[] {
    if (!this.texts) this.texts = Array.from({ length: this.vocabSize }, (_, id) => this.decode([id], false));
    return this.texts;
  }

  private readonly textById = new Map<number, string>();

  /** One token's text, decoded once (from tokenTexts() when that exists; a few thousand ids repeat in predictions). */
  tokenText(id: number): string {
    if (this.texts) return this.texts[id] ?? '';
    let text = this.textById.get(id);
    if (text === undefined) {
      text = this.decode([id], false);
      this.textById.set(id, text);
    }
    return text;
  }

  /**
   * Splits off the text of the prompt's last token when healing can work: a byte-level tokenizer (token text equals
   * the bytes it covers) and an ordinary last token. Returns the shortened prompt and the removed tail.
   */
  healingSplit(prompt: string): { prompt: string; tail: string } {
    if (!this.byteLevel) return { prompt, tail: '' };
    const ids = this.encode(prompt);
    const last = ids.at(-1);
    if (last === undefined || ids.length < 2 || this.specialIds.has(last)) return { prompt, tail: '' };
    const tail = this.decode([last], false);
    if (!tail || tail.includes('\uFFFD') || !prompt.endsWith(tail)) return { prompt, tail: '' };
    return { prompt: prompt.slice(0, prompt.length - tail.length), tail };
  }

  get hasChatTemplate(): boolean {
    return this.chatTemplate !== null;
  }

  /** Encodes text; special tokens written in the text (e.g. `<|im_start|>`) become their ids. */
  encode(text: string, addSpecialTokens = false): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** The longest prefix of `text` within `maxTokens` tokens, cut at a line end where that keeps over half of it. */
  truncate(text: string, maxTokens: number): string {
    // Only the start can be kept: tokenizing more than MAX_TOKEN_CHARS characters a token cannot change the answer,
    // and a 10 MB text costs seconds (the tokenizer is superlinear on long lines).
    if (text.length > maxTokens * MAX_TOKEN_CHARS) {
      const head = text.slice(0, maxTokens * MAX_TOKEN_CHARS);
      const kept = this.truncate(head, maxTokens);
      return kept === head ? cutAtLineEnd(head) : kept; // the text goes on: cut at a line end all the same
    }
    const ids = this.encode(text);
    if (ids.length <= maxTokens) return text;
    // One tokenization: the text of the first maxTokens tokens, when decoding gives the text back (no normaliser).
    const decoded = this.decode(ids.slice(0, maxTokens), false).replace(/\uFFFD+$/, '');
    return decoded && text.startsWith(decoded) ? cutAtLineEnd(decoded) : truncateToTokens(text, maxTokens, (part) => this.encode(part).length);
  }

  decode(ids: readonly number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return ''; // tokenizers.js throws on an empty list
    // Cleanup would rewrite code (" ." -> "."), whatever the tokenizer config says.
    return this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: false });
  }

  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  applyChatTemplate(messages: ChatMessage[]): string {
    if (!this.chatTemplate) return plainChatPrompt(messages);
    return this.chatTemplate.render({
      messages,
      add_generation_prompt: true,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
    });
  }

  /**
   * UTF-16 [start, end) of each token in the decoded text. Decoding the whole prefix at every token would be
   * quadratic, so each token's text is decoded in a short window: from the last token that ended on a character
   * boundary, with one token of context before it (SentencePiece drops the space of a sequence's first word, so a
   * window must not start at the token being measured), minus that context. This works for byte-level and
   * SentencePiece tokenizers alike. A token that ends inside a multi-byte character gets an empty range; the token
   * completing the character covers it.
   */
  offsets(ids: readonly number[]): Array<[number, number]> {
    const ranges: Array<[number, number]> = [];
    let previousEnd = 0;
    let anchor = 0; // first token not yet accounted for in `previousEnd`
    for (let i = 0; i < ids.length; i++) {
      const context = anchor > 0 ? ids.slice(anchor - 1, anchor) : [];
      const contextLength = context.length ? this.decode(context, false).length : 0;
      const decoded = this.decode([...context, ...ids.slice(anchor, i + 1)], false);
      if (decoded.endsWith('\uFFFD')) {
        ranges.push([previousEnd, previousEnd]); // inside a multi-byte character: the next token completes it
        continue;
      }
      const end = previousEnd + Math.max(0, decoded.length - contextLength);
      // Tokens since the anchor that were pending (empty) stay empty; this one covers the whole run.
      ranges.push([previousEnd, end]);
      previousEnd = end;
      anchor = i + 1;
    }
    return ranges;
  }
}

/** Where a reply ends in the plain chat format (the model starts the user's next turn). */
export const PLAIN_CHAT_STOP = '\nUser:';

/**
 * The fallback for a model without a chat template (a completion-only model): a plain transcript the model can
 * continue, "User: ...\nAssistant: ...", ending with "Assistant:". The caller stops at PLAIN_CHAT_STOP.
 */
export function plainChatPrompt(messages: ChatMessage[]): string {
  const turns = messages.map((m) => (m.role === 'system' ? `${m.content}\n` : `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}\n`));
  return `${turns.join('')}Assistant:`;
}

/** `text` up to its last line end when that keeps over half of it: a cut mid-line reads as a broken line. */
function cutAtLineEnd(text: string): string {
  const lineEnd = text.lastIndexOf('\n');
  return lineEnd > text.length / 2 ? text.slice(0, lineEnd) : text;
}

/** The longest prefix of `text` (cut at a line end where possible) within `maxTokens`, by binary search on `countTokens`. */
export function truncateToTokens(text: string, maxTokens: number, countTokens: (text: string) => number): string {
  if (countTokens(text) <= maxTokens) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (countTokens(text.slice(0, mid)) <= maxTokens) low = mid;
    else high = mid - 1;
  }
  return cutAtLineEnd(text.slice(0, low));
}
