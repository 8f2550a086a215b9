// Attentive's keybindings against VS Code's own: the default keybindings as this VS Code (1.100) lists them
// ("Preferences: Open Default Keyboard Shortcuts (JSON)", extensions' contributions included) must not bind any of
// our keys to another command where both could apply: ours may share a key where the two \`when\` clauses exclude each
// other, or where ours applies only while a context key of ours is set (then ours is the one meant: Ctrl+Enter and
// Escape while an Attentive diff is shown, as VS Code's inline chat does for its own).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { repositoryRoot } from '../../helpers/transformersServe';
import { closeAll } from './harness';

interface Keybinding {
  key: string;
  command: string;
  when?: string;
  mac?: string;
}

/** What a focus key implies (an editor with text focus has text input focus). */
const IMPLIED: Record<string, string[]> = { editorTextFocus: ['textInputFocus', 'editorFocus'] };

/** The literals of a `when` made of && only ("a && !b"), with what they imply; undefined for anything else. */
function literals(when: string | undefined): Set<string> | undefined {
  if (!when) return new Set();
  if (/\|\||==|!=|=~|<|>|\(/.test(when)) return undefined;
  const found = new Set<string>();
  for (const literal of when.split('&&').map((l) => l.trim())) {
    found.add(literal);
    for (const implied of IMPLIED[literal] ?? []) found.add(implied);
  }
  return found;
}

/** Whether two `when` clauses can never hold together: one needs a key the other negates. */
function disjoint(a: string | undefined, b: string | undefined): boolean {
  const [x, y] = [literals(a), literals(b)];
  if (!x || !y) return false;
  return [...x].some((l) => (l.startsWith('!') ? y.has(l.slice(1)) : y.has(`!${l}`)));
}

/** JSON with comments, as the default keybindings file is. */
function parseJsonc(text: string): unknown {
  return JSON.parse(text.replace(/^\s*\/\/.*$/gm, '').replace(/,(\s*[\]}])/g, '$1'));
}

export function keybindingsSuite(): void {
  describe('Attentive: keybindings', function () {
    this.timeout(60_000);
    after(closeAll);

    it('none of our keys is a VS Code default for another command (outside our own diff context)', async () => {
      await vscode.commands.executeCommand('workbench.action.openDefaultKeybindingsFile');
      const document = vscode.window.activeTextEditor!.document;
      const defaults = (parseJsonc(document.getText()) as Keybinding[]).filter((k) => !k.command.startsWith('attentive.') && !k.command.startsWith('-'));
      assert.ok(defaults.length > 500, `${defaults.length} default keybindings read`);
      if (process.env['ATTENTIVE_KEYBINDINGS_DUMP']) fs.writeFileSync(process.env['ATTENTIVE_KEYBINDINGS_DUMP'], JSON.stringify(defaults, null, 1));
      const manifest = JSON.parse(fs.readFileSync(path.join(repositoryRoot(), 'package.json'), 'utf8')) as { contributes: { keybindings: Keybinding[] } };
      const clashes: string[] = [];
      for (const ours of manifest.contributes.keybindings) {
        if (ours.when?.includes('attentive.')) continue; // only inside our own context
        for (const other of defaults) if (other.key === ours.key && !disjoint(ours.when, other.when)) clashes.push(`${ours.key}: ${ours.command} and VS Code's ${other.command} (when ${other.when ?? 'always'})`);
      }
      assert.deepEqual(clashes, []);
    });
  });
}
