/**
 * The Runs tree: runs grouped by experiment, notebook or script (or not grouped), each with its
 * status icon, name, key metric and age; filtered and sorted on request; refreshed when the
 * server says runs changed. A run expands into its parameters, latest metrics and child runs.
 * Data comes only from the server.
 */
import * as vscode from 'vscode';
import { formatAge, formatDuration, formatNumber } from '../../server/core/format';
import type { RunSummary, RunStatus } from '../../server/protocol/dto';
import { GetRunRequest, ListRunsRequest } from '../../server/protocol/requests';
import { metricDirection } from '../../server/views/compare';
import type { ServerClient } from '../client/serverClient';
import type { Log } from '../util/log';

/** Runs fetched at once; the tree virtualises rows, so 1,000 scroll as smoothly as 10. */
const PAGE = 1000;

export type RunsSort = 'started-desc' | 'started-asc' | 'name' | 'status' | 'duration' | 'metric';
export type RunsGrouping = 'source' | 'experiment' | 'none';

export type RunsNode =
  | { type: 'group'; key: string; label: string; icon: string; runs: RunSummary[] }
  | { type: 'run'; run: RunSummary }
  | { type: 'more'; shown: number; total: number }
  | { type: 'detail'; id: string; label: string; description?: string; icon: string };

const STATUS_ICON: Record<RunStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.yellow')),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  crashed: new vscode.ThemeIcon('warning', new vscode.ThemeColor('charts.orange')),
};

const SORT_PARAMS: Record<Exclude<RunsSort, 'metric'>, { sort: 'started' | 'name' | 'status' | 'duration'; order: 'asc' | 'desc' }> = {
  'started-desc': { sort: 'started', order: 'desc' },
  'started-asc': { sort: 'started', order: 'asc' },
  name: { sort: 'name', order: 'asc' },
  status: { sort: 'status', order: 'asc' },
  duration: { sort: 'duration', order: 'desc' },
};

/** Which group a run belongs to: its experiment, else the notebook or script it ran. */
export function runGroup(r: RunSummary, grouping: RunsGrouping): { key: string; label: string; icon: string } | null {
  if (grouping === 'none') return null;
  if (r.experiment) return { key: `e:${r.experiment}`, label: r.experiment, icon: 'beaker' };
  if (grouping === 'experiment') return { key: 'e:', label: 'No experiment', icon: 'circle-outline' };
  const src = r.source ?? scriptOf(r.command);
  if (src) return { key: `s:${src}`, label: src, icon: src.endsWith('.ipynb') ? 'notebook' : 'file-code' };
  return { key: `k:${r.kind}`, label: `${r.kind} runs`, icon: 'circle-outline' };
}

function scriptOf(command: string | null): string | null {
  const m = command ? /(?:^|\s)(\S+\.(?:py|ipynb))(?:\s|$)/.exec(command) : null;
  return m ? m[1].split(/[\\/]/).pop()! : null;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly loadedEmitter = new vscode.EventEmitter<RunSummary[]>();
  /** Fires after the top level was fetched from the server (views and tests wait on it). */
  readonly onDidLoad = this.loadedEmitter.event;
  private limit = PAGE;
  private loaded: RunSummary[] = [];
  filter = '';
  sort: RunsSort = 'started-desc';
  grouping: RunsGrouping = 'source';
  view: vscode.TreeView<RunsNode> | undefined;

  constructor(
    private readonly client: ServerClient,
    private readonly log: Log,
    private readonly state?: vscode.Memento,
  ) {
    this.filter = state?.get<string>('labbook.runs.filter') ?? '';
    this.sort = state?.get<RunsSort>('labbook.runs.sort') ?? 'started-desc';
    this.grouping = state?.get<RunsGrouping>('labbook.runs.grouping') ?? 'source';
    void vscode.commands.executeCommand('setContext', 'labbook.runsFiltered', !!this.filter);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  showMore(): void {
    this.limit += PAGE;
    this.refresh();
  }

  /** The runs of the last load, in display order. */
  get runs(): readonly RunSummary[] {
    return this.loaded;
  }

  setFilter(text: string): void {
    this.filter = text.trim();
    void this.state?.update('labbook.runs.filter', this.filter);
    void vscode.commands.executeCommand('setContext', 'labbook.runsFiltered', !!this.filter);
    this.refresh();
  }

  setSort(sort: RunsSort): void {
    this.sort = sort;
    void this.state?.update('labbook.runs.sort', sort);
    this.refresh();
  }

  setGrouping(g: RunsGrouping): void {
    this.grouping = g;
    void this.state?.update('labbook.runs.grouping', g);
    this.refresh();
  }

  /** Every top-level run node as shown (inside its group), for commands and tests. */
  async runNodes(): Promise<Extract<RunsNode, { type: 'run' }>[]> {
    const out: Extract<RunsNode, { type: 'run' }>[] = [];
    for (const n of await this.getChildren()) {
      if (n.type === 'run') out.push(n);
      else if (n.type === 'group') for (const r of n.runs) out.push({ type: 'run', run: r });
    }
    return out;
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) return this.topLevel();
    if (node.type === 'group') return node.runs.map((run) => ({ type: 'run', run }));
    if (node.type !== 'run') return [];
    try {
      const run = await this.client.request(GetRunRequest, { id: node.run.id });
      const out: RunsNode[] = [];
      for (const p of run.params) out.push({ type: 'detail', id: `${run.id}/p/${p.key}`, label: p.key, description: `${p.value}  (${p.source})`, icon: 'symbol-parameter' });
      for (const m of run.metrics) out.push({ type: 'detail', id: `${run.id}/m/${m.key}`, label: m.key, description: `${formatNumber(m.last)} @${m.lastStep}`, icon: 'graph-line' });
      for (const c of run.children) out.push({ type: 'run', run: c });
      if (out.length === 0) out.push({ type: 'detail', id: `${run.id}/empty`, label: 'nothing recorded yet', icon: 'info' });
      return out;
    } catch (e) {
      return [{ type: 'detail', id: `${node.run.id}/error`, label: e instanceof Error ? e.message : String(e), icon: 'error' }];
    }
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.type === 'more') {
      const item = new vscode.TreeItem(`Show more… (${node.shown} of ${node.total})`);
      item.command = { command: 'labbook.runs.showMore', title: 'Show more' };
      item.id = 'labbook.more';
      return item;
    }
    if (node.type === 'group') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `group/${node.key}`;
      const running = node.runs.filter((r) => r.status === 'running').length;
      item.description = `${node.runs.length} run${node.runs.length === 1 ? '' : 's'}${running ? ` · ${running} running` : ''}`;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      item.contextValue = 'labbook.group';
      return item;
    }
    if (node.type === 'detail') {
      const item = new vscode.TreeItem(node.label);
      item.id = node.id;
      item.description = node.description;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      return item;
    }
    const r = node.run;
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run/${r.id}`;
    item.description = runDescription(r);
    item.iconPath = STATUS_ICON[r.status];
    item.contextValue = `labbook.run.${r.status}${r.evaluated ? '.evaluated' : ''}`;
    item.accessibilityInformation = { label: `${r.name}, ${r.status}, ${item.description}` };
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**${escapeMd(r.name)}** \`${r.id}\`\n\n`);
    tip.appendMarkdown(`${r.kind} · ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}${r.experiment ? ` · experiment ${escapeMd(r.experiment)}` : ''}\n\n`);
    tip.appendMarkdown(`started ${new Date(r.startedAt).toLocaleString()} · ${formatDuration(r.durationS)}\n\n`);
    if (r.tags?.length) tip.appendMarkdown(`tags: ${r.tags.map((t) => `\`${t}\``).join(' ')}\n\n`);
    if (r.command) tip.appendCodeblock(r.command, 'shell');
    item.tooltip = tip;
    return item;
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.type !== 'run' || node.run.parentId) return undefined;
    const g = runGroup(node.run, this.grouping);
    if (!g) return undefined;
    return { type: 'group', ...g, runs: this.loaded.filter((r) => runGroup(r, this.grouping)?.key === g.key) };
  }

  dispose(): void {
    this.changed.dispose();
    this.loadedEmitter.dispose();
  }

  private async topLevel(): Promise<RunsNode[]> {
    if (this.client.state === 'starting') this.setMessage('Starting the Labbook server…');
    if (!(await this.client.ready())) {
      this.setMessage('The Labbook server is not running — see Labbook: Show Log.');
      return [];
    }
    try {
      const keyMetric = vscode.workspace.getConfiguration('labbook').get<string>('runs.keyMetric', '').trim();
      const order = this.sort === 'metric' ? SORT_PARAMS['started-desc'] : SORT_PARAMS[this.sort];
      const page = await this.client.request(ListRunsRequest, { offset: 0, limit: this.limit, ...order, search: this.filter || undefined, keyMetric });
      let runs = page.runs;
      if (this.sort === 'metric') runs = sortByMetric(runs);
      this.loaded = runs;
      this.setMessage(this.filter ? `Filter: ${this.filter} — ${page.total} run${page.total === 1 ? '' : 's'} match` : undefined);
      const nodes: RunsNode[] = [];
      if (this.grouping === 'none') {
        for (const run of runs) nodes.push({ type: 'run', run });
      } else {
        const groups = new Map<string, Extract<RunsNode, { type: 'group' }>>();
        for (const run of runs) {
          const g = runGroup(run, this.grouping)!;
          let node = groups.get(g.key);
          if (!node) groups.set(g.key, (node = { type: 'group', ...g, runs: [] }));
          node.runs.push(run);
        }
        nodes.push(...groups.values());
      }
      if (page.total > page.runs.length) nodes.push({ type: 'more', shown: page.runs.length, total: page.total });
      this.loadedEmitter.fire(runs);
      return nodes;
    } catch (e) {
      this.log.error('listing runs', e);
      this.setMessage(e instanceof Error ? e.message : String(e));
      this.loaded = [];
      this.loadedEmitter.fire([]);
      return [];
    }
  }

  private setMessage(m: string | undefined): void {
    if (this.view) this.view.message = m;
  }
}

/** "loss 0.123 · 3h ago" — the key metric, then the age; failures say their exit code. */
export function runDescription(r: RunSummary, now = Date.now()): string {
  const parts: string[] = [];
  if (r.keyMetric) parts.push(`${r.keyMetric.key} ${formatNumber(r.keyMetric.value)}`);
  if (r.status === 'failed' && r.exitCode !== null) parts.push(`exit ${r.exitCode}`);
  if (r.status === 'running') parts.push(`running ${formatDuration(r.durationS)}`);
  parts.push(formatAge(r.startedAt, now));
  return parts.join(' · ');
}

/** Best key metric first (in that metric's direction); runs without one last. */
function sortByMetric(runs: readonly RunSummary[]): RunSummary[] {
  return [...runs].sort((a, b) => {
    const va = a.keyMetric?.value ?? null;
    const vb = b.keyMetric?.value ?? null;
    if (va === null || vb === null) return va === null ? (vb === null ? 0 : 1) : -1;
    return metricDirection(a.keyMetric!.key) === 'min' ? va - vb : vb - va;
  });
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
