// A proposed rewrite shown in the editor itself: the region's removed lines stay in the document, struck through on
// a red background, with the added lines after them on a green one, until the user accepts or rejects each hunk
// (CodeLens, keys) or all of them. The document holds both sides meanwhile; every write of a session joins one undo
// step, so after "Accept" one Undo brings back the original, and "Reject" (or Stop while the answer streams) writes
// the original text back byte for byte. The user may type elsewhere meanwhile: lines added or removed above move the
// region, and a write the editor refuses because the document changed under it is retried where the region's text
// now is. Another edit inside the region ends the session with the text as it stands, both sides kept, and says so.

import * as vscode from 'vscode';
import { documentLines } from '../shared/documentLines';
import { Proposal, type DisplayedLine } from './proposal';

/** How far from where it was the region's text is looked for after lines came or went unseen. */
const REANCHOR_LINES = 10_000;
/** Tries of a write the editor refuses because the user typed meanwhile. */
const WRITE_ATTEMPTS = 5;
/** How long a write may take before the editor is taken to refuse it. */
const WRITE_TIMEOUT_MS = 10_000;

export type DiffOutcome = 'accepted' | 'rejected' | 'partly accepted' | 'left as shown';

const removedLine = vscode.window.createTextEditorDecorationType({
  isWholeLine: true,
  backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
  textDecoration: 'line-through',
  overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.deletedForeground'),
  overviewRulerLane: vscode.OverviewRulerLane.Left,
});
const addedLine = vscode.window.createTextEditorDecorationType({
  isWholeLine: true,
  backgroundColor: new vscode.ThemeColor('diffEditor.insertedLineBackground'),
  overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
  overviewRulerLane: vscode.OverviewRulerLane.Left,
});
const pendingLine = vscode.window.createTextEditorDecorationType({ isWholeLine: true, opacity: '0.55' });

export class InlineDiff implements vscode.Disposable {
  private proposal: Proposal;
  /** The region's lines as the document holds them now. */
  private shown: DisplayedLine[];
  /** The document's line where the region starts (moves when lines are added or removed above it). */
  private start: number;
  private readonly eol: string;
  private writes: Promise<void> = Promise.resolve();
  private firstWrite = true;
  /** Our own write is being applied: its change events are not the user's. */
  private writing = false;
  private ended = false;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** The hunks or their places changed (CodeLens and context keys follow). */
  readonly onDidChange = this.changed.event;
  private readonly endEmitter = new vscode.EventEmitter<DiffOutcome>();
  readonly onDidEnd = this.endEmitter.event;

  /** `lines`: the region, whole lines [first, last]; nothing is written until the first update(). */
  constructor(
    readonly document: vscode.TextDocument,
    first: number,
    last: number,
  ) {
    this.start = first;
    this.eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const original = documentLines(document, first, last + 1);
    this.proposal = new Proposal(original, [], true);
    this.shown = this.proposal.display();
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((event) => this.onDocumentChange(event)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.paint()),
      vscode.workspace.onDidCloseTextDocument((closed) => {
        if (closed === this.document) this.end('left as shown');
      }),
    );
  }

  get original(): readonly string[] {
    return this.proposal.original;
  }

  get isStreaming(): boolean {
    return this.proposal.streaming;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The region's first line and the line after its last, as the document holds it now. */
  get lines(): { start: number; end: number } {
    return { start: this.start, end: this.start + this.shown.length };
  }

  /** The document's text with the region as it was, or as it would be with every open change accepted. */
  textWith(side: 'original' | 'proposed'): string {
    const { start, end } = this.lines;
    const lines = documentLines(this.document);
    const region = side === 'original' ? this.proposal.original : this.proposal.resolved('accepted');
    return [...lines.slice(0, start), ...region, ...lines.slice(end)].join(this.eol);
  }

  /** Lines removed and added by the open changes. */
  get changedLines(): number {
    return this.proposal.openHunks.reduce((sum, h) => sum + h.removed.length + h.added.length, 0);
  }

  /** Each open hunk's index and the document line of its first line. */
  openHunks(): Array<{ index: number; line: number }> {
    const found: Array<{ index: number; line: number }> = [];
    this.shown.forEach((line, i) => {
      if (line.hunk !== undefined && !found.some((f) => f.index === line.hunk)) found.push({ index: line.hunk, line: this.start + i });
    });
    return found;
  }

  /** The open hunk at (or else the first one after, else before) a document line. */
  hunkNear(line: number): number | undefined {
    const inside = this.shown[line - this.start]?.hunk;
    if (inside !== undefined) return inside;
    const hunks = this.openHunks();
    return (hunks.find((h) => h.line >= line) ?? hunks.at(-1))?.index;
  }

  /** Shows a new proposal for the region (the answer so far, or all of it when `streaming` is false). */
  update(proposed: readonly string[], streaming: boolean): Promise<void> {
    this.proposal = new Proposal(this.proposal.original, proposed, streaming);
    return this.render();
  }

  decide(index: number, status: 'accepted' | 'rejected'): Promise<void> {
    this.proposal.decide(index, status);
    return this.render();
  }

  decideAll(status: 'accepted' | 'rejected'): Promise<void> {
    this.proposal.decideAll(status);
    return this.render();
  }

  /** Writes the original text back exactly (Stop while streaming; an unusable answer) and ends the session. */
  restore(): Promise<void> {
    this.proposal = new Proposal(this.proposal.original, this.proposal.original, false);
    return this.render();
  }

  /** Writes and paints what the proposal shows now, after the writes before it. */
  private render(): Promise<void> {
    this.writes = this.writes.then(async () => {
      if (this.ended) return;
      const next = this.proposal.display();
      const settled = this.proposal.settled;
      try {
        await this.write(next, settled);
      } catch (error) {
        if (error instanceof RegionChanged) return this.leftAsShown();
        // The file refused the write (closed meanwhile, the editor did not answer): what it holds stays.
        this.end('left as shown');
        void vscode.window.showErrorMessage(`Attentive: the proposed edit could not be written: ${(error as Error).message}`);
        return;
      }
      this.paint();
      this.changed.fire();
      if (settled) this.end(this.outcome());
    });
    return this.writes;
  }

  /** How the decisions came out (a restored proposal has no hunks: rejected). */
  private outcome(): DiffOutcome {
    const statuses = new Set(this.proposal.hunks.map((h) => h.status));
    return statuses.size === 1 && statuses.has('accepted') ? 'accepted' : statuses.has('accepted') ? 'partly accepted' : 'rejected';
  }

  /**
   * Replaces the lines that differ between what the region shows and `next` (an unchanged head and tail stay). The
   * original lines are the document's own text and its line breaks one kind, so all-rejected is the original exactly.
   */
  private async write(next: DisplayedLine[], last: boolean): Promise<void> {
    const old = this.shown.map((l) => l.text);
    const now = next.map((l) => l.text);
    let head = 0;
    while (head < old.length && head < now.length && old[head] === now[head]) head++;
    let tail = 0;
    while (tail < old.length - head && tail < now.length - head && old[old.length - 1 - tail] === now[now.length - 1 - tail]) tail++;
    const replaced = old.length - head - tail;
    const inserted = now.slice(head, now.length - tail);
    if (replaced === 0 && inserted.length === 0) {
      this.shown = next;
      // Nothing to write; the last write of a session that wrote before still closes its undo step.
      if (last && !this.firstWrite) await this.apply(new vscode.Range(this.start, 0, this.start, 0), '', true);
      return;
    }
    // The editor refuses an edit made against a version the user has typed past: find the region again and retry.
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      if (!this.reanchor()) throw new RegionChanged();
      const { range, text } = this.lineEdit(this.start + head, this.start + head + replaced, inserted);
      if (await this.apply(range, text, last)) {
        this.shown = next;
        // Typing that landed while the write was in flight was not seen as the user's: find the region by its text.
        if (!this.reanchor()) throw new RegionChanged();
        return;
      }
    }
    throw new Error(`the document kept changing during ${WRITE_ATTEMPTS} tries`);
  }

  /**
   * Puts `start` where the document holds the region's lines now (nearest first), after lines came or went above it
   * unseen; false when they are not there as shown (changed inside).
   */
  private reanchor(): boolean {
    const texts = this.shown.map((line) => line.text);
    if (!texts.length) return true;
    const document = this.document;
    const holdsAt = (start: number) => start >= 0 && start + texts.length <= document.lineCount && texts.every((text, i) => document.lineAt(start + i).text === text);
    if (holdsAt(this.start)) return true;
    for (let distance = 1; distance <= REANCHOR_LINES; distance++) {
      for (const start of [this.start - distance, this.start + distance]) {
        if (holdsAt(start)) {
          this.start = start;
          this.paint();
          return true;
        }
      }
    }
    return false;
  }

  /** The user changed the region itself: it stays as it is, both sides, and the session ends. */
  private leftAsShown(): void {
    if (this.ended) return;
    this.end('left as shown');
    void vscode.window.showWarningMessage('Attentive: the code under the proposed edit changed, so the edit was left as it stands (removed and added lines both kept). Undo brings back what was there.');
  }

  /**
   * The edit that puts `lines` in place of document lines [from, to): whole lines with their line breaks, or at the
   * document's end (no break after its last line) the breaks between them.
   */
  private lineEdit(from: number, to: number, lines: string[]): { range: vscode.Range; text: string } {
    const document = this.document;
    const body = lines.join(this.eol);
    if (to < document.lineCount) {
      return { range: new vscode.Range(from, 0, to, 0), text: lines.length ? body + this.eol : '' };
    }
    // The lines reach the document's last line.
    const end = document.lineAt(document.lineCount - 1).range.end;
    if (from < document.lineCount) {
      if (lines.length) return { range: new vscode.Range(new vscode.Position(from, 0), end), text: body };
      // Nothing left: the line break before them goes too.
      const before = from > 0 ? document.lineAt(from - 1).range.end : new vscode.Position(0, 0);
      return { range: new vscode.Range(before, end), text: '' };
    }
    return { range: new vscode.Range(end, end), text: lines.length ? this.eol + body : '' };
  }

  /**
   * One write; the session's writes share one undo step (a stop before the first, after the last). False when the
   * editor refused it (the document changed since: the caller finds the region again).
   */
  private async apply(range: vscode.Range, text: string, last: boolean): Promise<boolean> {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === this.document);
    this.writing = true;
    try {
      let done: boolean;
      if (editor) {
        // An editor that will not take the edit (read-only) never answers: give up after a while.
        const edit = editor.edit((builder) => builder.replace(range, text), { undoStopBefore: this.firstWrite, undoStopAfter: last });
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the editor did not take the edit within 10 s')), WRITE_TIMEOUT_MS)));
        done = await Promise.race([edit, timeout]).finally(() => clearTimeout(timer));
      } else {
        // Not shown in an editor: a workspace edit works on any open document.
        const edit = new vscode.WorkspaceEdit();
        edit.replace(this.document.uri, range, text);
        done = await vscode.workspace.applyEdit(edit);
      }
      if (done) this.firstWrite = false;
      return done;
    } finally {
      this.writing = false;
    }
  }

  private onDocumentChange(event: vscode.TextDocumentChangeEvent): void {
    if (event.document !== this.document || this.writing || this.ended || !event.contentChanges.length) return;
    const { start, end } = this.lines;
    let shift = 0;
    for (const change of event.contentChanges) {
      const added = change.text.split(/\r\n|\r|\n/).length - 1;
      const removed = change.range.end.line - change.range.start.line;
      // Entirely above the region (an edit ending on the line before it, Enter at that line's end included).
      if (change.range.end.line < start) shift += added - removed;
      // Starting inside the region (its lines are [start, end)) or reaching into it from above; at or below its end,
      // nothing moves.
      else if (change.range.start.line < end) return this.leftAsShown();
    }
    this.start += shift;
    if (shift) this.paint();
  }

  /** Decorations on every editor that shows the document. */
  private paint(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== this.document) continue;
      const of = (kind: DisplayedLine['kind']) =>
        this.ended ? [] : this.shown.flatMap((line, i) => (line.kind === kind ? [new vscode.Range(this.start + i, 0, this.start + i, 0)] : []));
      editor.setDecorations(removedLine, of('removed'));
      editor.setDecorations(addedLine, of('added'));
      editor.setDecorations(pendingLine, of('pending'));
    }
  }

  private end(outcome: DiffOutcome): void {
    if (this.ended) return;
    this.ended = true;
    this.paint();
    this.changed.fire();
    this.endEmitter.fire(outcome);
  }

  dispose(): void {
    this.end('left as shown');
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
    this.endEmitter.dispose();
  }
}

/** The region's lines are no longer in the document as shown: the user changed them. */
class RegionChanged extends Error {}
