// Colours from the VS Code theme: a ramp from the editor background to an accent, for weights in [0, 1].

export type Rgba = [number, number, number, number];

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb() and rgba(); null for anything else. */
export function parseColor(value: string): Rgba | null {
  const text = value.trim();
  let match = /^#([0-9a-f]{3,4})$/i.exec(text);
  if (match) {
    const d = match[1]!.split('').map((c) => parseInt(c + c, 16));
    return [d[0]!, d[1]!, d[2]!, d.length === 4 ? d[3]! : 255];
  }
  match = /^#([0-9a-f]{6}|[0-9a-f]{8})$/i.exec(text);
  if (match) {
    const hex = match[1]!;
    const part = (i: number) => parseInt(hex.slice(i, i + 2), 16);
    return [part(0), part(2), part(4), hex.length === 8 ? part(6) : 255];
  }
  match = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/i.exec(text);
  if (match) {
    const alpha = match[4] === undefined ? 1 : match[4].endsWith('%') ? parseFloat(match[4]) / 100 : parseFloat(match[4]);
    return [Number(match[1]), Number(match[2]), Number(match[3]), Math.round(Math.max(0, Math.min(1, alpha)) * 255)];
  }
  return null;
}

/** A theme variable's colour (e.g. "--vscode-editor-background"), or the fallback. */
export function themeColor(name: string, fallback: Rgba, element: Element = document.documentElement): Rgba {
  const value = getComputedStyle(element).getPropertyValue(name);
  return (value && parseColor(value)) || fallback;
}

export const RAMP_STEPS = 256;

/**
 * RAMP_STEPS RGBA entries from `low` (weight 0) to `high` (weight 1), in the given scale: √ spreads the small weights
 * of long rows (a row of 1,024 keys has weights near 0.001) over more of the ramp.
 */
export function colorRamp(low: Rgba, high: Rgba, scale: 'linear' | 'sqrt'): Uint8ClampedArray {
  const ramp = new Uint8ClampedArray(RAMP_STEPS * 4);
  for (let i = 0; i < RAMP_STEPS; i++) {
    const w = i / (RAMP_STEPS - 1);
    const t = scale === 'sqrt' ? Math.sqrt(w) : w;
    for (let c = 0; c < 3; c++) ramp[i * 4 + c] = Math.round(low[c]! + (high[c]! - low[c]!) * t);
    ramp[i * 4 + 3] = 255;
  }
  return ramp;
}

/** The ramp index of a weight (clamped to [0, 1]). */
export function rampIndex(weight: number): number {
  if (!(weight > 0)) return 0;
  return weight >= 1 ? RAMP_STEPS - 1 : Math.round(weight * (RAMP_STEPS - 1));
}

export function cssColor([r, g, b]: Rgba, alpha = 1): string {
  return `rgba(${r}, ${g}, ${b}, ${Math.round(alpha * 1000) / 1000})`;
}
