/**
 * The Confusion-matrix view (an editor tab): one run's evaluation — per-epoch matrices,
 * per-class precision/recall/F1, misclassified examples — and optionally a second run to diff
 * against. Restored after a reload by its serializer.
 */
import * as vscode from 'vscode';
import { EvaluatedRunsRequest, EvaluationRequest } from '../../server/protocol/requests';
import type { ConfusionToHost, HostToConfusion } from '../../webview/protocol/messages';
import type { ServerClient } from '../client/serverClient';
import { ViewIds } from '../commands/ids';
import type { Log } from '../util/log';
import { WebviewHost, pngBytes, saveExport } from './webviewHost';

export interface ConfusionRendered {
  runId: string;
  epoch: number;
  mode: string;
}

export class ConfusionPanels implements vscode.Disposable {
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; host: WebviewHost<HostToConfusion, ConfusionToHost> }>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly renderedEmitter = new vscode.EventEmitter<ConfusionRendered>();
  readonly onDidRender = this.renderedEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(ViewIds.confusionPanel, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const id = (state as { runId?: string } | undefined)?.runId;
          if (id) this.attach(panel, id);
          else panel.dispose();
        },
      }),
    );
  }

  /** Opens (or reveals) the view for a run. */
  show(runId: string): void {
    const open = this.panels.get(runId);
    if (open) {
      open.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(ViewIds.confusionPanel, `Confusion matrix · ${runId}`, vscode.ViewColumn.Active, { enableScripts: true });
    this.attach(panel, runId);
  }

  /** Runs that carry an evaluation, for the command's picker. */
  evaluatedRuns() {
    return this.client.request(EvaluatedRunsRequest);
  }

  dispose(): void {
    for (const p of this.panels.values()) p.panel.dispose();
    for (const d of this.disposables) d.dispose();
    this.renderedEmitter.dispose();
  }

  private attach(panel: vscode.WebviewPanel, runId: string): void {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'labbook.svg');
    const host: WebviewHost<HostToConfusion, ConfusionToHost> = new WebviewHost<HostToConfusion, ConfusionToHost>(
      panel.webview,
      this.extensionUri,
      { bundle: 'confusion', title: 'Confusion matrix', onMessage: (m) => this.onMessage(runId, host, m) },
      this.log,
    );
    this.panels.set(runId, { panel, host });
    panel.onDidDispose(() => {
      host.dispose();
      this.panels.delete(runId);
    });
    void this.load(runId, host, panel);
  }

  private async load(runId: string, host: WebviewHost<HostToConfusion, ConfusionToHost>, panel?: vscode.WebviewPanel): Promise<void> {
    try {
      const [evaluation, others] = await Promise.all([this.client.request(EvaluationRequest, { id: runId }), this.client.request(EvaluatedRunsRequest)]);
      if (panel) panel.title = `Confusion matrix · ${evaluation.runName}`;
      host.post({ type: 'confusion/show', evaluation, others: others.filter((o) => o.id !== evaluation.runId) });
    } catch (e) {
      this.log.error(`reading the evaluation of ${runId}`, e);
      host.post({ type: 'confusion/show', evaluation: null, others: [], error: e instanceof Error ? e.message : String(e) });
    }
  }

  private onMessage(runId: string, host: WebviewHost<HostToConfusion, ConfusionToHost>, m: ConfusionToHost): void {
    switch (m.type) {
      case 'confusion/ready':
        break;
      case 'confusion/against':
        if (!m.id) {
          host.post({ type: 'confusion/against', evaluation: null });
          break;
        }
        void this.client.request(EvaluationRequest, { id: m.id }).then(
          (evaluation) => host.post({ type: 'confusion/against', evaluation }),
          (e) => host.post({ type: 'confusion/against', evaluation: null, error: e instanceof Error ? e.message : String(e) }),
        );
        break;
      case 'confusion/rendered':
        this.renderedEmitter.fire({ runId: m.runId, epoch: m.epoch, mode: m.mode });
        break;
      case 'confusion/exportCsv':
        void saveExport(m.name, m.csv, { CSV: ['csv'] });
        break;
      case 'confusion/exportPng':
        void Promise.resolve().then(() => saveExport(m.name, pngBytes(m.dataUrl), { PNG: ['png'] }));
        break;
      default:
        this.log.warn(`confusion view of ${runId} sent an unknown message: ${JSON.stringify(m)}`);
    }
  }
}
