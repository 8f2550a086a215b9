// Turns generated token ids into text deltas for a stream. It never emits half a UTF-8 character (the decoder
// yields U+FFFD until the character is complete) nor half a word (text is held back to the last whitespace), and it
// holds back any tail that could still become a stop string, so a stop string never reaches the stream.

export interface StreamStep {
  /** New text safe to show now (may be empty). */
  delta: string;
  /** True when a stop string was found; the text before it has been emitted in full. */
  stopped: boolean;
}

export class TextStream {
  private readonly ids: number[] = [];
  /** Text of the tokens generated so far (decoded in one piece, so merges across tokens are right). */
  private text = '';
  private emitted = 0;

  /**
   * @param healedPrefix text the first token repeats from the prompt (token healing); it is not part of the output
   */
  constructor(
    private readonly decode: (ids: readonly number[]) => string,
    private readonly stopStrings: readonly string[] = [],
    private readonly healedPrefix = '',
  ) {}

  get fullText(): string {
    return this.text;
  }

  push(tokenId: number): StreamStep {
    this.ids.push(tokenId);
    const decoded = this.decode(this.ids);
    this.text = decoded.startsWith(this.healedPrefix) ? decoded.slice(this.healedPrefix.length) : decoded;
    const stopAt = this.findStop();
    if (stopAt >= 0) {
      this.text = this.text.slice(0, stopAt);
      return { delta: this.take(this.text.length), stopped: true };
    }
    if (this.text.endsWith('\uFFFD')) return { delta: '', stopped: false };
    let safe = this.text.length - this.stopPrefixLength();
    const lastSpace = lastWhitespace(this.text, safe);
    safe = lastSpace > this.emitted ? lastSpace : this.emitted;
    return { delta: this.take(safe), stopped: false };
  }

  /** Emits whatever is held back (at the end of generation). */
  flush(): string {
    const end = this.text.endsWith('\uFFFD') ? this.text.length - 1 : this.text.length;
    return this.take(end);
  }

  private take(end: number): string {
    if (end <= this.emitted) return '';
    const delta = this.text.slice(this.emitted, end);
    this.emitted = end;
    return delta;
  }

  private findStop(): number {
    let first = -1;
    for (const stop of this.stopStrings) {
      if (!stop) continue;
      // Only the part not yet emitted (plus a stop's length of overlap) can hold a new match.
      const from = Math.max(0, this.emitted - stop.length);
      const at = this.text.indexOf(stop, from);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first;
  }

  /** Length of the longest tail of the text that is a proper prefix of a stop string. */
  private stopPrefixLength(): number {
    let longest = 0;
    for (const stop of this.stopStrings) {
      for (let length = Math.min(stop.length - 1, this.text.length); length > longest; length--) {
        if (this.text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}

/** Index just after the last whitespace character before `end`, or -1. */
function lastWhitespace(text: string, end: number): number {
  for (let i = end - 1; i >= 0; i--) if (/\s/.test(text[i]!)) return i + 1;
  return -1;
}
