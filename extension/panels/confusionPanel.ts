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
import { RunPanels } from './runPanels';
import { WebviewHost, pngBytes, saveExport } from './webviewHost';

export interface ConfusionRendered {
  runId: string;
  epoch: number;
  mode: string;
}

export class ConfusionPanels extends RunPanels<{ panel: vscode.WebviewPanel; host: WebviewHost<HostToConfusion, ConfusionToHost> }> {
  private readonly renderedEmitter = new vscode.EventEmitter<ConfusionRendered>();
  readonly onDidRender = this.renderedEmitter.event;

  constructor(
    extensionUri: vscode.Uri,
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {
    super(ViewIds.confusionPanel, (runId) => `Confusion matrix · ${runId}`, extensionUri);
  }

  /** Runs that carry an evaluation, for the command's picker. */
  evaluatedRuns() {
    return this.client.request(EvaluatedRunsRequest);
  }

  override dispose(): void {
    super.dispose();
    this.renderedEmitter.dispose();
  }

  protected attach(panel: vscode.WebviewPanel, runId: string): void {
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
