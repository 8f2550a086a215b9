// Line cuts that the engine and the model-server backend both apply to generated text (a completion's maxLines).

/** The text up to (not including) its `lines`-th newline. */
export function firstLines(text: string, lines: number): string {
  let end = -1;
  for (let i = 0; i < lines; i++) {
    end = text.indexOf('\n', end + 1);
    if (end === -1) return text;
  }
  return text.slice(0, end);
}
