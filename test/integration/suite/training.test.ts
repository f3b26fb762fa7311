import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import * as vscode from 'vscode';
import type { LabbookApi } from '../../../extension/api';
import type { ShownPick } from '../../../extension/commands/models';
import { type DeployResult, type DeploymentDto, type DriftResult, type EvaluateModelResult, type PredictFilesResult, type RollbackResult, type TrainEndedParams, deploymentOutcome } from '../../../server/protocol/training';
import { labbook, showRun, waitForEvent, waitForServer, workspaceRoot } from './helpers';

/** UCI digits from Debian's python3-sklearn: 1,797 rows of 64 values (0–16) and a label. */
const DIGITS = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';

interface ShownTrainingRun {
  kind: string;
  status: string;
  tags: string[];
  params: Record<string, string>;
  metrics: Record<string, { step: number; value: number }[]>;
}

/** Runs `step` every 250 ms until `done` settles (the way a user keeps pressing Enter), up to `ms`. */
async function repeatUntil<T>(done: Promise<T>, step: () => Thenable<unknown>, ms = 30_000): Promise<T> {
  let settled = false;
  const watched = done.finally(() => (settled = true));
  const deadline = Date.now() + ms;
  while (!settled && Date.now() < deadline) {
    await step();
    await Promise.race([watched.catch(() => undefined), new Promise((r) => setTimeout(r, 250))]);
  }
  return watched;
}

const activeText = () => vscode.window.activeTextEditor?.document.getText() ?? '';

export function registerTrainingSuite(): void {
  describe('Training and the model lifecycle in a real VS Code host', function () {
    let api: LabbookApi;
    let ext: vscode.Extension<LabbookApi>;
    let good: TrainEndedParams;
    let rows: string[];
    const inputs = () => path.join(workspaceRoot(), 'to-predict');

    before(async function () {
      if (!fs.existsSync(DIGITS)) this.skip();
      ({ api, ext } = await labbook());
      await waitForServer(api, 'running');
      rows = zlib.gunzipSync(fs.readFileSync(DIGITS)).toString().trim().split('\n').slice(0, 40);
      fs.mkdirSync(inputs(), { recursive: true });
      // Unlabelled rows as a user would bring them, and the same digits with their intensities inverted.
      fs.writeFileSync(path.join(inputs(), 'rows.csv'), rows.map((l) => l.split(',').slice(0, 64).join(',')).join('\n'));
      fs.writeFileSync(path.join(inputs(), 'inverted.csv'), rows.map((l) => l.split(',').slice(0, 64).map((v) => 16 - Number(v)).join(',')).join('\n'));
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('Train Model with arguments: the job finishes, the run is tracked with its backend and metrics, the model is registered, the status bar shows progress', async () => {
      const status: string[] = [];
      const sub = api.training.onDidChangeStatus((t) => status.push(t ?? '(hidden)'));
      try {
        good = (await vscode.commands.executeCommand<TrainEndedParams>('labbook.trainModel', { data: DIGITS, model: 'mlp', epochs: 25, name: 'good' }))!;
      } finally {
        sub.dispose();
      }
      assert.ok(good, 'the command resolved with how the job ended');
      assert.strictEqual(good.status, 'finished', good.error);
      assert.strictEqual(good.model, 'good@1');
      assert.ok(good.testAccuracy! >= 0.95, `test accuracy ${good.testAccuracy}`);
      assert.ok(good.backend && good.runId);
      assert.ok(status.some((t) => new RegExp(`^\\$\\(pulse\\) ${good.backend} · epoch 25/25 · loss \\d\\.\\d{3} · \\d+/s$`).test(t)), `status bar texts: ${status.slice(-3).join(' | ')}`);
      assert.strictEqual(status[status.length - 1], '(hidden)', 'the status-bar item hides when the job ends');

      const run = showRun(ext, good.runId!) as unknown as ShownTrainingRun;
      assert.deepStrictEqual([run.kind, run.status], ['training', 'finished']);
      assert.strictEqual(run.params.backend, good.backend);
      assert.strictEqual(run.params.registered_model, 'good@1');
      assert.deepStrictEqual(run.metrics.epoch.map((p) => p.value), Array.from({ length: 25 }, (_, i) => i + 1));
      for (const k of ['loss', 'accuracy', 'val_accuracy', 'test_accuracy', 'samples_per_s']) assert.strictEqual(run.metrics[k]?.length, 25, `metric ${k} per epoch`);
      api.runsTree.refresh();
      const node = (await api.runsTree.runNodes()).find((n) => n.run.id === good.runId);
      assert.ok(node, 'the run is in the Runs tree');
      assert.match(String(api.runsTree.getTreeItem(node).contextValue), /^labbook\.run\.finished\.evaluated/);
      assert.ok(fs.existsSync(path.join(workspaceRoot(), '.labbook', 'models', 'good', '1', 'card.json')), 'the model is in the registry');
    });

    it('Cancel Training during a job ends its run as cancelled and keeps the epochs it recorded', async () => {
      const twoEpochs = waitForEvent(api.training.onDidProgress, (p) => !!p.epochMetrics && p.epoch >= 2, 'two finished epochs of the long job');
      const job = vscode.commands.executeCommand<TrainEndedParams>('labbook.trainModel', { data: DIGITS, model: 'mlp', epochs: 1000, name: 'long' });
      const progress = await twoEpochs;
      assert.strictEqual(await vscode.commands.executeCommand<boolean>('labbook.cancelTraining'), true);
      const ended = (await job)!;
      assert.deepStrictEqual([ended.status, ended.model], ['cancelled', null]);
      const run = showRun(ext, progress.runId) as unknown as ShownTrainingRun;
      assert.strictEqual(run.status, 'failed');
      assert.ok(run.tags.includes('cancelled'), `tags ${run.tags.join(', ')}`);
      const epochs = run.metrics.epoch.map((p) => p.value);
      assert.ok(epochs.length >= 2 && epochs.length < 1000, `epochs kept: ${epochs.length}`);
      assert.deepStrictEqual(epochs, Array.from({ length: epochs.length }, (_, i) => i + 1));
      assert.strictEqual(run.metrics.loss.length, epochs.length);
      assert.ok(!fs.existsSync(path.join(workspaceRoot(), '.labbook', 'models', 'long')), 'no model from a cancelled job');
    });

    it('Deploy Model: a refusal gives the reason, "Deploy anyway (forced)" is recorded as forced, Roll Back restores, the history shows it all', async () => {
      const weak = (await vscode.commands.executeCommand<TrainEndedParams>('labbook.trainModel', { data: DIGITS, model: 'mlp', epochs: 1, name: 'weak' }))!;
      assert.strictEqual(weak.status, 'finished');
      // {}: the newest model through the gate (threshold: the setting, 0.95).
      const refused = (await vscode.commands.executeCommand<DeployResult>('labbook.deployModel', {}))!;
      assert.deepStrictEqual([refused.model, refused.deployed], ['weak@1', false]);
      assert.match(refused.reason, /^test accuracy \d+\.\d\d% is below the threshold 95\.00%$/);
      // A model named is a model chosen: no gate.
      const deployed = (await vscode.commands.executeCommand<DeployResult>('labbook.deployModel', 'good'))!;
      assert.deepStrictEqual([deployed.model, deployed.deployed, deployed.forced, deployed.chosen], ['good@1', true, false, true]);

      // The refusal's notification offers to force it: press its button.
      await vscode.commands.executeCommand('notifications.clearAll');
      const forced = waitForEvent(api.models.onDidDeploy, (r) => r.forced, 'the forced deployment');
      const worse = (await vscode.commands.executeCommand<DeployResult>('labbook.deployModel', { threshold: 0.5 }))!;
      assert.deepStrictEqual([worse.model, worse.deployed], ['weak@1', false]);
      assert.match(worse.reason, /is worse than production good@1/);
      const f = await repeatUntil(forced, () => vscode.commands.executeCommand('notification.acceptPrimaryAction'), 15_000);
      assert.deepStrictEqual([f.model, f.deployed, f.forced], ['weak@1', true, true]);
      assert.match(f.reason, /^forced past the gate: .*worse than production good@1/);

      const back = await vscode.commands.executeCommand<RollbackResult>('labbook.rollbackDeployment');
      assert.deepStrictEqual(back, { model: 'good@1', from: 'weak@1' });
      const history = (await vscode.commands.executeCommand<DeploymentDto[]>('labbook.showDeployments'))!;
      const outcomes = ['rollback good@1', 'forced weak@1', 'refused weak@1', 'chosen good@1', 'refused weak@1'];
      assert.deepStrictEqual(history.map((d) => `${deploymentOutcome(d)} ${d.model}`), outcomes);
      // What the user reads: the history document, newest first.
      const lines = activeText().split('\n').filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
      assert.deepStrictEqual(lines.map((l) => l.split(/\s+/).slice(2, 4).reverse().join(' ')), outcomes, activeText());
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('Show Models lists name@version, test accuracy and the production marker; its Evaluate action scores the model and opens its confusion matrix', async () => {
      const picks: ShownPick[] = [];
      const sub = api.models.onDidShowPick((p) => picks.push(p));
      const rendered = waitForEvent(api.confusion.onDidRender, (r) => r.runId === good.runId, 'the confusion matrix of the production model\'s run');
      let e: EvaluateModelResult | undefined;
      try {
        // A user presses Enter on the first model (production first), then on the first action.
        e = await repeatUntil(Promise.resolve(vscode.commands.executeCommand<EvaluateModelResult>('labbook.showModels')), () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem'), 60_000);
      } finally {
        sub.dispose();
      }
      assert.deepStrictEqual(picks[0].items.map((i) => i.label), ['good@1', 'weak@1']);
      assert.match(picks[0].items[0].description!, /^\$\(rocket\) production · test accuracy \d+\.\d\d%$/);
      assert.match(picks[0].items[1].description!, /^archived · test accuracy/);
      assert.deepStrictEqual(picks[1].items.map((i) => i.label.replace(/^\$\([a-z-]+\) /, '')), ['Evaluate', 'Predict…', 'Check Drift', 'Show Run', 'Show Confusion Matrix', 'Open Model Card']);
      assert.ok(e, 'the action resolved with the evaluation');
      assert.strictEqual(e.model, 'good@1');
      assert.strictEqual(e.accuracy, good.testAccuracy, 'the same held-out split as training');
      assert.strictEqual(e.examples, 359);
      assert.deepStrictEqual(await rendered, { runId: good.runId, epoch: 25, mode: 'counts' });
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('Predict with Model: a table of classes and confidences with review flags; Check Drift compares the logged inputs with training', async () => {
      const r = (await vscode.commands.executeCommand<PredictFilesResult>('labbook.predictWithModel', { model: 'good@production', inputs: [path.join(inputs(), 'rows.csv')], minConfidence: 0.999 }))!;
      assert.strictEqual(r.predictions.length, 40);
      const flagged = r.predictions.filter((p) => p.review);
      assert.ok(flagged.length > 0 && flagged.length < 40, `${flagged.length} flagged below 0.999`);
      const right = r.predictions.filter((p, i) => p.class === rows[i].split(',')[64]).length;
      assert.ok(right >= 36, `${right}/40 right`);
      const text = activeText();
      assert.match(text, /^Predictions by good@1 on rows\.csv\n40 prediction\(s\) by good@1, \d+ flagged for review \(confidence < 0\.999\)/);
      const table = text.split('\n').filter((l) => /^rows\.csv:\d+ /.test(l));
      assert.strictEqual(table.length, 40);
      assert.deepStrictEqual(table.map((l) => l.endsWith('⚑ review')), r.predictions.map((p) => p.review));
      assert.deepStrictEqual(table[0].split(/\s+/).slice(0, 3), ['rows.csv:1', r.predictions[0].class, r.predictions[0].confidence.toFixed(3)]);

      const same = (await vscode.commands.executeCommand<DriftResult>('labbook.checkDrift', 'good'))!;
      assert.deepStrictEqual([same.predictions, same.drifted], [40, false]);
      const inverted = path.join(inputs(), 'inverted.csv');
      await vscode.commands.executeCommand('labbook.predictWithModel', { model: 'good', inputs: [inverted, inverted, inverted] });
      const shifted = (await vscode.commands.executeCommand<DriftResult>('labbook.checkDrift', { model: 'good' }))!;
      assert.strictEqual(shifted.predictions, 160);
      assert.strictEqual(shifted.drifted, true);
      assert.match(shifted.reasons[0], /input intensities differ from training/);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });
  });
}
