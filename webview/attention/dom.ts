// createElement helpers (the page's CSP allows no inline styles or handlers: classes and the CSSOM only), number
// formats, and the data-index lookup the token lists share.

import { el } from '../shared/dom';

export { el, type ElementOptions } from '../shared/dom';

export function button(label: string, text: string, onClick: () => void, className = 'text-button'): HTMLButtonElement {
  const node = el('button', { className, text, title: label, attrs: { type: 'button', 'aria-label': label } });
  node.addEventListener('click', onClick);
  return node;
}

export function select(label: string, options: Array<[string, string]>, onChange: (value: string) => void): HTMLSelectElement {
  const node = el('select', { title: label, attrs: { 'aria-label': label } });
  for (const [value, text] of options) node.append(el('option', { text, attrs: { value } }));
  node.addEventListener('change', () => onChange(node.value));
  return node;
}

/** Formats a number for tables and tooltips: 3 significant decimals, "–" for null/NaN. */
export function num(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(1)}%`;
}

/** The data-index of the element an event hit, or of its nearest ancestor with one (token lists); null outside. */
export function dataIndexOf(target: EventTarget | null): number | null {
  const node = target instanceof Element ? target.closest('[data-index]') : null;
  const value = node?.getAttribute('data-index');
  return value === null || value === undefined ? null : Number(value);
}
