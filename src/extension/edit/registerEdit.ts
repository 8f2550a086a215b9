// The edit feature: "Edit Selection with Attentive" (palette, context menu, Ctrl+Alt+K), the inline diff's CodeLens
// and keys (Ctrl+Enter accepts all, Escape rejects all or stops, Alt+Y / Alt+N the change at the cursor), and
// "Refine Edit..." for a follow-up instruction, "Show Diff" (VS Code's diff editor, whose title bar accepts or rejects
// too). Code from the chat comes in through EditController.propose.

import * as vscode from 'vscode';
import type { Backend } from '../../backend/backend';
import { codeToExplain, commandEditor } from '../shared/codeToExplain';
import { ProposalDiffView } from './diffView';
import { EditController, type EditResult } from './editController';

export const COMMAND_EDIT_SELECTION = 'attentive.editSelection';
export const COMMAND_ACCEPT_ALL = 'attentive.edit.acceptAll';
export const COMMAND_REJECT_ALL = 'attentive.edit.rejectAll';
export const COMMAND_ACCEPT_CHANGE = 'attentive.edit.acceptChange';
export const COMMAND_REJECT_CHANGE = 'attentive.edit.rejectChange';
export const COMMAND_REFINE = 'attentive.edit.refine';
export const COMMAND_SHOW_DIFF = 'attentive.edit.showDiff';
/** Context keys for the keybindings: an Attentive diff is open in the active editor / its answer still streams. */
const CONTEXT_VISIBLE = 'attentive.inlineDiffVisible';
const CONTEXT_STREAMING = 'attentive.inlineDiffStreaming';

/** Command arguments: the context menu passes the document's URI; CodeLens and tests pass these. */
interface EditArguments {
  instruction?: string;
}
interface ChangeArguments {
  uri?: string;
  hunk?: number;
}

class DiffCodeLenses implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly edits: EditController) {
    edits.onDidChange(() => this.changed.fire());
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const session = this.edits.session(document);
    if (!session || session.diff.isEnded) return [];
    const uri = document.uri.toString();
    const top = new vscode.Range(session.diff.lines.start, 0, session.diff.lines.start, 0);
    const lens = (range: vscode.Range, title: string, command: string, args: unknown[] = []) => new vscode.CodeLens(range, { title, command, arguments: args });
    if (session.diff.isStreaming) {
      return [lens(top, `$(loading~spin) Attentive: ${session.title}`, ''), lens(top, 'Stop (Escape)', COMMAND_REJECT_ALL, [{ uri }])];
    }
    const lenses = [
      lens(top, 'Accept All (Ctrl+Enter)', COMMAND_ACCEPT_ALL, [{ uri }]),
      lens(top, 'Reject All (Escape)', COMMAND_REJECT_ALL, [{ uri }]),
    ];
    if (session.request) lenses.push(lens(top, 'Refine...', COMMAND_REFINE, [{ uri }]));
    lenses.push(lens(top, 'Show Diff', COMMAND_SHOW_DIFF, [{ uri }]));
    for (const hunk of session.diff.openHunks()) {
      const at = new vscode.Range(hunk.line, 0, hunk.line, 0);
      lenses.push(lens(at, 'Accept (Alt+Y)', COMMAND_ACCEPT_CHANGE, [{ uri, hunk: hunk.index }]), lens(at, 'Reject (Alt+N)', COMMAND_REJECT_CHANGE, [{ uri, hunk: hunk.index }]));
    }
    return lenses;
  }
}

export function registerEdit(context: vscode.ExtensionContext, backend: Backend, log: vscode.OutputChannel): EditController {
  const edits = new EditController(backend, log);

  /**
   * The document a diff command acts on: the one named (CodeLens), or whose proposal the diff editor shows (its title
   * bar passes that side's URI), else the active editor's.
   */
  const targetDocument = (args?: ChangeArguments | vscode.Uri): vscode.TextDocument | undefined => {
    if (args instanceof vscode.Uri) return ProposalDiffView.documentOf(args);
    if (args?.uri) return vscode.workspace.textDocuments.find((d) => d.uri.toString() === args.uri);
    const active = vscode.window.activeTextEditor?.document;
    return active && ProposalDiffView.documentOf(active.uri);
  };

  const updateContext = () => {
    const document = targetDocument();
    const session = document && edits.session(document);
    void vscode.commands.executeCommand('setContext', CONTEXT_VISIBLE, Boolean(session));
    void vscode.commands.executeCommand('setContext', CONTEXT_STREAMING, Boolean(session?.diff.isStreaming));
  };

  const decideChange = async (status: 'accepted' | 'rejected', args?: ChangeArguments) => {
    const document = targetDocument(args);
    const session = document && edits.session(document);
    if (!document || !session) return;
    const editor = vscode.window.activeTextEditor;
    const hunk = args?.hunk ?? (editor?.document === document ? session.diff.hunkNear(editor.selection.active.line) : undefined);
    if (hunk !== undefined) await edits.decide(document, hunk, status);
  };

  // The CodeLens provider only from the first proposal on: before that, every document would be asked for lenses.
  let lenses: vscode.Disposable | undefined;
  const registerLenses = () => {
    if (lenses || !edits.hasProposals) return;
    lenses = vscode.languages.registerCodeLensProvider({ scheme: '*' }, new DiffCodeLenses(edits));
    context.subscriptions.push(lenses);
  };

  context.subscriptions.push(
    edits,
    edits.onDidChange(registerLenses),
    edits.onDidChange(updateContext),
    vscode.window.onDidChangeActiveTextEditor(updateContext),
    vscode.commands.registerCommand(COMMAND_EDIT_SELECTION, async (arg?: vscode.Uri | EditArguments): Promise<EditResult | undefined> => {
      const editor = commandEditor(arg instanceof vscode.Uri ? arg : undefined);
      if (!editor) {
        void vscode.window.showInformationMessage('Attentive: open a file and select the code to edit.');
        return undefined;
      }
      const range = await codeToExplain(editor);
      if (!range) {
        void vscode.window.showInformationMessage('Attentive: select some code (or put the cursor inside a function) to edit it.');
        return undefined;
      }
      // Whole lines: a rewrite replaces lines, and a selection ending at a line's start leaves that line out.
      const last = range.end.character === 0 && range.end.line > range.start.line ? range.end.line - 1 : range.end.line;
      const instruction =
        (arg && !(arg instanceof vscode.Uri) ? arg.instruction : undefined) ??
        (await vscode.window.showInputBox({ title: 'Attentive: Edit', prompt: 'How should the code change?', placeHolder: 'e.g. add type hints; handle the empty list', ignoreFocusOut: true }));
      if (!instruction?.trim()) return undefined;
      // The selection would grow over the lines streaming in and hide the diff's colours.
      editor.selection = new vscode.Selection(range.start.line, 0, range.start.line, 0);
      return edits.edit(editor, range.start.line, last, instruction.trim());
    }),
    vscode.commands.registerCommand(COMMAND_REFINE, async (args?: ChangeArguments & EditArguments): Promise<EditResult | undefined> => {
      const document = targetDocument(args);
      if (!document || !edits.session(document)?.request) return undefined;
      const instruction = args?.instruction ?? (await vscode.window.showInputBox({ title: 'Attentive: Refine Edit', prompt: 'What else should change?', placeHolder: 'e.g. also keep the comments', ignoreFocusOut: true }));
      if (!instruction?.trim()) return undefined;
      return edits.refine(document, instruction.trim());
    }),
    vscode.commands.registerCommand(COMMAND_ACCEPT_ALL, async (args?: ChangeArguments | vscode.Uri) => {
      const document = targetDocument(args);
      if (document) await edits.decideAll(document, 'accepted');
    }),
    vscode.commands.registerCommand(COMMAND_REJECT_ALL, async (args?: ChangeArguments | vscode.Uri) => {
      const document = targetDocument(args);
      if (document) await edits.decideAll(document, 'rejected');
    }),
    vscode.commands.registerCommand(COMMAND_SHOW_DIFF, async (args?: ChangeArguments) => {
      const document = targetDocument(args);
      if (document) await edits.showDiff(document);
    }),
    vscode.commands.registerCommand(COMMAND_ACCEPT_CHANGE, (args?: ChangeArguments) => decideChange('accepted', args)),
    vscode.commands.registerCommand(COMMAND_REJECT_CHANGE, (args?: ChangeArguments) => decideChange('rejected', args)),
  );
  updateContext();
  return edits;
}
