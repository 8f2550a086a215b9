// The names of the head labels (src/protocol HeadLabel) as the model view's thumbnails and the summary table show them.

import type { HeadLabel } from '../../src/protocol/attention';

export const LABEL_TEXT: Record<HeadLabel, string> = {
  'previous-token': 'previous token',
  'first-token': 'first token (sink)',
  induction: 'induction',
  'bracket-matching': 'bracket matching',
};

/** The few letters under a thumbnail. */
export function shortLabel(label: HeadLabel): string {
  return { 'previous-token': 'prev', 'first-token': 'sink', induction: 'ind', 'bracket-matching': 'brk' }[label];
}
