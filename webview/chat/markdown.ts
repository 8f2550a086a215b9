// Assistant replies: markdown-it (raw HTML, linkify and typographer off) with highlight.js for fenced code, then the
// allow-list sanitizer, then a toolbar on every code block (Copy, Apply, Insert at cursor, Replace selection, New file).

import MarkdownIt from 'markdown-it';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import type { CodeAction } from '../../src/protocol/chat';
import { button, icon, type IconName } from './dom';
import { sanitizeHtml } from './sanitize';

const LANGUAGES = { bash, c, cpp, css, go, java, javascript, json, python, rust, typescript, xml };
for (const [name, definition] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, definition);

/** Longer code is shown unhighlighted: highlighting runs on every streamed frame. */
const MAX_HIGHLIGHT_CHARS = 50_000;

function highlight(code: string, language: string): string {
  if (!language || code.length > MAX_HIGHLIGHT_CHARS || !hljs.getLanguage(language)) return ''; // markdown-it escapes it
  try {
    return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  } catch {
    return '';
  }
}

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false, highlight });

/** Fence words -> VS Code language ids (what the host needs for "New file"); unknown words pass through. */
const VSCODE_LANGUAGE_IDS: Record<string, string> = {
  py: 'python', python: 'python', python3: 'python', py3: 'python', gyp: 'python', ipython: 'python',
  js: 'javascript', javascript: 'javascript', mjs: 'javascript', cjs: 'javascript', node: 'javascript', jsx: 'javascriptreact',
  ts: 'typescript', typescript: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'typescriptreact',
  json: 'json', jsonc: 'jsonc', json5: 'json',
  sh: 'shellscript', bash: 'shellscript', shell: 'shellscript', zsh: 'shellscript', console: 'shellscript', shellscript: 'shellscript',
  css: 'css', html: 'html', htm: 'html', xhtml: 'html', xml: 'xml', svg: 'xml',
  java: 'java', c: 'c', h: 'c', cpp: 'cpp', 'c++': 'cpp', cc: 'cpp', cxx: 'cpp', hpp: 'cpp', hh: 'cpp', 'h++': 'cpp',
  go: 'go', golang: 'go', rs: 'rust', rust: 'rust', text: 'plaintext', txt: 'plaintext', plaintext: 'plaintext',
};

export function vscodeLanguageId(fenceInfo: string): string {
  const word = fenceInfo.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (VSCODE_LANGUAGE_IDS[word]) return VSCODE_LANGUAGE_IDS[word];
  return /^[a-z0-9+#._-]{1,64}$/.test(word) ? word : '';
}

export interface CodeBlock {
  code: string;
  /** VS Code language id ('' when the fence named none). */
  language: string;
  /** The fence's own word, shown in the toolbar. */
  label: string;
}

export type CodeActionHandler = (action: CodeAction, block: CodeBlock, button: HTMLButtonElement) => void;

const ACTIONS: ReadonlyArray<{ action: CodeAction; label: string; icon: IconName }> = [
  { action: 'copy', label: 'Copy code', icon: 'copy' },
  { action: 'apply', label: 'Apply code to the file (shows the change to accept or reject)', icon: 'apply' },
  { action: 'insert', label: 'Insert code at cursor', icon: 'insert' },
  { action: 'replace', label: 'Replace selection with code', icon: 'replace' },
  { action: 'newFile', label: 'Open code in a new file', icon: 'newFile' },
];

function codeToolbar(block: CodeBlock, onAction: CodeActionHandler): HTMLElement {
  const bar = document.createElement('div');
  bar.className = 'code-toolbar';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', block.label ? `${block.label} code actions` : 'Code actions');
  const label = document.createElement('span');
  label.className = 'code-language';
  label.textContent = block.label;
  bar.append(label);
  for (const { action, label: text, icon: name } of ACTIONS) {
    const node = button({ label: text, icon: name, className: `code-action code-action-${action}`, onClick: () => onAction(action, block, node) });
    node.dataset['action'] = action;
    bar.append(node);
  }
  return bar;
}

/**
 * Renders markdown into a sanitized fragment; every <pre> becomes a .code-block with a toolbar whose buttons call
 * onAction with the block's exact source text and language.
 */
export function renderMarkdown(text: string, onAction: CodeActionHandler): DocumentFragment {
  const env = {};
  const tokens = markdown.parse(text, env);
  const blocks: CodeBlock[] = tokens
    .filter((t) => t.type === 'fence' || t.type === 'code_block')
    .map((t) => {
      const word = t.type === 'fence' ? (t.info.trim().split(/\s+/)[0] ?? '') : '';
      return { code: t.content, language: vscodeLanguageId(word), label: word.slice(0, 40) };
    });
  const fragment = sanitizeHtml(markdown.renderer.render(tokens, markdown.options, env));
  const pres = Array.from(fragment.querySelectorAll('pre'));
  pres.forEach((pre, index) => {
    const block = pres.length === blocks.length ? blocks[index] : { code: pre.textContent ?? '', language: '', label: '' };
    const wrapper = document.createElement('div');
    wrapper.className = 'code-block';
    pre.replaceWith(wrapper);
    wrapper.append(codeToolbar(block, onAction), pre);
  });
  return fragment;
}

/** Brief "copied" feedback on a Copy button: a check mark for 1.5 s. */
export function flashCopied(target: HTMLButtonElement): void {
  const original = target.getAttribute('aria-label') ?? 'Copy';
  target.classList.add('copied');
  target.replaceChildren(icon('check'));
  target.setAttribute('aria-label', 'Copied');
  target.title = 'Copied';
  setTimeout(() => {
    target.classList.remove('copied');
    target.replaceChildren(icon('copy'));
    target.setAttribute('aria-label', original);
    target.title = original;
  }, 1500);
}
