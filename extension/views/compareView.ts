/**
 * The Compare webview view in the Labbook sidebar. The page and its data belong to
 * CompareService (shared with the editor-tab panels); this only hands it the view.
 */
import * as vscode from 'vscode';
import type { CompareService } from '../panels/comparePanel';

export class CompareViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private readonly readyEmitter = new vscode.EventEmitter<void>();
  /** Fires each time the page (re)loaded and its script ran under the CSP. */
  readonly onDidBecomeReady = this.readyEmitter.event;
  private ready = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly service: CompareService) {}

  get isReady(): boolean {
    return this.ready;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.ready = false;
    const host = this.service.attachView(view.webview, (l) => view.onDidDispose(l));
    this.subscriptions.push(
      host.onDidBecomeReady(() => {
        this.ready = true;
        this.readyEmitter.fire();
      }),
      view.onDidDispose(() => (this.ready = false)),
    );
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.readyEmitter.dispose();
  }
}
