// A proposed rewrite of a region of lines, as the inline diff shows it: the region's original lines and the proposed
// ones, diffed line by line (jsdiff), grouped into hunks the user accepts or rejects one by one or all at once.
// While the answer still streams, the original lines after the last one the proposal has matched are "pending" (not
// yet reached), not removed. Pure (no `vscode`): the inline diff (inlineDiff.ts) writes what `display()` says into
// the document and paints it.

import { diffArrays } from 'diff';

export type HunkStatus = 'open' | 'accepted' | 'rejected';

export interface Hunk {
  /** Its position among the proposal's hunks (stable while the proposal is unchanged). */
  index: number;
  removed: string[];
  added: string[];
  status: HunkStatus;
}

type Part = { kind: 'same'; lines: string[] } | { kind: 'hunk'; hunk: Hunk } | { kind: 'pending'; lines: string[] };

/** How a line of the displayed region is painted. */
export type LineKind = 'same' | 'removed' | 'added' | 'pending';

export interface DisplayedLine {
  text: string;
  kind: LineKind;
  /** The hunk the line belongs to (removed and added lines of an open hunk). */
  hunk?: number;
}

export class Proposal {
  private parts: Part[];

  /**
   * `original`: the region's lines as they are in the document; `proposed`: the complete lines of the answer so far;
   * `streaming`: more may come (the original's lines past the last matched one are pending).
   */
  constructor(
    readonly original: readonly string[],
    proposed: readonly string[],
    readonly streaming: boolean,
  ) {
    this.parts = buildParts(original, proposed, streaming);
  }

  get hunks(): Hunk[] {
    return this.parts.flatMap((part) => (part.kind === 'hunk' ? [part.hunk] : []));
  }

  get openHunks(): Hunk[] {
    return this.hunks.filter((hunk) => hunk.status === 'open');
  }

  /** Every hunk decided and nothing pending: the region now reads as `resolved()`. */
  get settled(): boolean {
    return !this.streaming && this.openHunks.length === 0;
  }

  /** Accepts (or rejects) one hunk; the others keep their place. */
  decide(index: number, status: Exclude<HunkStatus, 'open'>): void {
    const hunk = this.hunks[index];
    if (hunk?.status === 'open') hunk.status = status;
  }

  decideAll(status: Exclude<HunkStatus, 'open'>): void {
    for (const hunk of this.openHunks) hunk.status = status;
  }

  /** The region's lines as the document shows them now: both sides of each open hunk, one side of each decided one. */
  display(): DisplayedLine[] {
    const lines: DisplayedLine[] = [];
    // Loops, not push(...spread): a region may be hundreds of thousands of lines (more arguments than a call takes).
    const add = (texts: readonly string[], kind: LineKind, hunk?: number) => {
      for (const text of texts) lines.push(hunk === undefined ? { text, kind } : { text, kind, hunk });
    };
    for (const part of this.parts) {
      if (part.kind === 'same' || part.kind === 'pending') add(part.lines, part.kind);
      else if (part.hunk.status === 'open') {
        add(part.hunk.removed, 'removed', part.hunk.index);
        add(part.hunk.added, 'added', part.hunk.index);
      } else add(part.hunk.status === 'accepted' ? part.hunk.added : part.hunk.removed, 'same');
    }
    return lines;
  }

  /** The region's lines once every open hunk is decided as `openAs` (pending lines stay). */
  resolved(openAs: Exclude<HunkStatus, 'open'> = 'accepted'): string[] {
    const lines: string[] = [];
    for (const part of this.parts) {
      const kept = part.kind !== 'hunk' ? part.lines : (part.hunk.status === 'open' ? openAs : part.hunk.status) === 'accepted' ? part.hunk.added : part.hunk.removed;
      for (const line of kept) lines.push(line);
    }
    return lines;
  }
}

function buildParts(original: readonly string[], proposed: readonly string[], streaming: boolean): Part[] {
  const changes = diffArrays(original as string[], proposed as string[]);
  // While streaming, what follows the last common run is either replaced or not reached yet: the original lines there
  // are pending, the proposed ones added.
  let lastSame = -1;
  if (streaming) for (let i = changes.length - 1; i >= 0 && lastSame < 0; i--) if (!changes[i]!.added && !changes[i]!.removed) lastSame = i;
  const parts: Part[] = [];
  let hunk: Hunk | undefined;
  let pending: string[] = [];
  let index = 0;
  for (const [i, change] of changes.entries()) {
    const value = change.value;
    if (!change.added && !change.removed) {
      hunk = undefined;
      parts.push({ kind: 'same', lines: value });
      continue;
    }
    if (streaming && i > lastSame && change.removed) {
      pending = pending.concat(value);
      continue;
    }
    if (!hunk) {
      hunk = { index: index++, removed: [], added: [], status: 'open' };
      parts.push({ kind: 'hunk', hunk });
    }
    if (change.removed) hunk.removed = hunk.removed.concat(value);
    else hunk.added = hunk.added.concat(value);
  }
  if (pending.length) parts.push({ kind: 'pending', lines: pending });
  return parts;
}
