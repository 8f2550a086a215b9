// The sidebar chat: a WebviewViewProvider that renders webview/chat/ under a strict CSP and hands every message,
// after validation, to the ChatController.

import * as vscode from 'vscode';
import { webviewPageHtml } from '../shared/webviewPage';
import { validateWebviewMessage } from '../../protocol/chat';
import type { ChatController } from './chatController';

export const CHAT_VIEW_ID = 'attentive.chat';

export class ChatViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: ChatController,
    private readonly log: vscode.OutputChannel,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const webview = view.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    webview.html = this.html(webview);
    this.controller.attachView((message) => void webview.postMessage(message));
    const received = webview.onDidReceiveMessage((raw: unknown) => {
      const message = validateWebviewMessage(raw);
      if (!message) {
        this.log.appendLine(`[chat] dropped a malformed message from the webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
        return;
      }
      this.controller.handle(message).catch((error: unknown) => this.log.appendLine(`[chat] ${(error as Error).message}`));
    });
    view.onDidDispose(() => {
      received.dispose();
      this.controller.attachView(null);
      this.controller.stop(); // closing the view cancels its requests
      this.view = undefined;
    });
  }

  /** Reveals the view (creating it if needed) and focuses its input. */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    this.view?.show(true);
  }

  private html(webview: vscode.Webview): string {
    return webviewPageHtml(webview, this.extensionUri, { script: 'chat.js', style: 'chat.css', title: 'Attentive Chat' });
  }
}
