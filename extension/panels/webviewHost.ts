/**
 * One webview page as the host sees it: the CSP shell with its bundle, the ready handshake
 * (messages wait in a queue until the page says `<panel>/ready`), typed messages both ways.
 * Used by the Compare side view and by every editor-tab panel.
 */
import * as vscode from 'vscode';
import { makeNonce, webviewHtml } from './html';
import type { Log } from '../util/log';

export interface WebviewHostOptions<In extends { type: string }> {
  /** Bundle name under dist/webview/ (compare, confusion, live). */
  bundle: string;
  title: string;
  onMessage(m: In): void;
}

export class WebviewHost<Out, In extends { type: string }> implements vscode.Disposable {
  private ready = false;
  private queue: Out[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly readyEmitter = new vscode.EventEmitter<void>();
  /** Fires each time the page (re)loaded and its script ran under the CSP. */
  readonly onDidBecomeReady = this.readyEmitter.event;

  constructor(
    readonly webview: vscode.Webview,
    extensionUri: vscode.Uri,
    private readonly options: WebviewHostOptions<In>,
    private readonly log: Log,
  ) {
    const webviewRoot = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, media] };
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, `${options.bundle}.js`)).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'webview.css')).toString(),
      title: options.title,
    });
    this.subscriptions.push(webview.onDidReceiveMessage((m: In) => this.receive(m)));
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Sends now if the page is ready, else when it is. `replace` drops queued messages of the same kind first. */
  post(message: Out, replace = true): void {
    if (this.ready) {
      void this.webview.postMessage(message);
      return;
    }
    const type = (message as { type?: string }).type;
    if (replace) this.queue = this.queue.filter((q) => (q as { type?: string }).type !== type);
    this.queue.push(message);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.readyEmitter.dispose();
  }

  private receive(m: In): void {
    if (typeof m?.type !== 'string') return;
    if (m.type.endsWith('/ready')) {
      this.ready = true;
      const pending = this.queue;
      this.queue = [];
      for (const msg of pending) void this.webview.postMessage(msg);
      this.readyEmitter.fire();
    }
    try {
      this.options.onMessage(m);
    } catch (e) {
      this.log.error(`${this.options.bundle} view: handling ${m.type}`, e);
    }
  }
}

/** Asks where to save and writes the file; says where it went. */
export async function saveExport(name: string, content: string | Uint8Array, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({ defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined, filters });
  if (!uri) return undefined;
  await vscode.workspace.fs.writeFile(uri, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  void vscode.window.showInformationMessage(`Labbook: saved ${vscode.workspace.asRelativePath(uri)}.`);
  return uri;
}

/** A PNG data URL from a canvas, as bytes. */
export function pngBytes(dataUrl: string): Uint8Array {
  const m = /^data:image\/png;base64,(.+)$/.exec(dataUrl);
  if (!m) throw new Error('the chart did not give a PNG image');
  return Buffer.from(m[1], 'base64');
}
