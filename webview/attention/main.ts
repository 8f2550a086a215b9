// Entry of the attention webview bundle (dist/webview/attention.js): wires the window to AttentionApp.

import { AttentionApp, isHostMessage } from './app';

const root = document.getElementById('app');
if (root) {
  // For bench/attention.mjs: when this page's script started and, from its navigation start (performance.timeOrigin),
  // when VS Code's webview service worker began to serve it.
  root.dataset['scriptStartedAt'] = String(Date.now());
  const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  if (navigation) root.dataset['serviceWorkerStartMs'] = String(Math.round(navigation.workerStart));
  const app = new AttentionApp(root);
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isHostMessage(event.data)) app.handle(event.data);
  });
  // VS Code marks the theme on the body's class (vscode-light, vscode-dark, vscode-high-contrast).
  new MutationObserver(() => app.themeChanged()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  app.start();
}
