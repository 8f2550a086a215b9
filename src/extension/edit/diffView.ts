// A proposed edit in VS Code's diff editor, for changes too large to read inline (or a whole file): the file as it
// was on the left, as it would be with every change accepted on the right, both read-only documents of our own
// scheme; the diff editor's title bar has the same Accept All / Reject All, and the inline diff stays in the file.

import * as vscode from 'vscode';

export const DIFF_SCHEME = 'attentive-proposal';

/** The two sides of a document's proposal, by the document's URI. */
export interface ProposalSides {
  original(document: vscode.TextDocument): string | undefined;
  proposed(document: vscode.TextDocument): string | undefined;
}

export class ProposalDiffView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration: vscode.Disposable;

  constructor(private readonly sides: ProposalSides) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, this);
  }

  /** A side's URI: the document's own path (so the tab and the language match), which side in the query. */
  private static uri(document: vscode.TextDocument, side: 'original' | 'proposed'): vscode.Uri {
    return vscode.Uri.from({ scheme: DIFF_SCHEME, path: document.uri.path, query: new URLSearchParams({ side, of: document.uri.toString() }).toString() });
  }

  /** The document a side's URI stands for (the diff editor's title-bar commands get the side's URI). */
  static documentOf(uri: vscode.Uri): vscode.TextDocument | undefined {
    if (uri.scheme !== DIFF_SCHEME) return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    const of = new URLSearchParams(uri.query).get('of');
    return vscode.workspace.textDocuments.find((d) => d.uri.toString() === of);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const document = ProposalDiffView.documentOf(uri);
    if (!document) return '';
    const side = new URLSearchParams(uri.query).get('side');
    return (side === 'original' ? this.sides.original(document) : this.sides.proposed(document)) ?? document.getText();
  }

  async show(document: vscode.TextDocument, title: string): Promise<void> {
    const left = ProposalDiffView.uri(document, 'original');
    const right = ProposalDiffView.uri(document, 'proposed');
    this.changed.fire(left);
    this.changed.fire(right);
    await vscode.commands.executeCommand('vscode.diff', left, right, `${vscode.workspace.asRelativePath(document.uri)}: ${title} (proposed)`, { preview: true });
  }

  /** The proposal changed (more of the answer, a hunk decided): the open sides read it again. */
  refresh(document: vscode.TextDocument): void {
    this.changed.fire(ProposalDiffView.uri(document, 'original'));
    this.changed.fire(ProposalDiffView.uri(document, 'proposed'));
  }

  /** Closes the diff editors of a document whose proposal ended. */
  async close(document: vscode.TextDocument): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => {
      const input = tab.input;
      return input instanceof vscode.TabInputTextDiff && input.modified.scheme === DIFF_SCHEME && ProposalDiffView.documentOf(input.modified) === document;
    });
    if (tabs.length) await vscode.window.tabGroups.close(tabs);
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
