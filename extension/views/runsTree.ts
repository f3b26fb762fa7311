/**
 * The Runs tree: one item per run (newest first, paged), expanding into its parameters,
 * latest metrics and child runs. Data comes only from the server.
 */
import * as vscode from 'vscode';
import { formatDuration, formatNumber } from '../../server/core/format';
import type { RunSummary, RunStatus } from '../../server/protocol/dto';
import { GetRunRequest, ListRunsRequest } from '../../server/protocol/requests';
import type { ServerClient } from '../client/serverClient';
import type { Log } from '../util/log';

const PAGE = 200;

export type RunsNode =
  | { type: 'run'; run: RunSummary }
  | { type: 'more'; shown: number; total: number }
  | { type: 'detail'; id: string; label: string; description?: string; icon: string };

const STATUS_ICON: Record<RunStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.yellow')),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  crashed: new vscode.ThemeIcon('warning', new vscode.ThemeColor('charts.orange')),
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly loadedEmitter = new vscode.EventEmitter<RunSummary[]>();
  /** Fires after the top level was fetched from the server (views and tests wait on it). */
  readonly onDidLoad = this.loadedEmitter.event;
  private limit = PAGE;
  view: vscode.TreeView<RunsNode> | undefined;

  constructor(
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  showMore(): void {
    this.limit += PAGE;
    this.refresh();
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) return this.topLevel();
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
    item.description = `${r.status}${r.status === 'failed' && r.exitCode !== null ? ` (${r.exitCode})` : ''} · ${formatDuration(r.durationS)} · ${r.id}`;
    item.iconPath = STATUS_ICON[r.status];
    item.contextValue = `labbook.run.${r.status}`;
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**${escapeMd(r.name)}** \`${r.id}\`\n\n`);
    tip.appendMarkdown(`${r.kind} · ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}\n\n`);
    tip.appendMarkdown(`started ${new Date(r.startedAt).toLocaleString()} · ${formatDuration(r.durationS)}\n\n`);
    if (r.command) tip.appendCodeblock(r.command, 'shell');
    item.tooltip = tip;
    return item;
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
      const page = await this.client.request(ListRunsRequest, { offset: 0, limit: this.limit, sort: 'started', order: 'desc' });
      this.setMessage(undefined);
      const nodes: RunsNode[] = page.runs.map((run) => ({ type: 'run', run }));
      if (page.total > page.runs.length) nodes.push({ type: 'more', shown: page.runs.length, total: page.total });
      this.loadedEmitter.fire(page.runs);
      return nodes;
    } catch (e) {
      this.log.error('listing runs', e);
      this.setMessage(e instanceof Error ? e.message : String(e));
      this.loadedEmitter.fire([]);
      return [];
    }
  }

  private setMessage(m: string | undefined): void {
    if (this.view) this.view.message = m;
  }
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
