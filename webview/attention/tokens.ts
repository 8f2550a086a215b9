// Tokens as the model sees them: whitespace made visible (· for a space, → for a tab, ↵ for a line break), so "    "
// reads as four spaces and a token that starts with a newline shows it.

/** The token's text with its whitespace marked. An empty token (a special one) shows as ∅. */
export function displayToken(text: string): string {
  if (text === '') return '∅';
  return text.replace(/\r\n|\n|\r|\t| /g, (ch) => (ch === ' ' ? '·' : ch === '\t' ? '→' : '↵'));
}

/**
 * The marked text cut after each ↵ that more text follows ("\n    x" -> ["↵", "····x"]); a line break at the very end
 * stays with the token (the strip adds the break after the token).
 */
export function displayLines(text: string): string[] {
  return displayToken(text).split(/(?<=↵)(?=.)/u);
}

/** Whether the token ends a line (the token strip breaks the line after it). */
export function endsLine(text: string): boolean {
  return /[\r\n]$/.test(text);
}

/** A token quoted for tooltips and tables: `·return` (cut to 24 characters). */
export function quoteToken(text: string): string {
  const shown = displayToken(text);
  return `“${shown.length > 24 ? `${shown.slice(0, 23)}…` : shown}”`;
}
