// A webview's handle on VS Code: typed postMessage and the state VS Code keeps for the page while it is hidden or
// reloaded. acquireVsCodeApi may be called only once per page; outside VS Code (unit tests) messages go nowhere and
// the state lives in memory.

export interface WebviewApi<Message, State> {
  postMessage(message: Message): void;
  getState(): State | undefined;
  setState(state: State): void;
}

interface RawVsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** @param readState checks what VS Code kept (from an older version of the page, it may be anything) */
export function acquireWebviewApi<Message, State>(readState: (state: unknown) => State | undefined): WebviewApi<Message, State> {
  const acquire = (globalThis as { acquireVsCodeApi?: () => RawVsCodeApi }).acquireVsCodeApi;
  if (typeof acquire === 'function') {
    const raw = acquire();
    return {
      postMessage: (message) => raw.postMessage(message),
      getState: () => readState(raw.getState()),
      setState: (state) => raw.setState(state),
    };
  }
  let memory: State | undefined;
  return {
    postMessage: () => undefined,
    getState: () => memory,
    setState: (state) => {
      memory = state;
    },
  };
}
