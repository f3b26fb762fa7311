/**
 * Commands of the views: Compare (from the tree's selection or a picker), show, tag, delete,
 * filter, sort and group the Runs tree, the Confusion-matrix and Live training views, Cancel.
 * From the tree VS Code passes (clicked node, selected nodes); from the palette, nothing.
 */
import * as vscode from 'vscode';
import type { RunSummary } from '../../server/protocol/dto';
import { CancelRunRequest, DeleteRunRequest, ListRunsRequest, ShowRunRequest, TagRunRequest } from '../../server/protocol/requests';
import type { ServerClient } from '../client/serverClient';
import type { CompareService } from '../panels/comparePanel';
import type { ConfusionPanels } from '../panels/confusionPanel';
import type { LivePanels } from '../panels/livePanel';
import type { RunsGrouping, RunsNode, RunsSort, RunsTreeProvider } from '../views/runsTree';
import type { ViewCommandId } from './ids';

export interface ViewDeps {
  client: ServerClient;
  runsTree: RunsTreeProvider;
  compare: CompareService;
  confusion: ConfusionPanels;
  live: LivePanels;
}

/** Run ids from a command's arguments: tree node(s), a run id string, or a list of either. */
export function runIdsFrom(...args: unknown[]): string[] {
  const ids: string[] = [];
  const add = (a: unknown) => {
    if (typeof a === 'string') ids.push(a);
    else if (Array.isArray(a)) a.forEach(add);
    else if (a && typeof a === 'object' && (a as RunsNode).type === 'run') ids.push((a as Extract<RunsNode, { type: 'run' }>).run.id);
    else if (a && typeof a === 'object' && (a as RunsNode).type === 'group') (a as Extract<RunsNode, { type: 'group' }>).runs.forEach((r) => ids.push(r.id));
  };
  // With a multi-selection VS Code passes (clicked, selection); the selection includes the clicked one.
  if (Array.isArray(args[1]) && args[1].length) add(args[1]);
  else add(args[0]);
  return [...new Set(ids)];
}

async function pickRuns(deps: ViewDeps, title: string, many: boolean, filter?: (r: RunSummary) => boolean): Promise<string[]> {
  const page = await deps.client.request(ListRunsRequest, { limit: 1000, keyMetric: '' });
  const runs = page.runs.filter(filter ?? (() => true));
  if (runs.length === 0) throw new Error(filter ? 'No run fits: see the Runs view.' : 'No runs recorded in this workspace yet.');
  const items = runs.map((r) => ({ label: r.name, description: `${r.id} · ${r.status}${r.keyMetric ? ` · ${r.keyMetric.key} ${r.keyMetric.value}` : ''}`, id: r.id }));
  if (many) {
    const picked = await vscode.window.showQuickPick(items, { title, canPickMany: true, matchOnDescription: true });
    return picked?.map((p) => p.id) ?? [];
  }
  const one = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  return one ? [one.id] : [];
}

async function oneRun(deps: ViewDeps, args: unknown[], title: string, filter?: (r: RunSummary) => boolean): Promise<string | undefined> {
  const ids = runIdsFrom(...args);
  if (ids.length) return ids[0];
  const selected = deps.runsTree.view?.selection.filter((n) => n.type === 'run') ?? [];
  if (selected.length === 1 && selected[0].type === 'run' && (!filter || filter(selected[0].run))) return selected[0].run.id;
  return (await pickRuns(deps, title, false, filter))[0];
}

export function viewCommands(deps: ViewDeps): Record<ViewCommandId, (...args: unknown[]) => unknown> {
  const { client, runsTree } = deps;
  const compare = async (where: 'view' | 'editor', args: unknown[]) => {
    let ids = runIdsFrom(...args);
    // From the Compare view's title bar: what it shows now.
    if (ids.length === 0 && where === 'editor') ids = deps.compare.viewIds;
    if (ids.length === 0) ids = runIdsFrom(runsTree.view?.selection ?? []);
    if (ids.length < 2) ids = await pickRuns(deps, 'Compare which runs? (pick two or more)', true);
    if (ids.length === 0) return;
    await deps.compare.compare(ids, where);
  };
  return {
    'labbook.compareRuns': (...args) => compare(vscode.workspace.getConfiguration('labbook').get<string>('compare.openIn', 'view') === 'editor' ? 'editor' : 'view', args),
    'labbook.openCompareInEditor': (...args) => compare('editor', args),
    'labbook.showRun': async (...args) => {
      const id = await oneRun(deps, args, 'Show which run?');
      if (!id) return;
      const json = await client.request(ShowRunRequest, { id });
      const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(json, null, 2) + '\n' });
      await vscode.window.showTextDocument(doc, { preview: true });
    },
    'labbook.tagRun': async (...args) => {
      const selected = runIdsFrom(...args);
      const ids = selected.length ? selected : [await oneRun(deps, args, 'Tag which run?')].filter((x): x is string => !!x);
      if (ids.length === 0) return;
      const text = await vscode.window.showInputBox({
        title: ids.length === 1 ? `Tags of run ${ids[0]}` : `Tags of ${ids.length} runs`,
        prompt: 'Tags to add, and -tag to remove (space-separated)',
        placeHolder: 'baseline best -draft',
        validateInput: (v) => (v.split(/\s+/).filter(Boolean).every((t) => /^-?[^\s,]{1,64}$/.test(t)) ? undefined : 'Tags are 1–64 characters without spaces or commas'),
      });
      if (text === undefined) return;
      const terms = text.split(/\s+/).filter(Boolean);
      const add = terms.filter((t) => !t.startsWith('-'));
      const remove = terms.filter((t) => t.startsWith('-')).map((t) => t.slice(1));
      let tags: string[] = [];
      for (const id of ids) tags = await client.request(TagRunRequest, { id, add, remove });
      runsTree.refresh();
      return tags;
    },
    'labbook.deleteRun': async (...args) => {
      let ids = runIdsFrom(...args);
      if (ids.length === 0) ids = await pickRuns(deps, 'Delete which runs?', true, (r) => r.status !== 'running');
      if (ids.length === 0) return;
      const names = ids.map((id) => runsTree.runs.find((r) => r.id === id)?.name ?? id);
      const what = ids.length === 1 ? `run ${names[0]} (${ids[0]})` : `${ids.length} runs (${names.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})`;
      const choice = await vscode.window.showWarningMessage(
        `Delete ${what}? Its parameters, metrics and records go; files in the workspace, other runs and their child runs stay.`,
        { modal: true },
        'Delete',
      );
      if (choice !== 'Delete') return;
      const deleted: string[] = [];
      for (const id of ids) deleted.push((await client.request(DeleteRunRequest, { id })).id);
      runsTree.refresh();
      return deleted;
    },
    'labbook.filterRuns': async (text?: unknown) => {
      const value =
        typeof text === 'string'
          ? text
          : await vscode.window.showInputBox({
              title: 'Filter runs',
              value: runsTree.filter,
              prompt: 'All terms must match: text (name, experiment, tag, id), status:failed, kind:notebook, tag:T, experiment:E, lr=0.01',
              placeHolder: 'status:finished lr=0.01 baseline',
            });
      if (value !== undefined) runsTree.setFilter(value);
    },
    'labbook.clearRunsFilter': () => runsTree.setFilter(''),
    'labbook.sortRuns': async (sort?: unknown) => {
      const options: { label: string; sort: RunsSort }[] = [
        { label: 'Newest first', sort: 'started-desc' },
        { label: 'Oldest first', sort: 'started-asc' },
        { label: 'Name', sort: 'name' },
        { label: 'Status', sort: 'status' },
        { label: 'Duration (longest first)', sort: 'duration' },
        { label: 'Key metric (best first)', sort: 'metric' },
      ];
      const chosen = typeof sort === 'string' ? options.find((o) => o.sort === sort) : await vscode.window.showQuickPick(options.map((o) => ({ ...o, picked: o.sort === runsTree.sort, description: o.sort === runsTree.sort ? 'current' : undefined })), { title: 'Sort runs by' });
      if (chosen) runsTree.setSort(chosen.sort);
    },
    'labbook.groupRuns': async (grouping?: unknown) => {
      const options: { label: string; grouping: RunsGrouping }[] = [
        { label: 'Experiment, else notebook or script', grouping: 'source' },
        { label: 'Experiment only', grouping: 'experiment' },
        { label: 'No groups', grouping: 'none' },
      ];
      const chosen = typeof grouping === 'string' ? options.find((o) => o.grouping === grouping) : await vscode.window.showQuickPick(options, { title: 'Group runs by' });
      if (chosen) runsTree.setGrouping(chosen.grouping);
    },
    'labbook.showConfusionMatrix': async (...args) => {
      let id = runIdsFrom(...args)[0];
      if (!id) {
        const runs = await deps.confusion.evaluatedRuns();
        if (runs.length === 0) throw new Error('No run in this workspace recorded an evaluation (evaluation.json or labbook.log_confusion_matrix).');
        const pick = await vscode.window.showQuickPick(runs.map((r) => ({ label: r.name, description: `${r.id} · ${r.status}`, id: r.id })), { title: 'Confusion matrix of which run?' });
        id = pick?.id ?? '';
      }
      if (id) deps.confusion.show(id);
    },
    'labbook.showLiveTraining': async (...args) => {
      const id = await oneRun(deps, args, 'Watch which run?', (r) => r.status === 'running');
      if (id) deps.live.show(id);
    },
    'labbook.cancelRun': async (...args) => {
      const id = await oneRun(deps, args, 'Cancel which run?', (r) => r.status === 'running');
      if (!id) return;
      const stopped = await client.request(CancelRunRequest, { runId: id });
      if (!stopped) void vscode.window.showWarningMessage(`Labbook: run ${id} was not started from this VS Code window, so it cannot be stopped here; stop its process where it runs.`);
      return stopped;
    },
  };
}
