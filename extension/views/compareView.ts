/**
 * Host side of the Compare webview view. Messages wait in a queue until the page says
 * `compare/ready`, so nothing sent during load is lost.
 */
import * as vscode from 'vscode';
import type { CompareToHost, HostToCompare } from '../../webview/protocol/messages';
import { ViewIds } from '../commands/ids';
import { makeNonce, webviewHtml } from '../panels/html';
import type { Log } from '../util/log';

export class CompareViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private queue: HostToCompare[] = [];
  private last: HostToCompare = { type: 'compare/show', runs: [], storeRunCount: -1 };
  private readonly readyEmitter = new vscode.EventEmitter<void>();
  /** Fires each time the page (re)loaded and its script ran under the CSP. */
  readonly onDidBecomeReady = this.readyEmitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {}

  get isReady(): boolean {
    return this.ready;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const webviewRoot = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, media] };
    view.webview.html = webviewHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'compare.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'webview.css')).toString(),
      title: 'Compare runs',
    });
    this.subscriptions.push(
      view.webview.onDidReceiveMessage((m: CompareToHost) => this.onMessage(m)),
      view.onDidDispose(() => {
        this.view = undefined;
        this.ready = false;
      }),
    );
    this.queue.push(this.last);
  }

  show(message: HostToCompare): void {
    this.last = message;
    if (this.view && this.ready) void this.view.webview.postMessage(message);
    else this.queue = [message];
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.readyEmitter.dispose();
  }

  private onMessage(m: CompareToHost): void {
    switch (m.type) {
      case 'compare/ready': {
        this.ready = true;
        const pending = this.queue;
        this.queue = [];
        for (const msg of pending) void this.view?.webview.postMessage(msg);
        this.readyEmitter.fire();
        break;
      }
      case 'compare/openRunsView':
        void vscode.commands.executeCommand(`${ViewIds.runs}.focus`);
        break;
      default:
        this.log.warn(`compare view sent an unknown message: ${JSON.stringify(m)}`);
    }
  }
}
