/**
 * Notebook diff panels (editor tabs). The server computes the diff; the page renders it. A
 * panel restored after a reload asks the server again for the same two sides (its state holds
 * them), so it shows the files as they are now. Messages wait until the page says it is ready.
 */
import * as vscode from 'vscode';
import { DiffRequest } from '../../server/protocol/requests';
import type { DiffParams, DiffViewModel } from '../../server/protocol/diffDto';
import type { DiffToHost, DiffViewState, HostToDiff } from '../../webview/protocol/diff';
import type { ServerClient } from '../client/serverClient';
import type { Log } from '../util/log';
import { makeNonce, webviewHtml } from './html';

export const DIFF_VIEW_TYPE = 'labbook.diff';

export class DiffPanel {
  private ready = false;
  private pending: HostToDiff | undefined;
  /** The last model sent (tests and the API read it). */
  model: DiffViewModel | undefined;
  error: string | undefined;
  private readonly readyEmitter = new vscode.EventEmitter<void>();
  readonly onDidBecomeReady = this.readyEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    public params: DiffParams,
    extensionUri: vscode.Uri,
    private readonly onMessage: (panel: DiffPanel, m: DiffToHost) => void,
  ) {
    const webviewRoot = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, media] };
    panel.iconPath = vscode.Uri.joinPath(media, 'labbook.svg');
    panel.webview.html = webviewHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'diff.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'diff.css')).toString(),
      title: 'Notebook diff',
    });
    panel.webview.onDidReceiveMessage((m: DiffToHost) => {
      if (m.type === 'diff/ready') {
        this.ready = true;
        if (this.pending) void panel.webview.postMessage(this.pending);
        this.pending = undefined;
        this.readyEmitter.fire();
      } else this.onMessage(this, m);
    });
    panel.onDidDispose(() => this.readyEmitter.dispose());
  }

  get isReady(): boolean {
    return this.ready;
  }

  show(model: DiffViewModel): void {
    this.model = model;
    this.error = undefined;
    this.panel.title = model.title;
    this.post({ type: 'diff/show', params: this.params, model });
  }

  showError(message: string): void {
    this.error = message;
    this.post({ type: 'diff/error', params: this.params, message });
  }

  private post(m: HostToDiff): void {
    if (this.ready) void this.panel.webview.postMessage(m);
    else this.pending = m;
  }
}

export class DiffPanels implements vscode.Disposable, vscode.WebviewPanelSerializer<DiffViewState> {
  private readonly panels = new Set<DiffPanel>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly openedEmitter = new vscode.EventEmitter<DiffPanel>();
  /** Fires when a panel received its diff (or its error). */
  readonly onDidShow = this.openedEmitter.event;
  last: DiffPanel | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {
    this.subscriptions.push(vscode.window.registerWebviewPanelSerializer(DIFF_VIEW_TYPE, this), this.openedEmitter);
  }

  /** Computes the diff (with progress), then opens a panel on it. Errors are shown, not thrown. */
  async open(params: DiffParams, what: string): Promise<DiffPanel | undefined> {
    let model: DiffViewModel;
    try {
      model = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Labbook: diffing ${what}` }, () => this.client.request(DiffRequest, params));
    } catch (e) {
      const message = (e as Error).message;
      this.log.warn(`diff of ${what} failed: ${message}`);
      void vscode.window.showErrorMessage(`Labbook: cannot diff ${what}: ${message}`);
      return undefined;
    }
    const panel = vscode.window.createWebviewPanel(DIFF_VIEW_TYPE, model.title, vscode.ViewColumn.Active, { enableFindWidget: true, retainContextWhenHidden: false });
    const p = this.track(new DiffPanel(panel, params, this.extensionUri, (dp, m) => this.onMessage(dp, m)));
    p.show(model);
    this.openedEmitter.fire(p);
    return p;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: DiffViewState | undefined): Promise<void> {
    if (!state?.params) {
      panel.dispose();
      return;
    }
    const p = this.track(new DiffPanel(panel, state.params, this.extensionUri, (dp, m) => this.onMessage(dp, m)));
    await this.refresh(p);
  }

  private track(p: DiffPanel): DiffPanel {
    this.panels.add(p);
    this.last = p;
    p.panel.onDidDispose(() => {
      this.panels.delete(p);
      if (this.last === p) this.last = undefined;
    });
    return p;
  }

  private async refresh(p: DiffPanel): Promise<void> {
    try {
      p.show(await this.client.request(DiffRequest, p.params));
    } catch (e) {
      p.showError(`Cannot show this diff: ${(e as Error).message}`);
    }
    this.openedEmitter.fire(p);
  }

  private onMessage(p: DiffPanel, m: DiffToHost): void {
    switch (m.type) {
      case 'diff/refresh':
        void this.refresh(p);
        break;
      case 'diff/reveal':
        void this.reveal(p, m.side, m.cell);
        break;
      default:
        this.log.warn(`diff view sent an unknown message: ${JSON.stringify(m)}`);
    }
  }

  /** Opens the notebook of one side at a cell (files only; a git revision opens read-only text). */
  private async reveal(p: DiffPanel, side: 'a' | 'b', cell: number): Promise<void> {
    const spec = side === 'a' ? p.params.a : p.params.b;
    if (spec.kind === 'file') {
      const uri = vscode.Uri.file(spec.path);
      const range = new vscode.NotebookRange(cell, cell + 1);
      await vscode.window.showNotebookDocument(await vscode.workspace.openNotebookDocument(uri), { selections: [range], viewColumn: vscode.ViewColumn.Beside });
    } else if (spec.kind === 'git') {
      void vscode.window.showInformationMessage(`Cell ${cell + 1} is in ${spec.rev}:${vscode.workspace.asRelativePath(spec.path)}, a git revision; open the working copy with the other side's button.`);
    }
  }

  dispose(): void {
    for (const p of this.panels) p.panel.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
