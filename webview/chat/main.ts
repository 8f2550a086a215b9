// Entry of the chat webview bundle (dist/webview/chat.js): wires the window to ChatApp and nothing else.

import { ChatApp, isHostMessage } from './app';

const root = document.getElementById('app');
if (root) {
  const app = new ChatApp(root);
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isHostMessage(event.data)) app.handle(event.data);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') app.flushDraft();
  });
  app.start();
}
