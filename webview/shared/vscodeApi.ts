/** Typed access to the webview API VS Code injects (callable once per page). */
export interface VsCodeApi<In, State> {
  postMessage(message: In): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi<In, State>(): VsCodeApi<In, State>;

export function vscodeApi<In, State>(): VsCodeApi<In, State> {
  return acquireVsCodeApi<In, State>();
}
