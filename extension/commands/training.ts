/**
 * Train Model…, Cancel Training: jobs run in the server's queue; each shows a progress
 * notification with Cancel (honoured within one batch) and a status-bar item while it trains.
 * For scripts and tests, Train Model takes `{ config?, data?, model?, epochs?, name? }` and then
 * resolves with how the job ended. What comes after training (Show Models, Evaluate, Deploy …)
 * is in models.ts.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import {
  TrainCancelRequest,
  TrainEndedNotification,
  type TrainEndedParams,
  TrainJobsRequest,
  TrainProgressNotification,
  type TrainProgressParams,
  type TrainStartParams,
  TrainStartRequest,
} from '../../server/protocol/training';
import type { ServerClient } from '../client/serverClient';
import type { Log } from '../util/log';
import type { CommandFn } from './table';

export type TrainingCommandId = 'labbook.trainModel' | 'labbook.cancelTraining';

export class TrainingCommands implements vscode.Disposable {
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private readonly listeners = new Map<string, { progress(p: TrainProgressParams): void; ended(p: TrainEndedParams): void }>();
  private readonly progressEmitter = new vscode.EventEmitter<TrainProgressParams>();
  /** Every progress report of every job (batches and epoch ends). */
  readonly onDidProgress = this.progressEmitter.event;
  private readonly statusEmitter = new vscode.EventEmitter<string | undefined>();
  /** The status-bar item's text as it changes; undefined when it hides. */
  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {
    this.status.command = 'labbook.cancelTraining';
    client.onNotification(TrainProgressNotification, (p) => {
      this.status.text = `$(pulse) ${p.backend} · epoch ${p.epoch}/${p.epochs} · loss ${p.loss.toFixed(3)} · ${Math.round(p.samplesPerS)}/s`;
      this.status.tooltip = 'Labbook training — click to cancel';
      this.status.show();
      this.statusEmitter.fire(this.status.text);
      this.listeners.get(p.jobId)?.progress(p);
      this.progressEmitter.fire(p);
    });
    client.onNotification(TrainEndedNotification, (p) => {
      this.status.hide();
      this.statusEmitter.fire(undefined);
      this.log.info(`training job ${p.jobId} ${p.status}${p.model ? `: model ${p.model}, test accuracy ${p.testAccuracy}` : ''}${p.error ? `: ${p.error}` : ''}`);
      this.listeners.get(p.jobId)?.ended(p);
    });
  }

  table(): Record<TrainingCommandId, CommandFn> {
    return {
      'labbook.trainModel': (options?: unknown) => this.train((options && typeof options === 'object' && !(options instanceof vscode.Uri) ? options : {}) as TrainStartParams, options instanceof vscode.Uri ? options : undefined),
      'labbook.cancelTraining': () => this.cancel(),
    };
  }

  private async train(given: TrainStartParams, uri?: vscode.Uri): Promise<TrainEndedParams | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Labbook does not train in an untrusted workspace. Trust this folder to train models.');
      return undefined;
    }
    const params = { ...given };
    if (uri) {
      if (/\.(json|ya?ml)$/i.test(uri.fsPath)) params.config = uri.fsPath;
      else params.data = uri.fsPath;
    }
    if (!params.config && !params.data) {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, openLabel: 'Train on this', title: 'Training config (JSON/YAML) or data (IDX folder, CSV, folder of PNG class folders)' });
      if (!picked?.[0]) return undefined;
      if (/\.(json|ya?ml)$/i.test(picked[0].fsPath)) params.config = picked[0].fsPath;
      else params.data = picked[0].fsPath;
    }
    if (!params.config && !params.model) {
      const m = await vscode.window.showQuickPick(
        [
          { label: 'mlp', description: 'dense 128 → dropout → softmax' },
          { label: 'cnn', description: 'conv32 → conv64 → pool → dropout → dense128 → softmax' },
        ],
        { title: 'Model' },
      );
      if (!m) return undefined;
      params.model = m.label as 'mlp' | 'cnn';
      const epochs = await vscode.window.showInputBox({ title: 'Epochs', value: '10', validateInput: (v) => (/^[1-9]\d*$/.test(v) ? undefined : 'a whole number ≥ 1') });
      if (!epochs) return undefined;
      params.epochs = Number(epochs);
    }
    const job = await this.client.request(TrainStartRequest, params);
    const what = path.basename(params.data ?? params.config ?? 'model');
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Labbook: training ${params.model ?? ''} on ${what}`, cancellable: true },
      (progress, token) =>
        new Promise<TrainEndedParams>((resolve) => {
          if (job.position > 0) progress.report({ message: `queued (${job.position} job(s) ahead)` });
          token.onCancellationRequested(() => void this.client.request(TrainCancelRequest, { jobId: job.jobId }));
          let last = 0;
          this.listeners.set(job.jobId, {
            progress: (p) => {
              const done = ((p.epoch - 1 + (p.batches ? p.batch / p.batches : 1)) / p.epochs) * 100;
              progress.report({ increment: Math.max(0, done - last), message: `epoch ${p.epoch}/${p.epochs} · loss ${p.loss.toFixed(4)} · ${Math.round(p.samplesPerS)} samples/s (${p.backend})` });
              last = Math.max(last, done);
            },
            ended: (p) => {
              this.listeners.delete(job.jobId);
              resolve(p);
              if (p.status === 'finished') {
                void vscode.window.showInformationMessage(`Labbook: ${p.model} trained — test accuracy ${((p.testAccuracy ?? 0) * 100).toFixed(2)}% (${p.backend}).`, 'Show Confusion Matrix').then((c) => {
                  if (c && p.runId) void vscode.commands.executeCommand('labbook.showConfusionMatrix', p.runId);
                });
              } else if (p.status === 'failed') void vscode.window.showErrorMessage(`Labbook: training failed: ${p.error ?? 'see the log'}`);
            },
          });
        }),
    );
  }

  private async cancel(): Promise<boolean> {
    const jobs = await this.client.request(TrainJobsRequest);
    if (jobs.length === 0) {
      void vscode.window.showInformationMessage('Labbook: no training job is running.');
      return false;
    }
    const pick = jobs.length === 1 ? jobs[0] : (await vscode.window.showQuickPick(jobs.map((j) => ({ label: j.label, description: j.state, job: j })), { title: 'Cancel which training job?' }))?.job;
    return pick ? this.client.request(TrainCancelRequest, { jobId: pick.jobId }) : false;
  }

  dispose(): void {
    this.status.dispose();
    this.progressEmitter.dispose();
    this.statusEmitter.dispose();
  }
}
