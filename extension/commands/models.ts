/**
 * The model lifecycle from the palette — Show Models, Evaluate, Deploy, Roll Back, Predict, Check
 * Drift, Show Deployment History — each the twin of a CLI verb (`labbook models`, `evaluate`,
 * `deploy`, `rollback`, `predict`, `drift`, `deployments`) and computed by the same server code.
 * Scripts and tests skip the pickers with arguments: a model reference (`'digits@2'`) or an options
 * object (`{ model, data }`, `{ model, threshold, force }`, `{ model, inputs, minConfidence }`,
 * `{ model, action }`); each command resolves with what it did.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import {
  DeployModelRequest,
  type DeployResult,
  DeploymentsRequest,
  type DeploymentDto,
  deploymentOutcome,
  DriftRequest,
  type DriftResult,
  EvaluateModelRequest,
  type EvaluateModelResult,
  ListModelsRequest,
  type ModelDto,
  PredictFilesRequest,
  type PredictFilesResult,
  RollbackRequest,
  type RollbackResult,
} from '../../server/protocol/training';
import type { ServerClient } from '../client/serverClient';
import { type ReportDocuments, textTable } from '../views/reports';
import type { CommandFn } from './table';

export type ModelCommandId =
  | 'labbook.showModels'
  | 'labbook.evaluateModel'
  | 'labbook.deployModel'
  | 'labbook.rollbackDeployment'
  | 'labbook.predictWithModel'
  | 'labbook.checkDrift'
  | 'labbook.showDeployments';

export type ModelAction = 'evaluate' | 'deploy' | 'predict' | 'drift' | 'showRun' | 'showConfusionMatrix' | 'openCard';

export interface EvaluateCommandOptions {
  model?: string;
  /** Evaluate on this data's test split instead of the model's own held-out split. */
  data?: string;
}

export interface DeployCommandOptions {
  /** NAME or NAME@VERSION: deployed by name, without the gate (recorded as chosen); omitted: the newest model, through the gate. */
  model?: string;
  threshold?: number;
  force?: boolean;
}

export interface PredictCommandOptions {
  model?: string;
  inputs?: string[];
  minConfidence?: number;
  probabilities?: boolean;
}

export interface ShowModelsOptions {
  model?: string;
  action?: ModelAction;
}

/** A Quick Pick as it was shown (for tests, which then accept an item the way a user would). */
export interface ShownPick {
  title: string;
  items: { label: string; description?: string }[];
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const ref = (m: ModelDto) => `${m.name}@${m.version}`;
const UNTRUSTED = 'Labbook does not load models or change deployments in an untrusted workspace. Trust this folder to evaluate, deploy or predict.';

/** A string argument is a model reference; an object (not a Uri), the options. */
function optionsFrom<T extends { model?: string }>(arg: unknown): T | undefined {
  if (typeof arg === 'string') return { model: arg } as T;
  if (arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) && !Array.isArray(arg)) return arg as T;
  return undefined;
}

/** The production model first, then the newest. */
function ordered(models: ModelDto[]): ModelDto[] {
  return [...models].sort((a, b) => Number(b.stage === 'production') - Number(a.stage === 'production') || b.createdAt.localeCompare(a.createdAt) || b.version - a.version);
}

function modelItem(m: ModelDto): vscode.QuickPickItem & { model: ModelDto } {
  const parts = [m.stage === 'production' ? '$(rocket) production' : m.stage !== 'none' ? m.stage : '', m.testAccuracy !== null ? `test accuracy ${pct(m.testAccuracy)}` : 'no test accuracy'].filter(Boolean);
  return { label: ref(m), description: parts.join(' · '), detail: `run ${m.run ?? '(deleted)'} · trained ${m.createdAt.replace('T', ' ').slice(0, 16)} · ${m.path}`, model: m };
}

export class ModelCommands implements vscode.Disposable {
  private readonly pickShown = new vscode.EventEmitter<ShownPick>();
  /** Fires as each of these commands' Quick Picks opens. */
  readonly onDidShowPick = this.pickShown.event;
  private readonly deployedEmitter = new vscode.EventEmitter<DeployResult>();
  /** Fires after every deployment decision (deployed, refused, forced), from the palette or a notification's button. */
  readonly onDidDeploy = this.deployedEmitter.event;

  constructor(
    private readonly client: ServerClient,
    private readonly reports: ReportDocuments,
  ) {}

  table(): Record<ModelCommandId, CommandFn> {
    return {
      'labbook.showModels': (arg?: unknown) => this.showModels(optionsFrom<ShowModelsOptions>(arg) ?? {}),
      'labbook.evaluateModel': (arg?: unknown) => this.evaluate(optionsFrom<EvaluateCommandOptions>(arg)),
      'labbook.deployModel': (arg?: unknown) => this.deploy(optionsFrom<DeployCommandOptions>(arg)),
      'labbook.rollbackDeployment': () => this.rollback(),
      // From the explorer: (clicked file, selected files); from the palette nothing; from scripts the options.
      'labbook.predictWithModel': (arg?: unknown, selected?: unknown) => this.predict(optionsFrom<PredictCommandOptions>(arg), urisFrom(arg, selected)),
      'labbook.checkDrift': (arg?: unknown) => this.drift(optionsFrom<{ model?: string }>(arg) ?? {}),
      'labbook.showDeployments': () => this.showDeployments(),
    };
  }

  private async models(): Promise<ModelDto[]> {
    const models = await this.client.request(ListModelsRequest);
    if (models.length === 0) throw new Error('Labbook: no models yet. Train one with "Labbook: Train Model…" (or labbook train).');
    return models;
  }

  private async quickPick<T extends vscode.QuickPickItem>(items: T[], title: string): Promise<T | undefined> {
    this.pickShown.fire({ title, items: items.filter((i) => i.kind !== vscode.QuickPickItemKind.Separator).map((i) => ({ label: i.label, description: i.description })) });
    return vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true });
  }

  private async pickModel(title: string, models?: ModelDto[]): Promise<ModelDto | undefined> {
    return (await this.quickPick(ordered(models ?? (await this.models())).map(modelItem), title))?.model;
  }

  private async showModels(o: ShowModelsOptions): Promise<unknown> {
    const models = await this.models();
    const model = o.model ? models.find((m) => ref(m) === o.model || `${m.name}@${m.stage}` === o.model) ?? models.filter((m) => m.name === o.model).pop() : await this.pickModel(`Labbook models (${models.length}) — pick one for its actions`, models);
    if (!model) {
      if (o.model) throw new Error(`Labbook: no model '${o.model}' (models: ${[...new Set(models.map((m) => m.name))].join(', ')})`);
      return undefined;
    }
    let action = o.action;
    if (!action) {
      const trusted = vscode.workspace.isTrusted;
      const actions: (vscode.QuickPickItem & { action: ModelAction })[] = [
        ...(trusted
          ? [
              { label: '$(beaker) Evaluate', description: 'on its held-out test split; opens the confusion matrix', action: 'evaluate' as const },
              ...(model.stage === 'production' ? [] : [{ label: '$(rocket) Deploy', description: 'this model, by name: no quality gate (recorded as chosen)', action: 'deploy' as const }]),
              { label: '$(symbol-event) Predict…', description: 'classify the files you pick; every prediction is logged', action: 'predict' as const },
            ]
          : []),
        { label: '$(pulse) Check Drift', description: 'logged prediction inputs against the training profile', action: 'drift' },
        ...(model.run
          ? [
              { label: '$(json) Show Run', description: `the training run ${model.run}`, action: 'showRun' as const },
              { label: '$(table) Show Confusion Matrix', description: 'per epoch, with misclassified examples', action: 'showConfusionMatrix' as const },
            ]
          : []),
        { label: '$(file-code) Open Model Card', description: path.join(model.path, 'card.json'), action: 'openCard' },
      ];
      action = (await this.quickPick(actions, `${ref(model)}${model.stage === 'production' ? ' (production)' : ''}${model.testAccuracy !== null ? ` · test accuracy ${pct(model.testAccuracy)}` : ''}`))?.action;
      if (!action) return undefined;
    }
    switch (action) {
      case 'evaluate':
        return this.evaluate({ model: ref(model) });
      case 'deploy':
        return this.deploy({ model: ref(model) });
      case 'predict':
        return this.predict({ model: ref(model) }, []);
      case 'drift':
        return this.drift({ model: ref(model) });
      case 'showRun':
        return vscode.commands.executeCommand('labbook.showRun', model.run);
      case 'showConfusionMatrix':
        return vscode.commands.executeCommand('labbook.showConfusionMatrix', model.run);
      case 'openCard': {
        if (!this.client.workspace) return undefined;
        return vscode.window.showTextDocument(vscode.Uri.file(path.join(this.client.workspace, model.path, 'card.json')));
      }
      default:
        throw new Error(`Labbook: unknown model action '${String(action)}' (evaluate, deploy, predict, drift, showRun, showConfusionMatrix, openCard)`);
    }
  }

  private async evaluate(given: EvaluateCommandOptions | undefined): Promise<EvaluateModelResult | undefined> {
    if (!vscode.workspace.isTrusted) return void vscode.window.showWarningMessage(UNTRUSTED);
    const o = { ...given };
    if (!o.model) {
      const m = await this.pickModel('Evaluate which model?');
      if (!m) return undefined;
      o.model = ref(m);
      const where = await this.quickPick(
        [
          { label: 'Its held-out test split', description: 'of the data it was trained on (never seen in training)', other: false },
          { label: 'Other data…', description: 'the test split of another IDX folder or CSV', other: true },
        ],
        `Evaluate ${o.model} on`,
      );
      if (!where) return undefined;
      if (where.other) {
        const picked = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, openLabel: 'Evaluate on this', title: `Data to evaluate ${o.model} on (IDX folder or file, CSV)` });
        if (!picked?.[0]) return undefined;
        o.data = picked[0].fsPath;
      }
    }
    const e = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Labbook: evaluating ${o.model}…` }, () =>
      this.client.request(EvaluateModelRequest, { model: o.model!, data: o.data }),
    );
    const summary = `${e.model} on ${e.examples} held-out examples${e.trainingData ? '' : ` of ${path.basename(e.data)}`}: accuracy ${pct(e.accuracy)} · macro precision ${pct(e.macro.precision)}, recall ${pct(e.macro.recall)}, F1 ${pct(e.macro.f1)} · ${e.misclassified.length} misclassified`;
    const report = () =>
      this.reports.open(
        `Evaluation ${e.model}`,
        [
          `Evaluation of ${e.model}`,
          `data: ${e.data}${e.trainingData ? ' (its held-out test split)' : ' (test split)'}`,
          summary,
          '',
          textTable(['class', 'precision', 'recall', 'f1', 'support'], e.perClass.map((c) => [c.label, pct(c.precision), pct(c.recall), pct(c.f1), String(c.support)])),
          '',
          `misclassified (indices in the test split): ${e.misclassified.join(', ') || 'none'}`,
          '',
        ].join('\n'),
      );
    // The run's Confusion-matrix view shows this same evaluation (per epoch) only for the data it was trained on.
    if (e.trainingData && e.run) await vscode.commands.executeCommand('labbook.showConfusionMatrix', e.run);
    else await report();
    void vscode.window.showInformationMessage(`Labbook: ${summary}.`, ...(e.trainingData ? ['Per-class Report'] : [])).then((c) => {
      if (c) void report();
    });
    return e;
  }

  private threshold(): number {
    return vscode.workspace.getConfiguration('labbook').get<number>('deploy.threshold', 0.95);
  }

  private async deploy(given: DeployCommandOptions | undefined): Promise<DeployResult | undefined> {
    if (!vscode.workspace.isTrusted) return void vscode.window.showWarningMessage(UNTRUSTED);
    const threshold = given?.threshold ?? this.threshold();
    let model = given?.model;
    if (!given) {
      const models = await this.models();
      const newest = [...models].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.version - a.version)[0];
      const items: (vscode.QuickPickItem & { model?: ModelDto })[] = [
        { label: '$(arrow-up) The newest model, through the quality gate', description: ref(newest), detail: `deployed only if its test accuracy is ≥ ${pct(threshold)} and not worse than production's` },
        { label: 'A specific model, by name: no gate, recorded as chosen', kind: vscode.QuickPickItemKind.Separator },
        ...ordered(models).map(modelItem),
      ];
      const pick = await this.quickPick(items, 'Deploy which model to production?');
      if (!pick) return undefined;
      model = pick.model && ref(pick.model);
    }
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Labbook: deploying' }, () =>
      this.client.request(DeployModelRequest, { model, threshold, force: given?.force }),
    );
    this.deployedEmitter.fire(r);
    if (r.deployed) void vscode.window.showInformationMessage(`Labbook: ${r.model} is in production — ${r.reason}.`);
    else if (r.alreadyInProduction) void vscode.window.showInformationMessage(`Labbook: ${r.model} is already in production.`);
    else {
      // Not awaited: the command has its answer (refused); forcing is the user's next decision.
      void vscode.window.showErrorMessage(`Labbook: not deployed: ${r.model}: ${r.reason}.`, 'Deploy anyway (forced)').then((c) => {
        if (c) void vscode.commands.executeCommand('labbook.deployModel', { model: r.model, threshold, force: true });
      });
    }
    return r;
  }

  private async rollback(): Promise<RollbackResult | undefined> {
    if (!vscode.workspace.isTrusted) return void vscode.window.showWarningMessage(UNTRUSTED);
    const r = await this.client.request(RollbackRequest);
    void vscode.window.showInformationMessage(`Labbook: rolled back — ${r.model} is in production again (was ${r.from}).`);
    return r;
  }

  private async predict(given: PredictCommandOptions | undefined, uris: vscode.Uri[]): Promise<PredictFilesResult | undefined> {
    if (!vscode.workspace.isTrusted) return void vscode.window.showWarningMessage(UNTRUSTED);
    const o = { ...given };
    if (!o.model) {
      const m = await this.pickModel(uris.length ? `Predict ${uris.length === 1 ? path.basename(uris[0].fsPath) : `${uris.length} files`} with which model?` : 'Predict with which model?');
      if (!m) return undefined;
      o.model = ref(m);
    }
    if (!o.inputs?.length) o.inputs = uris.map((u) => u.fsPath);
    if (!o.inputs.length) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFiles: true,
        canSelectMany: true,
        openLabel: 'Predict',
        title: `Inputs for ${o.model}: CSV rows (label column optional), JSON arrays of raw values, IDX images, PNG images`,
        filters: { 'Examples (CSV, JSON, IDX, PNG)': ['csv', 'gz', 'json', 'idx3-ubyte', 'png'], 'All files': ['*'] },
      });
      if (!picked?.length) return undefined;
      o.inputs = picked.map((u) => u.fsPath);
    }
    const minConfidence = o.minConfidence ?? vscode.workspace.getConfiguration('labbook').get<number>('predict.minConfidence', 0.8);
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Labbook: predicting with ${o.model}…` }, () =>
      this.client.request(PredictFilesRequest, { model: o.model!, inputs: o.inputs!, minConfidence, probabilities: o.probabilities }),
    );
    const review = r.predictions.filter((p) => p.review).length;
    const summary = `${r.predictions.length} prediction(s) by ${r.model}, ${review} flagged for review (confidence < ${r.minConfidence})`;
    const rows = r.predictions.map((p) => [p.input, p.class, p.confidence.toFixed(3), p.review ? '⚑ review' : '', ...(p.probabilities ? [p.probabilities.map((v) => v.toFixed(3)).join(' ')] : [])]);
    await this.reports.open(
      `Predictions ${r.model}`,
      [
        `Predictions by ${r.model} on ${o.inputs.map((f) => path.basename(f)).join(', ')}`,
        `${summary}; all logged for drift checks (Labbook: Check Drift…)`,
        '',
        textTable(['input', 'class', 'confidence', 'review', ...(o.probabilities ? ['probabilities'] : [])], rows),
        '',
      ].join('\n'),
    );
    void vscode.window.showInformationMessage(`Labbook: ${summary}.`);
    return r;
  }

  private async drift(o: { model?: string }): Promise<DriftResult | undefined> {
    const model = o.model ?? (await this.pickModel('Check drift of which model? (needs ≥ 20 logged predictions)').then((m) => m && ref(m)));
    if (!model) return undefined;
    const r = await this.client.request(DriftRequest, { model });
    const figures = `${r.predictions} logged predictions · KS D=${r.ks.statistic.toFixed(3)}, p=${r.ks.pValue.toExponential(2)} · class-mix PSI ${r.psi.toFixed(3)}`;
    const report = () =>
      this.reports.open(
        `Drift ${r.model}`,
        [`Drift check of ${r.model} against its training profile`, figures, '', r.drifted ? `DRIFTED:\n${r.reasons.map((x) => `  - ${x}`).join('\n')}` : 'No drift detected.', ''].join('\n'),
      );
    if (r.drifted) void vscode.window.showWarningMessage(`Labbook: ${r.model} has drifted: ${r.reasons.join('; ')}.`, 'Show Report').then((c) => {
      if (c) void report();
    });
    else void vscode.window.showInformationMessage(`Labbook: no drift for ${r.model} (${figures}).`, 'Show Report').then((c) => {
      if (c) void report();
    });
    return r;
  }

  private async showDeployments(): Promise<DeploymentDto[]> {
    const history = await this.client.request(DeploymentsRequest);
    if (history.length === 0) {
      void vscode.window.showInformationMessage('Labbook: nothing has been deployed yet ("Labbook: Deploy Model…").');
      return history;
    }
    await this.reports.open(
      'Deployment history',
      [
        'Deployment history (newest first)',
        '',
        textTable(['when', 'model', 'outcome', 'by', 'reason'], history.map((d) => [d.deployedAt.replace('T', ' ').slice(0, 19), d.model, deploymentOutcome(d), d.by ?? '', d.reason])),
        '',
      ].join('\n'),
    );
    return history;
  }

  dispose(): void {
    this.pickShown.dispose();
    this.deployedEmitter.dispose();
  }
}

/** Files the explorer passes: (clicked, selection). */
function urisFrom(arg: unknown, selected: unknown): vscode.Uri[] {
  if (Array.isArray(selected) && selected.every((u) => u instanceof vscode.Uri) && selected.length) return selected as vscode.Uri[];
  return arg instanceof vscode.Uri ? [arg] : [];
}
