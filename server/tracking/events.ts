/**
 * Tails `events.jsonl` (docs/run-events.md) and applies each event to the store, in order.
 * Metrics go through a batching writer; files are hashed (and small ones kept as blobs);
 * outputs and modules are settled when the run ends, when the files are complete.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { MetricWriter, Store } from '../store/db';
import { hashFile, storeFileBlob } from './hashing';

/** Files written by a run up to this size are kept as blobs; larger ones only hashed. */
const KEEP_OUTPUT_BYTES = 50 * 1024 * 1024;

export type RunEvent =
  | { t: 'param'; key: string; value: unknown; ts: number }
  | { t: 'metric'; key: string; value: number | 'NaN' | 'Infinity' | '-Infinity'; step: number | null; ts: number }
  | { t: 'artifact'; path: string; kind?: string; ts: number }
  | { t: 'confusion_matrix'; labels: string[]; matrix: number[][]; step: number | null; ts: number }
  | { t: 'input' | 'output' | 'module'; path: string; ts: number }
  | { t: 'cell'; index: number; id: string | null; status: 'ok' | 'error'; duration_ms: number; execution_count: number | null; ename?: string; evalue?: string; traceback?: string[]; ts: number }
  | { t: 'notebook'; path: string; ts: number }
  | { t: 'warning'; message: string; ts: number };

export type CellEvent = Extract<RunEvent, { t: 'cell' }>;

/**
 * A path relative to the workspace when inside it. The Python side reports real paths (symlinks
 * followed), so the workspace's real path is tried as well as the path as given.
 */
export function relativeToWorkspace(workspace: string, p: string): string {
  return relativeTo(workspaceRoots(workspace), p);
}

/** The workspace as given and, when it differs, its real path. */
export function workspaceRoots(workspace: string): string[] {
  try {
    const real = fs.realpathSync(workspace);
    return real === workspace ? [workspace] : [workspace, real];
  } catch {
    return [workspace]; // a workspace that vanished: compare as given
  }
}

function relativeTo(roots: readonly string[], p: string): string {
  for (const root of roots) {
    const rel = path.relative(root, p);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return p;
}

function metricValue(v: RunEvent & { t: 'metric' }): number {
  if (v.value === 'NaN') return Number.NaN;
  if (v.value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v.value === '-Infinity') return Number.NEGATIVE_INFINITY;
  return v.value;
}

export class EventApplier {
  private offset = 0;
  private partial = '';
  private queue: Promise<void> = Promise.resolve();
  private readonly outputs = new Set<string>();
  private readonly modules = new Set<string>();
  readonly cells: CellEvent[] = [];
  readonly warnings: string[] = [];
  notebook: string | undefined;
  private confusionCount = 0;

  constructor(
    private readonly store: Store,
    private readonly runId: string,
    workspace: string,
    private readonly file: string,
    private readonly writer: MetricWriter,
    private readonly onProblem: (message: string) => void,
    private readonly notInputs: ReadonlySet<string> = new Set(),
  ) {
    // Resolved once: every event's path is made relative against it.
    this.roots = workspaceRoots(workspace);
  }

  private readonly roots: string[];

  /** Reads whatever complete lines were appended since the last call and queues them. */
  poll(): Promise<void> {
    let text = '';
    try {
      const fd = fs.openSync(this.file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size > this.offset) {
          const buf = Buffer.alloc(size - this.offset);
          fs.readSync(fd, buf, 0, buf.length, this.offset);
          this.offset = size;
          text = buf.toString('utf8');
        }
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return this.queue; // not created yet
    }
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let ev: RunEvent;
      try {
        ev = JSON.parse(line) as RunEvent;
      } catch {
        this.onProblem(`ignored a malformed event line: ${line.slice(0, 120)}`);
        continue;
      }
      this.queue = this.queue.then(() => this.apply(ev)).catch((e) => this.onProblem(`recording ${ev.t}: ${(e as Error).message}`));
    }
    return this.queue;
  }

  private rel(p: string): string {
    return relativeTo(this.roots, p);
  }

  private async apply(ev: RunEvent): Promise<void> {
    switch (ev.t) {
      case 'param':
        this.store.logParams(this.runId, { [ev.key]: typeof ev.value === 'string' ? ev.value : JSON.stringify(ev.value) }, 'logged');
        break;
      case 'metric':
        this.writer.log(ev.key, metricValue(ev), ev.step ?? undefined, ev.ts);
        break;
      case 'artifact': {
        const { sha256, size } = await storeFileBlob(this.store, ev.path);
        this.store.addArtifact(this.runId, { path: this.rel(ev.path), blob: sha256, size, kind: ev.kind ?? 'file' });
        break;
      }
      case 'confusion_matrix': {
        const name = ev.step === null ? `confusion_matrix-${++this.confusionCount}.json` : `confusion_matrix@${ev.step}.json`;
        this.store.addContentArtifact(this.runId, name, JSON.stringify({ labels: ev.labels, matrix: ev.matrix, step: ev.step }), 'confusion-matrix');
        break;
      }
      case 'input':
        if (!this.notInputs.has(ev.path)) await this.recordInput(ev.path, false);
        break;
      case 'output':
        this.outputs.add(ev.path);
        break;
      case 'module':
        this.modules.add(ev.path);
        break;
      case 'cell':
        this.cells.push(ev);
        break;
      case 'notebook':
        this.notebook = ev.path;
        break;
      case 'warning':
        this.warnings.push(ev.message);
        break;
      default:
        this.onProblem(`ignored an event of unknown type '${(ev as { t: string }).t}'`);
    }
  }

  async recordInput(file: string, declared: boolean): Promise<void> {
    try {
      const h = await hashFile(this.store, file);
      this.store.addInput(this.runId, { path: this.rel(file), size: h.size, mtimeMs: h.mtimeMs, sha256: h.sha256, declared });
    } catch (e) {
      const code = (e as { code?: string }).code;
      const error = code === 'ENOENT' ? 'the file was gone before it could be hashed' : `could not be hashed: ${(e as Error).message}`;
      this.store.addInput(this.runId, { path: this.rel(file), size: null, mtimeMs: null, sha256: null, declared, error });
    }
  }

  /** After the process ended: last lines, written files, imported modules. */
  async finish(): Promise<void> {
    await this.poll();
    if (this.partial.trim()) {
      this.partial += '\n';
      await this.poll();
    }
    await this.queue;
    for (const file of this.outputs) {
      try {
        const st = fs.statSync(file);
        if (!st.isFile()) continue;
        const r = st.size <= KEEP_OUTPUT_BYTES ? await storeFileBlob(this.store, file) : { sha256: (await hashFile(this.store, file)).sha256, size: st.size };
        this.store.addArtifact(this.runId, { path: this.rel(file), blob: r.sha256, size: r.size, kind: 'output' });
      } catch {
        // written, then removed by the run itself (a temp file): nothing to keep
      }
    }
    if (this.notebook) {
      const { sha256, size } = await storeFileBlob(this.store, this.notebook);
      this.store.addArtifact(this.runId, { path: this.rel(this.notebook), blob: sha256, size, kind: 'notebook' });
    }
    for (const file of this.modules) {
      try {
        this.store.addCode(this.runId, { path: this.rel(file), kind: 'module', blob: this.store.putBlob(fs.readFileSync(file)) });
      } catch {
        // a module removed during the run
      }
    }
  }
}
