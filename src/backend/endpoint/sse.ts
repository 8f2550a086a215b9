// Server-sent events as model servers send them: `data: <json>` lines separated by blank lines, ending with
// `data: [DONE]`. Chunks arrive split anywhere (even inside a UTF-8 character: the caller decodes with a streaming
// TextDecoder); comments (`: keep-alive`) and other fields are ignored.

export class SseParser {
  private buffer = '';
  private data: string[] = [];

  /** Feeds decoded text; calls `onData` with each complete event's data. */
  push(text: string, onData: (data: string) => void): void {
    this.buffer += text;
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) !== -1) {
      // A '\r' at the very end may be the first half of '\r\n': wait for the next chunk.
      if (newline === this.buffer.length - 1 && this.buffer[newline] === '\r') break;
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + (this.buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (this.data.length) onData(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
    }
  }

  /** The stream ended: an event without its blank line still counts. */
  end(onData: (data: string) => void): void {
    if (this.buffer.startsWith('data:')) this.data.push(this.buffer.slice(this.buffer.startsWith('data: ') ? 6 : 5));
    this.buffer = '';
    if (this.data.length) onData(this.data.join('\n'));
    this.data = [];
  }
}
