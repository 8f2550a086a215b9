// Small DOM helpers for the chat webview. Everything is built with createElement/textContent: the page's CSP allows
// no inline styles and no inline handlers, so the only way to style is a class, and the only HTML parsed from a string
// is markdown-it's output, which goes through sanitize.ts first.

import { el } from '../shared/dom';

export { el, type ElementOptions } from '../shared/dom';

export type IconName =
  | 'plus'
  | 'history'
  | 'send'
  | 'stop'
  | 'copy'
  | 'check'
  | 'apply'
  | 'insert'
  | 'replace'
  | 'newFile'
  | 'trash'
  | 'close'
  | 'selection'
  | 'file'
  | 'refresh'
  | 'edit'
  | 'back'
  | 'folder'
  | 'symbol'
  | 'problems'
  | 'changes'
  | 'editors';

// 16×16 stroked outlines, drawn in currentColor by the stylesheet (.icon), so they follow every theme.
const ICONS: Record<IconName, string[]> = {
  plus: ['M8 3v10', 'M3 8h10'],
  history: ['M8 2.5a5.5 5.5 0 1 1-5.2 3.7', 'M2.5 2.8v3.4h3.4', 'M8 5v3.2l2.2 1.6'],
  send: ['M2.5 7.8 13.5 2.5 10.2 13.5 7.6 8.6Z', 'M7.6 8.6 13.5 2.5'],
  stop: ['M4.5 4.5h7v7h-7Z'],
  copy: ['M5.5 5.5h8v8h-8Z', 'M10.5 5.5V2.5h-8v8h3'],
  check: ['M3 8.5l3 3 7-7'],
  apply: ['M3 4.5h6', 'M3 8h4', 'M3 11.5h6', 'M10 9.5l1.8 1.8 3-3.3'],
  insert: ['M8 3v10', 'M6 3h4', 'M6 13h4', 'M11.5 8h3', 'M1.5 8h3'],
  replace: ['M3 6h9.5L10 3.5', 'M13 10H3.5L6 12.5'],
  newFile: ['M4 1.5h5l3 3v10H4Z', 'M9 1.5v3h3', 'M8 7.5v5', 'M5.5 10h5'],
  trash: ['M2.5 4.5h11', 'M6 4.5V2.5h4v2', 'M4 4.5l.7 9h6.6l.7-9'],
  close: ['M4 4l8 8', 'M12 4l-8 8'],
  selection: ['M2.5 4h11', 'M2.5 8h7', 'M2.5 12h9'],
  file: ['M4 1.5h5l3 3v10H4Z', 'M9 1.5v3h3'],
  refresh: ['M13 8a5 5 0 1 1-1.6-3.7', 'M13 2.3v3h-3'],
  edit: ['M10.8 2.7l2.5 2.5-7.8 7.8-3 .5.5-3Z', 'M9.3 4.2l2.5 2.5'],
  back: ['M9.5 3.5 5 8l4.5 4.5'],
  folder: ['M1.5 3.5h4.5l1.5 1.5h7v8h-13Z'],
  symbol: ['M5.5 3.5 2 8l3.5 4.5', 'M10.5 3.5 14 8l-3.5 4.5'],
  problems: ['M8 1.8 14.5 13.5h-13Z', 'M8 6v3.5', 'M8 11.3v.4'],
  changes: ['M4.5 2v12', 'M11.5 2v5', 'M11.5 7a4 4 0 0 1-4 4h-3'],
  editors: ['M2.5 3.5h8v9h-8Z', 'M5.5 1.5h8v9'],
};

const SVG_NS = 'http://www.w3.org/2000/svg';

export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name}`);
  for (const d of ICONS[name]) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

export interface ButtonOptions {
  label: string;
  icon?: IconName;
  /** Visible text; without it the button shows only its icon (the label is its aria-label and tooltip). */
  text?: string;
  className?: string;
  onClick: (event: MouseEvent) => void;
}

export function button(options: ButtonOptions): HTMLButtonElement {
  const classes = [options.text ? 'text-button' : 'icon-button', options.className].filter(Boolean).join(' ');
  const node = el('button', { className: classes, title: options.label, attrs: { type: 'button', 'aria-label': options.label } });
  if (options.icon) node.append(icon(options.icon));
  if (options.text) node.append(el('span', { className: 'button-text', text: options.text }));
  node.addEventListener('click', options.onClick);
  return node;
}

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then the date. */
export function relativeTime(timestamp: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - timestamp) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(timestamp).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}
