/**
 * The Compare view's host side, for the sidebar view and for editor tabs alike: fetches the
 * comparison of the chosen runs from the server, sends it to the page, refreshes it while any
 * of those runs is still running, and carries out what the page asks (exports, code diff).
 */
import * as vscode from 'vscode';
import { CompareRunsRequest, ListRunsRequest } from '../../server/protocol/requests';
import type { CompareData, MetricDirection } from '../../server/protocol/views';
import type { CompareToHost, HostToCompare } from '../../webview/protocol/messages';
import type { ServerClient } from '../client/serverClient';
import { ViewIds } from '../commands/ids';
import type { Log } from '../util/log';
import { WebviewHost, pngBytes, saveExport } from './webviewHost';

/** The command the notebook/run diff feature registers; used when present. */
const DIFF_RUNS_COMMAND = 'labbook.diffRuns';

export interface CompareRendered {
  where: 'view' | 'editor';
  runIds: string[];
  charts: number;
  points: number;
  ms: number;
}

interface Target {
  host: WebviewHost<HostToCompare, CompareToHost>;
  where: 'view' | 'editor';
  ids: string[];
  running: boolean;
  /** Bumped by each load, so a slow earlier answer never overwrites a later one. */
  seq: number;
}

export class CompareService implements vscode.Disposable {
  private readonly targets = new Set<Target>();
  private viewTarget: Target | undefined;
  private readonly renderedEmitter = new vscode.EventEmitter<CompareRendered>();
  /** Fires when a page has drawn the runs it was sent (tests and the log use it). */
  readonly onDidRender = this.renderedEmitter.event;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly viewAttached = new vscode.EventEmitter<Target>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(ViewIds.comparePanel, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const ids = (state as { ids?: string[] } | undefined)?.ids ?? [];
          this.attachPanel(panel, ids);
        },
      }),
    );
  }

  /** The sidebar view's page: shows whatever was compared last (or the empty state). */
  attachView(webview: vscode.Webview, onDispose: (l: () => void) => vscode.Disposable): WebviewHost<HostToCompare, CompareToHost> {
    const previous = this.viewTarget;
    if (previous) this.drop(previous);
    const target = this.attach(webview, 'view', previous?.ids ?? []);
    this.viewTarget = target;
    this.viewAttached.fire(target);
    onDispose(() => {
      this.drop(target);
      if (this.viewTarget === target) this.viewTarget = undefined;
    });
    return target.host;
  }

  /** The runs the sidebar view shows now. */
  get viewIds(): string[] {
    return this.viewTarget?.ids ?? [];
  }

  /** Compares runs in the sidebar view (default) or a new editor tab. */
  async compare(ids: string[], where: 'view' | 'editor' = 'view'): Promise<void> {
    if (where === 'editor') {
      const panel = vscode.window.createWebviewPanel(ViewIds.comparePanel, compareTitle(ids), vscode.ViewColumn.Active, { enableScripts: true, enableFindWidget: true });
      this.attachPanel(panel, ids);
      return;
    }
    await vscode.commands.executeCommand(`${ViewIds.compare}.focus`);
    // Focusing resolves the view (creating viewTarget) if it was never shown.
    const target = this.viewTarget ?? (await this.nextView(10_000));
    if (!target) throw new Error('The Compare view could not be opened.');
    target.ids = ids;
    await this.load(target);
  }

  /** Runs changed: refresh pages that show a run still running. */
  runsChanged(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      for (const t of this.targets) if (t.running) void this.load(t, true);
    }, 300);
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const t of [...this.targets]) this.drop(t);
    for (const d of this.disposables) d.dispose();
    this.renderedEmitter.dispose();
    this.viewAttached.dispose();
  }

  private nextView(ms: number): Promise<Target | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sub.dispose();
        resolve(this.viewTarget);
      }, ms);
      const sub = this.viewAttached.event((t) => {
        clearTimeout(timer);
        sub.dispose();
        resolve(t);
      });
    });
  }

  private attachPanel(panel: vscode.WebviewPanel, ids: string[]): void {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'compare.svg');
    const target = this.attach(panel.webview, 'editor', ids);
    panel.onDidDispose(() => this.drop(target));
    void this.load(target);
  }

  private attach(webview: vscode.Webview, where: 'view' | 'editor', ids: string[]): Target {
    const target: Target = {
      where,
      ids,
      running: false,
      seq: 0,
      host: undefined as unknown as Target['host'],
    };
    target.host = new WebviewHost<HostToCompare, CompareToHost>(webview, this.extensionUri, { bundle: 'compare', title: 'Compare runs', onMessage: (m) => this.onMessage(target, m) }, this.log);
    this.targets.add(target);
    if (where === 'view') void this.load(target);
    return target;
  }

  private drop(t: Target): void {
    t.host.dispose();
    this.targets.delete(t);
  }

  private async load(t: Target, update = false): Promise<void> {
    const seq = ++t.seq;
    const current = () => seq === t.seq;
    const config = vscode.workspace.getConfiguration('labbook');
    const options = {
      chartPoints: Math.max(0, config.get<number>('compare.chartPoints', 2000)),
      where: t.where,
      canDiffCode: (await vscode.commands.getCommands(true)).includes(DIFF_RUNS_COMMAND),
    };
    const ids = t.ids;
    if (ids.length === 0) {
      let storeRunCount = -1;
      try {
        if (await this.client.ready()) storeRunCount = (await this.client.request(ListRunsRequest, { limit: 1 })).total;
      } catch {
        // the empty state says "select runs" either way
      }
      if (current()) t.host.post({ type: 'compare/show', ids, data: null, storeRunCount, options });
      return;
    }
    try {
      const data = await this.client.request(CompareRunsRequest, {
        ids,
        maxPoints: config.get<number>('compare.maxPoints', 10_000),
        directions: config.get<Record<string, MetricDirection>>('metrics.directions', {}),
      });
      if (!current()) return;
      packCurves(data);
      t.running = data.runs.some((r) => r.status === 'running');
      t.host.post(update ? { type: 'compare/update', data } : { type: 'compare/show', ids, data, storeRunCount: -1, options });
    } catch (e) {
      this.log.error(`comparing ${ids.join(', ')}`, e);
      if (!current()) return;
      t.running = false;
      t.host.post({ type: 'compare/show', ids, data: null, storeRunCount: -1, error: e instanceof Error ? e.message : String(e), options });
    }
  }

  private onMessage(t: Target, m: CompareToHost): void {
    switch (m.type) {
      case 'compare/ready':
        if (t.where === 'editor') void this.load(t);
        break;
      case 'compare/openRunsView':
        void vscode.commands.executeCommand(`${ViewIds.runs}.focus`);
        break;
      case 'compare/openInEditor':
        void this.compare(t.ids, 'editor');
        break;
      case 'compare/rendered':
        this.renderedEmitter.fire({ where: t.where, runIds: m.runIds, charts: m.charts, points: m.points, ms: m.ms });
        break;
      case 'compare/exportCsv':
        void saveExport(m.name, m.csv, { CSV: ['csv'] }).catch((e) => this.fail('saving the CSV', e));
        break;
      case 'compare/exportPng':
        void Promise.resolve()
          .then(() => saveExport(m.name, pngBytes(m.dataUrl), { PNG: ['png'] }))
          .catch((e) => this.fail('saving the chart', e));
        break;
      case 'compare/diffCode':
        void vscode.commands.executeCommand(DIFF_RUNS_COMMAND, m.a, m.b);
        break;
      case 'compare/showRun':
        void vscode.commands.executeCommand('labbook.showRun', m.id);
        break;
      default:
        this.log.warn(`compare view sent an unknown message: ${JSON.stringify(m)}`);
    }
  }

  private fail(what: string, e: unknown): void {
    this.log.error(what, e);
    void vscode.window.showErrorMessage(`Labbook: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Curves travel to the page as Float64Arrays (gaps as NaN): VS Code hands typed arrays to the
 * webview as binary, where plain arrays of numbers would be serialised and copied number by
 * number (~20× slower for a million points).
 */
function packCurves(data: CompareData): void {
  for (const r of data.runs) {
    r.series = r.series.map((s) => ({
      ...s,
      steps: Float64Array.from(s.steps) as unknown as number[],
      values: Float64Array.from(s.values, (v) => (v === null ? Number.NaN : v)) as unknown as number[],
      wallTimes: Float64Array.from(s.wallTimes) as unknown as number[],
    }));
  }
}

function compareTitle(ids: string[]): string {
  return `Compare ${ids.length} run${ids.length === 1 ? '' : 's'}`;
}
