// The HTML page every Attentive webview starts from: a strict Content Security Policy (nothing by default; the
// extension's own stylesheet, images and fonts; one script, allowed by a fresh nonce) around an empty #app.

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';

export interface WebviewPage {
  /** The bundle under dist/webview/, e.g. 'chat.js'. */
  script: string;
  /** The stylesheet under media/, e.g. 'chat.css'. */
  style: string;
  title: string;
}

export function webviewPageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = crypto.randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', page.script));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.style));
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
<title>${page.title}</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
