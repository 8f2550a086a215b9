// The page for one `data`: header, note, status line, toolbar, token strip, the tabs with their panels, the
// explanation and the tooltip, in that order. Each panel gets the shared state and the app's actions as callbacks.

import type { AttentionData } from '../../src/protocol/attention';
import { el } from './dom';
import { Explanation } from './explain';
import { HeadView, type HeadViewHandlers } from './headView';
import { MatrixPanel, type MatrixPanelHandlers } from './matrix';
import { ModelView } from './modelView';
import type { AttentionState, Schedule } from './state';
import { SummaryTable } from './summary';
import { Tabs } from './tabs';
import { TokenStrip, type TokenStripHandlers } from './tokenStrip';
import { Toolbar, type ToolbarHandlers } from './toolbar';
import type { Tab } from './vscodeApi';

/** What the panels ask of the app (hover and select are the same actions from the token strip and the head view). */
export interface PageActions extends ToolbarHandlers, TokenStripHandlers, MatrixPanelHandlers, HeadViewHandlers {
  setTab(tab: Tab): void;
  openHead(layer: number, head: number): void;
}

export interface Page {
  status: HTMLElement;
  toolbar: Toolbar;
  strip: TokenStrip;
  tabs: Tabs;
  matrix: MatrixPanel;
  headView: HeadView;
  model: ModelView;
  summary: SummaryTable;
  explanation: Explanation;
}

/** Builds the page into `root` (replacing what it showed) and returns its panels. */
export function buildPage(root: HTMLElement, state: AttentionState, data: AttentionData, actions: PageActions, schedule: Schedule): Page {
  const status = el('div', { className: 'status-line', attrs: { role: 'status' } });
  status.hidden = true;
  const toolbar = new Toolbar(state, data, actions);
  const strip = new TokenStrip(state, data, actions);
  const tabs = new Tabs((tab) => actions.setTab(tab));
  const matrix = new MatrixPanel(tabs.panel('heatmap'), state, actions, schedule);
  const headView = new HeadView(tabs.panel('heads'), state, data, actions);
  const openHead = (layer: number, head: number) => actions.openHead(layer, head);
  const model = new ModelView(tabs.panel('model'), state, data, openHead);
  const summary = new SummaryTable(tabs.panel('summary'), state, openHead);
  const explanation = new Explanation(state, data);

  const meta = el('div', { className: 'meta', text: `${data.tokens.length} tokens · ${data.model} · ${data.layers} layers × ${data.heads} heads` });
  const note = el('div', { className: 'note', text: data.note ?? '' });
  note.hidden = !data.note;
  root.replaceChildren(
    el('header', { className: 'header' }, el('h1', { className: 'title', text: data.label }), meta),
    note,
    status,
    toolbar.element,
    strip.element,
    el('div', { className: 'body' }, el('div', { className: 'main' }, tabs.list, ...tabs.panelElements), explanation.element),
    matrix.tooltip,
  );
  return { status, toolbar, strip, tabs, matrix, headView, model, summary, explanation };
}
