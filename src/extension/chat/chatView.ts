// The sidebar chat: a WebviewViewProvider that renders webview/chat/ under a strict CSP and hands every message,
// after validation, to the ChatController.

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
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
    const nonce = crypto.randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'chat.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'chat.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${style}" rel="stylesheet">
<title>Attentive Chat</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }
}
