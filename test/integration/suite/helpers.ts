import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { LabbookApi } from '../../../extension/api';
import type { ServerState } from '../../../extension/client/serverClient';

export const EXTENSION_ID = 'labbook.labbook';

export async function labbook(): Promise<{ api: LabbookApi; ext: vscode.Extension<LabbookApi> }> {
  const ext = vscode.extensions.getExtension<LabbookApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed in the host`);
  const api = await ext.activate();
  return { api, ext };
}

/** Resolves on the first event that passes `test`; rejects after `ms` with `what` in the message. */
export function waitForEvent<T>(event: vscode.Event<T>, test: (e: T) => boolean, what: string, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const sub = event((e) => {
      if (!test(e)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e);
    });
  });
}

export async function waitForServer(api: LabbookApi, state: ServerState): Promise<void> {
  if (api.server.state === state) return;
  await waitForEvent(api.server.onDidChangeState, (s) => s === state, `server state '${state}' (now '${api.server.state}')`);
}

export function workspaceRoot(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('the test host opened no folder');
  return f.uri.fsPath;
}

/**
 * Writes runs into the workspace store from another process, the way a `labbook run` in a
 * terminal would. Uses the Node that built better-sqlite3 (the extension host may run another).
 */
export function seedFromOutside(ext: vscode.Extension<unknown>, args: string[]): string[] {
  const node = process.env.LABBOOK_TEST_NODE || 'node';
  const out = execFileSync(node, [path.join(ext.extensionPath, 'out', 'test', 'fixtures', 'seed.js'), workspaceRoot(), ...args], { encoding: 'utf8' });
  return out.trim().split('\n');
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Labels of the top-level runs as the tree shows them (inside their groups). */
export async function topLabels(api: LabbookApi): Promise<string[]> {
  const nodes = await api.runsTree.runNodes();
  return nodes.map((n) => String(api.runsTree.getTreeItem(n).label));
}

function processes(): { pid: number; ppid: number; cmd: string; fds: () => string[] }[] {
  const out = [];
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const status = fs.readFileSync(`/proc/${d}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(d), ppid, cmd, fds: () => fs.readdirSync(`/proc/${d}/fd`).map((fd) => fs.readlinkSync(`/proc/${d}/fd/${fd}`)) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Labbook server processes started by this extension host (Linux /proc). */
export function serverChildren(): number[] {
  return processes()
    .filter((p) => p.ppid === process.pid && /dist\/server\.js/.test(p.cmd))
    .map((p) => p.pid);
}

/** Processes that have `file` open, for failure messages. */
export function holders(file: string): string[] {
  return processes()
    .filter((p) => {
      try {
        return p.fds().includes(file);
      } catch {
        return false;
      }
    })
    .map((p) => `${p.pid} ${p.cmd.slice(0, 160)}`);
}

export interface ShownRun {
  kind: string;
  status: string;
  tags: string[];
  inputs: { path: string; sha256: string | null; declared: boolean }[];
  executions?: { cellIndex: number; executionCount: number; success: boolean }[];
  artifacts: { path: string; kind: string }[];
}

/** `labbook show RUN --json`, run with the Node that built the SQLite addon. */
export function showRun(ext: vscode.Extension<unknown>, id: string): ShownRun {
  const out = execFileSync(process.env.LABBOOK_TEST_NODE || 'node', [path.join(ext.extensionPath, 'dist', 'cli.js'), 'show', id, '--json', '-C', workspaceRoot()], { encoding: 'utf8' });
  return JSON.parse(out) as ShownRun;
}
