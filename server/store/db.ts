/**
 * The Labbook store: the one module that owns SQL. A workspace's store is
 * `.labbook/labbook.db` (SQLite in WAL mode) plus content-addressed files in `.labbook/blobs/`.
 *
 * Two processes may write at once (the server and a CLI run): every write is a short
 * `BEGIN IMMEDIATE` transaction, SQLite's busy timeout makes a second writer wait instead of
 * failing, and a longer wait than that surfaces as one clear STORE_BUSY error, never as
 * "database is locked".
 */
import Database from 'better-sqlite3';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LabbookError, errnoCode } from '../core/errors';
import type {
  ArtifactDto,
  CodeDto,
  EnvironmentDto,
  ExecutionDto,
  InputDto,
  MetricSeries,
  MetricSummary,
  ParamDto,
  ParamSource,
  RunDetail,
  RunKind,
  RunPage,
  RunSortKey,
  RunStatus,
  RunSummary,
  StoreInfo,
} from '../protocol/dto';
import type { ListRunsParams } from '../protocol/requests';
import { LABBOOK_APPLICATION_ID, inspectStoreFile, notAStore } from './header';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations';
import { nativeBindingPath } from './native';

export const STORE_DIR = '.labbook';
export const STORE_FILE = 'labbook.db';
const BUSY_TIMEOUT_MS = 10_000;

export interface StorePaths {
  workspace: string;
  dir: string;
  db: string;
  blobs: string;
}

export function storePaths(workspace: string): StorePaths {
  const ws = path.resolve(workspace);
  const dir = path.join(ws, STORE_DIR);
  return { workspace: ws, dir, db: path.join(dir, STORE_FILE), blobs: path.join(dir, 'blobs') };
}

export interface OpenOptions {
  /** Create the store (and `.labbook/`) when missing. Reading commands pass false. */
  create?: boolean;
}

export interface NewRun {
  name: string;
  kind: RunKind;
  experiment?: string;
  command?: string;
  cwd?: string;
  parentId?: string;
  /** Process that owns the run: when it is gone and the run still says running, it crashed. */
  pid?: number;
  startedAt?: number;
}

export interface ModelRecord {
  id: number;
  name: string;
  version: number;
  /** The training run that made it. */
  run: string | null;
  metrics: Record<string, number>;
  /** Its folder, relative to the workspace. */
  path: string;
  stage: 'none' | 'staging' | 'production' | 'archived';
  createdAt: string;
}

export interface DeploymentRecord {
  id: number;
  modelId: number;
  /** NAME@VERSION */
  model: string;
  deployedAt: string;
  gate: Record<string, unknown>;
  passed: boolean;
  forced: boolean;
  /** Named by the user (deploy --model): deployed without the gate. */
  chosen: boolean;
  by: string | null;
}

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds since the epoch. */
  wallTime: number;
}

/** Paging, sorting and filtering of run lists: the protocol's parameters, used as they come. */
export type ListRunsOptions = ListRunsParams;

type Row = Record<string, unknown>;

const SORT_SQL: Record<RunSortKey, string> = {
  started: 'r.started_at',
  name: 'r.name COLLATE NOCASE',
  status: 'r.status',
  duration: '(COALESCE(r.ended_at, @now) - r.started_at)',
};

const RUN_COLUMNS = `r.rid, r.id, r.name, r.kind, r.status, r.started_at, r.ended_at, r.exit_code,
  r.command, e.name AS experiment, p.id AS parent_id`;
const RUN_FROM = `runs r LEFT JOIN experiments e ON e.id = r.experiment_id LEFT JOIN runs p ON p.rid = r.parent_rid`;

export class Store {
  readonly paths: StorePaths;
  private readonly db: Database.Database;
  private readonly insertMetric: Database.Statement;
  private readonly insertMetricBatch: (rid: number, points: readonly MetricPoint[]) => void;
  private writes = 0;

  private constructor(paths: StorePaths, db: Database.Database) {
    this.paths = paths;
    this.db = db;
    this.insertMetric = db.prepare('INSERT OR REPLACE INTO metrics (rid, key, step, value, wall_time) VALUES (?, ?, ?, ?, ?)');
    const insert = this.insertMetric;
    const tx = db.transaction((rid: number, points: readonly MetricPoint[]) => {
      for (const p of points) insert.run(rid, p.key, p.step, Number.isNaN(p.value) ? null : p.value, p.wallTime);
    });
    this.insertMetricBatch = (rid, points) => tx.immediate(rid, points);
  }

  /**
   * Opens the store of a workspace. Returns null when there is none and `create` is false.
   * Refuses (without writing) a file that is not a Labbook store or is from a newer Labbook.
   */
  static open(workspace: string, options: OpenOptions = {}): Store | null {
    const paths = storePaths(workspace);
    const verdict = inspectStoreFile(paths.db);
    if (verdict.kind === 'missing') {
      if (!options.create) return null;
      ensureWritableDir(paths.dir);
      writeIfMissing(path.join(paths.dir, '.gitignore'), '# Labbook store: runs, metrics and blobs of this workspace\n*\n');
    }
    if (verdict.kind === 'labbook' && verdict.userVersion > SCHEMA_VERSION) throw newerSchema(paths.db, verdict.userVersion);
    if (verdict.kind === 'sqlite-unmarked') assertNoForeignTables(paths.db);

    let db: Database.Database;
    try {
      db = new Database(paths.db, { timeout: BUSY_TIMEOUT_MS, nativeBinding: nativeBindingPath() });
    } catch (e) {
      throw translateOpenError(e, paths);
    }
    try {
      db.pragma('foreign_keys = ON');
      initialize(db, paths.db);
      db.pragma('synchronous = NORMAL');
      return new Store(paths, db);
    } catch (e) {
      db.close();
      throw translateOpenError(e, paths);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Changes whenever another connection commits; cheap to poll. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** Counts this connection's own committed writes (data_version does not see them). */
  get writeCount(): number {
    return this.writes;
  }

  info(): StoreInfo {
    const runCount = (this.db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;
    let sizeBytes = 0;
    for (const f of [this.paths.db, `${this.paths.db}-wal`]) {
      try {
        sizeBytes += fs.statSync(f).size;
      } catch {
        // a missing -wal file just means nothing is pending
      }
    }
    return {
      workspace: this.paths.workspace,
      storePath: this.paths.db,
      exists: true,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      runCount,
      sizeBytes,
      problem: null,
    };
  }

  // ---- runs -------------------------------------------------------------------------------

  createRun(run: NewRun): RunSummary {
    return this.write(() => {
      const experimentId = run.experiment ? this.experimentId(run.experiment) : null;
      const parentRid = run.parentId ? this.resolveRid(run.parentId) : null;
      const startedAt = run.startedAt ?? Date.now();
      for (let attempt = 0; ; attempt++) {
        const id = crypto.randomBytes(4).toString('hex');
        try {
          this.db
            .prepare(
              `INSERT INTO runs (id, experiment_id, name, kind, status, started_at, command, cwd, parent_rid, pid, host)
               VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
            )
            .run(id, experimentId, run.name, run.kind, startedAt, run.command ?? null, run.cwd ?? null, parentRid, run.pid ?? null, os.hostname());
          return this.summaryByRid(this.resolveRid(id));
        } catch (e) {
          if (attempt < 5 && String((e as Error).message).includes('UNIQUE constraint failed: runs.id')) continue;
          throw e;
        }
      }
    });
  }

  /** Ends a run: finished (exit code 0 or none), failed (non-zero) or crashed. */
  endRun(id: string, status: Exclude<RunStatus, 'running'>, exitCode: number | null = null, endedAt = Date.now()): void {
    this.write(() => {
      this.db.prepare('UPDATE runs SET status = ?, exit_code = ?, ended_at = ? WHERE rid = ?').run(status, exitCode, endedAt, this.resolveRid(id));
    });
  }

  /**
   * Marks as crashed the runs on this host that still say running but whose owning process is
   * gone (killed, or the machine restarted). Returns their ids.
   */
  recoverCrashedRuns(isAlive: (pid: number) => boolean = processAlive): string[] {
    const host = os.hostname();
    const stale = (this.db.prepare("SELECT rid, id, pid FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL").all(host) as Row[])
      .filter((r) => !isAlive(r.pid as number));
    if (stale.length === 0) return [];
    this.write(() => {
      const mark = this.db.prepare("UPDATE runs SET status = 'crashed', ended_at = ? WHERE rid = ? AND status = 'running'");
      const now = Date.now();
      for (const r of stale) mark.run(now, r.rid);
    });
    return stale.map((r) => r.id as string);
  }

  listRuns(options: ListRunsOptions = {}): RunPage {
    const offset = Math.max(0, Math.floor(options.offset ?? 0));
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 100)), 10_000);
    const sort = SORT_SQL[options.sort ?? 'started'] ?? SORT_SQL.started;
    const order = options.order === 'asc' ? 'ASC' : 'DESC';
    const where: string[] = [];
    if (options.topLevel !== false) where.push('r.parent_rid IS NULL');
    if (options.status) where.push('r.status = @status');
    const search = searchSql(options.search ?? '');
    where.push(...search.where);
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const now = Date.now();
    // Unused named parameters are ignored by better-sqlite3, so one bind object serves both queries.
    const bind = { now, status: options.status ?? null, limit, offset, ...search.bind };
    const rows = this.db
      .prepare(`SELECT ${RUN_COLUMNS} FROM ${RUN_FROM} ${whereSql} ORDER BY ${sort} ${order}, r.rid ${order} LIMIT @limit OFFSET @offset`)
      .all(bind) as Row[];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id ${whereSql}`).get(bind) as { n: number }).n;
    const runs = rows.map((r) => toSummary(r, now));
    if (options.keyMetric !== undefined) {
      const prefer = options.keyMetric ? [options.keyMetric] : KEY_METRIC_PREFERENCE;
      const last = this.db.prepare('SELECT value, step FROM metrics WHERE rid = ? AND key = ? ORDER BY step DESC LIMIT 1');
      const firstKey = this.db.prepare('SELECT key FROM metrics WHERE rid = ? ORDER BY key LIMIT 1');
      const source = this.db.prepare("SELECT path FROM code WHERE rid = ? AND kind IN ('notebook', 'script') ORDER BY kind, path LIMIT 1");
      const tags = this.db.prepare('SELECT tag FROM tags WHERE rid = ? ORDER BY tag');
      const evaluated = this.db.prepare("SELECT 1 FROM artifacts WHERE rid = ? AND (kind IN ('evaluation', 'confusion-matrix') OR path = 'evaluation.json') LIMIT 1");
      rows.forEach((row, i) => {
        const rid = row.rid as number;
        let key: string | undefined;
        let hit: Row | undefined;
        for (const k of prefer) {
          hit = last.get(rid, k) as Row | undefined;
          if (hit) {
            key = k;
            break;
          }
        }
        if (!hit && !options.keyMetric) {
          key = (firstKey.get(rid) as Row | undefined)?.key as string | undefined;
          if (key !== undefined) hit = last.get(rid, key) as Row | undefined;
        }
        runs[i].keyMetric = hit && key !== undefined ? { key, value: (hit.value as number | null) ?? null, step: hit.step as number } : null;
        runs[i].source = ((source.get(rid) as Row | undefined)?.path as string | undefined) ?? null;
        runs[i].tags = (tags.all(rid) as Row[]).map((t) => t.tag as string);
        runs[i].evaluated = evaluated.get(rid) !== undefined;
      });
    }
    return { runs, total, offset };
  }

  /**
   * Deletes one run and everything recorded for it. Its child runs (reruns, steps) are kept and
   * become top-level runs; blobs stay (other runs may share them). A running run is refused.
   */
  deleteRun(ref: string): { id: string; name: string; keptChildren: string[] } {
    const rid = this.resolveRid(ref);
    return this.write(() => {
      const row = this.db.prepare('SELECT id, name, status FROM runs WHERE rid = ?').get(rid) as Row;
      if (row.status === 'running') {
        throw new LabbookError('BAD_ARGUMENT', `Run ${row.id as string} (${row.name as string}) is still running: stop it before deleting it.`);
      }
      const children = (this.db.prepare('SELECT id FROM runs WHERE parent_rid = ?').all(rid) as Row[]).map((c) => c.id as string);
      this.db.prepare('UPDATE runs SET parent_rid = NULL WHERE parent_rid = ?').run(rid);
      this.db.prepare('DELETE FROM metrics WHERE rid = ?').run(rid);
      this.db.prepare('DELETE FROM runs WHERE rid = ?').run(rid);
      return { id: row.id as string, name: row.name as string, keptChildren: children };
    });
  }

  getRun(ref: string): RunDetail {
    const rid = this.resolveRid(ref);
    const now = Date.now();
    const row = this.db.prepare(`SELECT ${RUN_COLUMNS}, r.cwd, r.host, r.pid, r.note FROM ${RUN_FROM} WHERE r.rid = ?`).get(rid) as Row;
    const params = (this.db.prepare('SELECT key, value, source FROM params WHERE rid = ? ORDER BY key').all(rid) as Row[]).map(
      (p): ParamDto => ({ key: p.key as string, value: p.value as string, source: p.source as ParamSource }),
    );
    const children = (this.db.prepare(`SELECT ${RUN_COLUMNS} FROM ${RUN_FROM} WHERE r.parent_rid = ? ORDER BY r.started_at`).all(rid) as Row[]).map(
      (r) => toSummary(r, now),
    );
    return {
      ...toSummary(row, now),
      cwd: (row.cwd as string) ?? null,
      host: (row.host as string) ?? null,
      pid: (row.pid as number) ?? null,
      note: (row.note as string) ?? null,
      params,
      metrics: this.metricSummaries(rid),
      inputs: this.inputs(rid),
      environment: this.environment(rid),
      code: this.db.prepare('SELECT path, kind, blob FROM code WHERE rid = ? ORDER BY kind, path').all(rid) as CodeDto[],
      artifacts: this.db.prepare('SELECT path, blob, size, kind FROM artifacts WHERE rid = ? ORDER BY path').all(rid) as ArtifactDto[],
      tags: (this.db.prepare('SELECT tag FROM tags WHERE rid = ? ORDER BY tag').all(rid) as Row[]).map((t) => t.tag as string),
      children,
    };
  }

  /**
   * Finds a run by exact id, unique id prefix, or name (the newest run of that name wins).
   */
  resolveRid(ref: string): number {
    const exact = this.db.prepare('SELECT rid FROM runs WHERE id = ?').get(ref) as Row | undefined;
    if (exact) return exact.rid as number;
    if (/^[0-9a-f]{1,8}$/.test(ref)) {
      const hits = this.db.prepare("SELECT rid, id FROM runs WHERE id >= ? AND id < ? || 'g' LIMIT 6").all(ref, ref) as Row[];
      if (hits.length === 1) return hits[0].rid as number;
      if (hits.length > 1) {
        throw new LabbookError('AMBIGUOUS_RUN', `Run id prefix '${ref}' matches several runs (${hits.slice(0, 5).map((h) => h.id).join(', ')}…); type more of the id.`);
      }
    }
    const byName = this.db.prepare('SELECT rid FROM runs WHERE name = ? ORDER BY started_at DESC, rid DESC LIMIT 1').get(ref) as Row | undefined;
    if (byName) return byName.rid as number;
    throw new LabbookError('RUN_NOT_FOUND', `No run '${ref}' in ${this.paths.db} (give a run id, an id prefix or a run name; 'labbook runs' lists them).`);
  }

  // ---- params, metrics --------------------------------------------------------------------

  logParams(id: string, params: Record<string, string | number | boolean>, source: ParamSource): void {
    const rid = this.resolveRid(id);
    this.write(() => {
      const put = this.db.prepare('INSERT OR REPLACE INTO params (rid, key, value, source) VALUES (?, ?, ?, ?)');
      for (const [k, v] of Object.entries(params)) put.run(rid, k, String(v), source);
    });
  }

  /** Writes many points in one transaction: the way to log metrics fast. */
  logMetrics(id: string | number, points: readonly MetricPoint[]): void {
    if (points.length === 0) return;
    for (const p of points) validatePoint(p);
    const rid = typeof id === 'number' ? id : this.resolveRid(id);
    this.write(() => this.insertMetricBatch(rid, points));
  }

  /** A buffered writer for one run: points go to the store in batches. */
  metricWriter(id: string, options: { maxBatch?: number; maxDelayMs?: number } = {}): MetricWriter {
    return new MetricWriter(this, this.resolveRid(id), options.maxBatch ?? 2000, options.maxDelayMs ?? 250);
  }

  /** The next free step of a metric (0 for a new one). */
  nextStep(rid: number, key: string): number {
    const row = this.db.prepare('SELECT MAX(step) AS s FROM metrics WHERE rid = ? AND key = ?').get(rid, key) as { s: number | null };
    return row.s === null ? 0 : row.s + 1;
  }

  metricSeries(id: string, keys?: readonly string[]): MetricSeries[] {
    const rid = this.resolveRid(id);
    const rows = this.db.prepare('SELECT key, step, value, wall_time FROM metrics WHERE rid = ? ORDER BY key, step').raw(true).all(rid) as [string, number, number | null, number][];
    const wanted = keys ? new Set(keys) : null;
    const out: MetricSeries[] = [];
    let cur: MetricSeries | undefined;
    for (const [key, step, value, wall] of rows) {
      if (wanted && !wanted.has(key)) continue;
      if (!cur || cur.key !== key) {
        cur = { key, steps: [], values: [], wallTimes: [] };
        out.push(cur);
      }
      cur.steps.push(step);
      cur.values.push(value);
      cur.wallTimes.push(wall);
    }
    return out;
  }

  /** Points logged after the given step of each metric (all points of metrics not named). */
  metricSeriesSince(id: string, since: Record<string, number>): MetricSeries[] {
    const rid = this.resolveRid(id);
    const keys = (this.db.prepare('SELECT DISTINCT key FROM metrics WHERE rid = ? ORDER BY key').all(rid) as Row[]).map((r) => r.key as string);
    const q = this.db.prepare('SELECT step, value, wall_time FROM metrics WHERE rid = ? AND key = ? AND step > ? ORDER BY step').raw(true);
    const out: MetricSeries[] = [];
    for (const key of keys) {
      const rows = q.all(rid, key, since[key] ?? -1) as [number, number | null, number][];
      if (rows.length === 0) continue;
      out.push({ key, steps: rows.map((r) => r[0]), values: rows.map((r) => r[1]), wallTimes: rows.map((r) => r[2]) });
    }
    return out;
  }

  /** Runs with an artifact of one of these kinds or paths, newest first. */
  runsWithArtifacts(kinds: readonly string[], paths: readonly string[], limit: number): { id: string; name: string; status: RunStatus; startedAt: string }[] {
    const k = kinds.map(() => '?').join(', ');
    const p = paths.map(() => '?').join(', ');
    const rows = this.db
      .prepare(
        `SELECT r.id, r.name, r.status, r.started_at FROM runs r
         WHERE EXISTS (SELECT 1 FROM artifacts a WHERE a.rid = r.rid AND (a.kind IN (${k || "''"}) OR a.path IN (${p || "''"})))
         ORDER BY r.started_at DESC, r.rid DESC LIMIT ?`,
      )
      .all(...kinds, ...paths, limit) as Row[];
    return rows.map((r) => ({ id: r.id as string, name: r.name as string, status: r.status as RunStatus, startedAt: new Date(r.started_at as number).toISOString() }));
  }

  private metricSummaries(rid: number): MetricSummary[] {
    const rows = this.db
      .prepare(
        `SELECT m.key, COUNT(*) AS n, MIN(m.value) AS mn, MAX(m.value) AS mx, MAX(m.step) AS last_step,
                (SELECT value FROM metrics l WHERE l.rid = m.rid AND l.key = m.key ORDER BY l.step DESC LIMIT 1) AS last
         FROM metrics m WHERE m.rid = ? GROUP BY m.key ORDER BY m.key`,
      )
      .all(rid) as Row[];
    return rows.map((r) => ({
      key: r.key as string,
      last: (r.last as number) ?? null,
      lastStep: r.last_step as number,
      min: (r.mn as number) ?? null,
      max: (r.mx as number) ?? null,
      count: r.n as number,
    }));
  }

  // ---- inputs, environment, code, artifacts (filled by tracking) ---------------------------

  private inputs(rid: number): InputDto[] {
    return (this.db.prepare('SELECT path, size, mtime, sha256, declared, error FROM inputs WHERE rid = ? ORDER BY path').all(rid) as Row[]).map((r) => ({
      path: r.path as string,
      size: (r.size as number | null) ?? null,
      mtime: r.mtime === null ? null : new Date(r.mtime as number).toISOString(),
      sha256: (r.sha256 as string | null) ?? null,
      declared: r.declared === 1,
      error: (r.error as string | null) ?? null,
    }));
  }

  private environment(rid: number): EnvironmentDto | null {
    const r = this.db.prepare('SELECT * FROM environments WHERE rid = ?').get(rid) as Row | undefined;
    if (!r) return null;
    return {
      python: (r.python as string) ?? null,
      pythonVersion: (r.python_version as string) ?? null,
      packagesBlob: (r.packages_blob as string) ?? null,
      os: (r.os as string) ?? null,
      cpu: (r.cpu as string) ?? null,
      memoryBytes: (r.memory_bytes as number) ?? null,
      gpu: (r.gpu as string) ?? null,
      gitCommit: (r.git_commit as string) ?? null,
      gitBranch: (r.git_branch as string) ?? null,
      gitDirty: r.git_dirty === null || r.git_dirty === undefined ? null : r.git_dirty === 1,
      gitDiffBlob: (r.git_diff_blob as string) ?? null,
      labbookVersion: (r.labbook_version as string) ?? null,
      extra: JSON.parse((r.extra as string) || '{}') as Record<string, unknown>,
    };
  }

  addInput(id: string, input: { path: string; size: number | null; mtimeMs: number | null; sha256: string | null; declared: boolean; error?: string | null }): void {
    const rid = this.resolveRid(id);
    this.write(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO inputs (rid, path, size, mtime, sha256, declared, error) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(rid, input.path, input.size, input.mtimeMs === null ? null : Math.round(input.mtimeMs), input.sha256, input.declared ? 1 : 0, input.error ?? null);
    });
  }

  addArtifact(id: string, a: { path: string; blob: string | null; size: number | null; kind: string }): void {
    const rid = this.resolveRid(id);
    this.write(() => {
      this.db.prepare('INSERT OR REPLACE INTO artifacts (rid, path, blob, size, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(rid, a.path, a.blob, a.size, a.kind, Date.now());
    });
  }

  // ---- model registry ---------------------------------------------------------------------

  /**
   * Registers the next version of model `name` (1, 2, …) in one transaction; `place` gets the
   * version and returns the folder (relative to the workspace) the caller writes it to.
   */
  registerModel(name: string, runId: string | null, metrics: Record<string, number>, place: (version: number) => string): ModelRecord {
    const rid = runId ? this.resolveRid(runId) : null;
    const id = this.write(() => {
      const row = this.db.prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM models WHERE name = ?').get(name) as { v: number };
      return Number(
        this.db
          .prepare('INSERT INTO models (name, version, rid, metrics, path, created_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(name, row.v, rid, JSON.stringify(metrics), place(row.v), Date.now()).lastInsertRowid,
      );
    });
    return this.listModels().find((m) => m.id === id)!;
  }

  listModels(name?: string): ModelRecord[] {
    const rows = this.db
      .prepare(
        `SELECT m.id, m.name, m.version, r.id AS run, m.metrics, m.path, m.stage, m.created_at FROM models m
         LEFT JOIN runs r ON r.rid = m.rid ${name ? 'WHERE m.name = ?' : ''} ORDER BY m.name, m.version`,
      )
      .all(...(name ? [name] : [])) as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      name: r.name as string,
      version: r.version as number,
      run: (r.run as string | null) ?? null,
      metrics: JSON.parse(r.metrics as string) as Record<string, number>,
      path: r.path as string,
      stage: r.stage as ModelRecord['stage'],
      createdAt: new Date(r.created_at as number).toISOString(),
    }));
  }

  /**
   * Records a deployment decision; when it deploys (`passed`, `forced` or `chosen`), the model becomes the
   * production one and the previous production model is archived, in the same transaction.
   */
  recordDeployment(modelId: number, d: { gate: Record<string, unknown>; passed: boolean; forced: boolean; chosen?: boolean; by?: string }): DeploymentRecord {
    const id = this.write(() => {
      if (d.passed || d.forced || d.chosen) {
        this.db.prepare("UPDATE models SET stage = 'archived' WHERE stage = 'production' AND id <> ?").run(modelId);
        this.db.prepare("UPDATE models SET stage = 'production' WHERE id = ?").run(modelId);
      }
      return Number(
        this.db
          .prepare('INSERT INTO deployments (model_id, deployed_at, gate, passed, forced, chosen, deployed_by) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(modelId, Date.now(), JSON.stringify(d.gate), d.passed ? 1 : 0, d.forced ? 1 : 0, d.chosen ? 1 : 0, d.by ?? null).lastInsertRowid,
      );
    });
    return this.deployments().find((x) => x.id === id)!;
  }

  /** Deployment history, newest first. */
  deployments(): DeploymentRecord[] {
    const rows = this.db
      .prepare(
        `SELECT d.id, m.id AS model_id, m.name, m.version, d.deployed_at, d.gate, d.passed, d.forced, d.chosen, d.deployed_by
         FROM deployments d JOIN models m ON m.id = d.model_id ORDER BY d.deployed_at DESC, d.id DESC`,
      )
      .all() as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      modelId: r.model_id as number,
      model: `${r.name as string}@${r.version as number}`,
      deployedAt: new Date(r.deployed_at as number).toISOString(),
      gate: JSON.parse(r.gate as string) as Record<string, unknown>,
      passed: r.passed === 1,
      forced: r.forced === 1,
      chosen: r.chosen === 1,
      by: (r.deployed_by as string | null) ?? null,
    }));
  }

  logPredictions(modelId: number, rows: readonly { inputHash: string; output: string; confidence: number | null }[]): void {
    const at = Date.now();
    this.write(() => {
      const ins = this.db.prepare('INSERT INTO predictions (model_id, input_hash, output, confidence, created_at) VALUES (?, ?, ?, ?, ?)');
      for (const r of rows) ins.run(modelId, r.inputHash, r.output, r.confidence, at);
    });
  }

  predictions(modelId: number, limit = 100000): { inputHash: string; output: string; confidence: number | null; createdAt: number }[] {
    return (this.db.prepare('SELECT input_hash, output, confidence, created_at FROM predictions WHERE model_id = ? ORDER BY id DESC LIMIT ?').all(modelId, limit) as Row[]).map((r) => ({
      inputHash: r.input_hash as string,
      output: r.output as string,
      confidence: (r.confidence as number | null) ?? null,
      createdAt: r.created_at as number,
    }));
  }

  /** Keeps content made by Labbook itself (a log, a JSON summary) as a blob-backed artifact. */
  addContentArtifact(id: string, artifactPath: string, content: string | Buffer, kind: string): void {
    const blob = this.putBlob(content);
    this.addArtifact(id, { path: artifactPath, blob, size: typeof content === 'string' ? Buffer.byteLength(content) : content.length, kind });
  }

  addCode(id: string, c: CodeDto): void {
    const rid = this.resolveRid(id);
    this.write(() => {
      this.db.prepare('INSERT OR REPLACE INTO code (rid, path, kind, blob) VALUES (?, ?, ?, ?)').run(rid, c.path, c.kind, c.blob);
    });
  }

  /** Appends executions (cells run in VS Code's notebook editor) to a session run, in order. */
  addExecutions(id: string, executions: readonly Omit<ExecutionDto, 'seq'>[]): void {
    const rid = this.resolveRid(id);
    this.write(() => {
      let seq = (this.db.prepare('SELECT COALESCE(MAX(seq), -1) AS s FROM executions WHERE rid = ?').get(rid) as { s: number }).s;
      const put = this.db.prepare(
        'INSERT INTO executions (rid, seq, cell_id, cell_index, source_sha256, execution_count, success, started_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const e of executions) put.run(rid, ++seq, e.cellId, e.cellIndex, e.sourceSha256, e.executionCount, e.success === null ? null : e.success ? 1 : 0, e.startedAt, e.durationMs);
    });
  }

  executions(id: string): ExecutionDto[] {
    const rid = this.resolveRid(id);
    return (this.db.prepare('SELECT * FROM executions WHERE rid = ? ORDER BY seq').all(rid) as Row[]).map((r) => ({
      seq: r.seq as number,
      cellId: (r.cell_id as string | null) ?? null,
      cellIndex: r.cell_index as number,
      sourceSha256: r.source_sha256 as string,
      executionCount: (r.execution_count as number | null) ?? null,
      success: r.success === null ? null : r.success === 1,
      startedAt: (r.started_at as number | null) ?? null,
      durationMs: (r.duration_ms as number | null) ?? null,
    }));
  }

  removeTag(id: string, tag: string): void {
    const rid = this.resolveRid(id);
    this.write(() => {
      this.db.prepare('DELETE FROM tags WHERE rid = ? AND tag = ?').run(rid, tag);
    });
  }

  addTag(id: string, tag: string): void {
    const rid = this.resolveRid(id);
    this.write(() => {
      this.db.prepare('INSERT OR IGNORE INTO tags (rid, tag) VALUES (?, ?)').run(rid, tag);
    });
  }

  /** Records (or completes) a run's environment; fields left undefined keep their value. */
  setEnvironment(id: string, env: Partial<EnvironmentDto>): void {
    const rid = this.resolveRid(id);
    const cols: Record<keyof Omit<EnvironmentDto, 'extra'>, string> = {
      python: 'python',
      pythonVersion: 'python_version',
      packagesBlob: 'packages_blob',
      os: 'os',
      cpu: 'cpu',
      memoryBytes: 'memory_bytes',
      gpu: 'gpu',
      gitCommit: 'git_commit',
      gitBranch: 'git_branch',
      gitDirty: 'git_dirty',
      gitDiffBlob: 'git_diff_blob',
      labbookVersion: 'labbook_version',
    };
    this.write(() => {
      this.db.prepare('INSERT OR IGNORE INTO environments (rid) VALUES (?)').run(rid);
      for (const [k, col] of Object.entries(cols)) {
        const v = env[k as keyof typeof cols];
        if (v === undefined) continue;
        this.db.prepare(`UPDATE environments SET ${col} = ? WHERE rid = ?`).run(typeof v === 'boolean' ? (v ? 1 : 0) : v, rid);
      }
      if (env.extra) {
        const row = this.db.prepare('SELECT extra FROM environments WHERE rid = ?').get(rid) as { extra: string };
        const merged = { ...(JSON.parse(row.extra || '{}') as object), ...env.extra };
        this.db.prepare('UPDATE environments SET extra = ? WHERE rid = ?').run(JSON.stringify(merged), rid);
      }
    });
  }

  /** A cached SHA-256 for a file whose identity (size, mtime, inode) is unchanged, else null. */
  cachedHash(file: string, size: number, mtimeNs: bigint, ino: bigint): string | null {
    const r = this.db.prepare('SELECT size, mtime_ns, ino, sha256 FROM hash_cache WHERE path = ?').get(file) as Row | undefined;
    return r && r.size === size && r.mtime_ns === String(mtimeNs) && r.ino === String(ino) ? (r.sha256 as string) : null;
  }

  putCachedHash(file: string, size: number, mtimeNs: bigint, ino: bigint, sha256: string): void {
    this.write(() => {
      this.db.prepare('INSERT OR REPLACE INTO hash_cache (path, size, mtime_ns, ino, sha256) VALUES (?, ?, ?, ?, ?)').run(file, size, String(mtimeNs), String(ino), sha256);
    });
  }

  /** Notes a blob written into the blob folder by someone else (a streamed file copy). */
  registerBlob(hash: string, size: number): void {
    this.write(() => {
      this.db.prepare('INSERT OR IGNORE INTO blobs (hash, size, created_at) VALUES (?, ?, ?)').run(hash, size, Date.now());
    });
  }

  // ---- blobs ------------------------------------------------------------------------------

  /** Stores bytes content-addressed; the same content is stored once. Returns its SHA-256. */
  putBlob(data: Buffer | string): string {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const hash = crypto.createHash('sha256').update(buf).digest('hex');
    const target = this.blobPath(hash);
    if (!fs.existsSync(target)) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      // Write beside, then rename: a reader never sees half a blob, a crash leaves only a temp file.
      const tmp = `${target}.tmp-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
      fs.writeFileSync(tmp, buf);
      fs.renameSync(tmp, target);
    }
    this.write(() => {
      this.db.prepare('INSERT OR IGNORE INTO blobs (hash, size, created_at) VALUES (?, ?, ?)').run(hash, buf.length, Date.now());
    });
    return hash;
  }

  readBlob(hash: string): Buffer {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new LabbookError('BAD_ARGUMENT', `'${hash}' is not a blob hash.`);
    try {
      return fs.readFileSync(this.blobPath(hash));
    } catch (e) {
      throw new LabbookError('BLOB_NOT_FOUND', `Blob ${hash.slice(0, 12)}… is missing from ${this.paths.blobs}.`, { cause: e });
    }
  }

  blobPath(hash: string): string {
    return path.join(this.paths.blobs, hash.slice(0, 2), hash.slice(2));
  }

  // ---- plumbing ---------------------------------------------------------------------------

  private experimentId(name: string): number {
    this.db.prepare('INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)').run(name, Date.now());
    return (this.db.prepare('SELECT id FROM experiments WHERE name = ?').get(name) as { id: number }).id;
  }

  private summaryByRid(rid: number): RunSummary {
    return toSummary(this.db.prepare(`SELECT ${RUN_COLUMNS} FROM ${RUN_FROM} WHERE r.rid = ?`).get(rid) as Row, Date.now());
  }

  /**
   * Runs a write. Nested calls join the outer transaction; a busy store past SQLite's own
   * timeout is retried a few times, then reported as STORE_BUSY.
   */
  private write<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    const tx = this.db.transaction(fn);
    for (let attempt = 0; ; attempt++) {
      try {
        const result = tx.immediate();
        this.writes++;
        return result;
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        if (code.startsWith('SQLITE_BUSY') && attempt < 3) continue;
        throw translateWriteError(e, this.paths);
      }
    }
  }
}

/** Buffers metric points of one run and writes them in batches (size or age, whichever first). */
export class MetricWriter {
  private buffer: MetricPoint[] = [];
  private readonly next = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly rid: number,
    private readonly maxBatch: number,
    private readonly maxDelayMs: number,
  ) {}

  /** Logs one point; without a step, the metric's next step is used. */
  log(key: string, value: number, step?: number, wallTime: number = Date.now()): void {
    const s = step ?? this.next.get(key) ?? this.store.nextStep(this.rid, key);
    const point = { key, value, step: s, wallTime };
    validatePoint(point);
    this.next.set(key, Math.max(s + 1, this.next.get(key) ?? 0));
    this.buffer.push(point);
    if (this.buffer.length >= this.maxBatch) this.flush();
    else if (!this.timer && this.maxDelayMs > 0) {
      this.timer = setTimeout(() => this.flush(), this.maxDelayMs);
      this.timer.unref();
    }
  }

  get pending(): number {
    return this.buffer.length;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.store.logMetrics(this.rid, batch);
    } catch (e) {
      // Keep the points for the next flush rather than dropping them.
      this.buffer = batch.concat(this.buffer);
      throw e;
    }
  }

  close(): void {
    this.flush();
  }
}

// ---- helpers ------------------------------------------------------------------------------

/** Which metric a run list shows when none is configured: the first of these a run has, else its first. */
export const KEY_METRIC_PREFERENCE = ['val_accuracy', 'accuracy', 'acc', 'val_loss', 'loss'];

/**
 * A run search as SQL: space-separated terms, all must match. `status:S`, `kind:K`, `tag:T`,
 * `experiment:E`, `KEY=VALUE` (a parameter), anything else a case-insensitive substring of the
 * name, the experiment or a tag, or an id prefix.
 */
export function searchSql(text: string): { where: string[]; bind: Record<string, string> } {
  const where: string[] = [];
  const bind: Record<string, string> = {};
  text.trim().split(/\s+/).filter(Boolean).forEach((term, i) => {
    const n = `q${i}`;
    const field = /^(status|kind|tag|experiment):(.+)$/i.exec(term);
    const param = /^([^=:]+)=(.*)$/.exec(term);
    if (field) {
      const [, f, v] = field;
      bind[n] = v;
      const k = f.toLowerCase();
      if (k === 'status') where.push(`r.status = @${n}`);
      else if (k === 'kind') where.push(`r.kind = @${n}`);
      else if (k === 'tag') where.push(`EXISTS (SELECT 1 FROM tags t WHERE t.rid = r.rid AND t.tag = @${n})`);
      else where.push(`e.name = @${n}`);
    } else if (param) {
      bind[n] = param[1];
      bind[`${n}v`] = param[2];
      where.push(`EXISTS (SELECT 1 FROM params p WHERE p.rid = r.rid AND p.key = @${n} AND p.value = @${n}v)`);
    } else {
      bind[n] = `%${term.replace(/[\\%_]/g, '\\$&')}%`;
      bind[`${n}id`] = `${term.toLowerCase()}%`;
      where.push(
        `(r.name LIKE @${n} ESCAPE '\\' OR e.name LIKE @${n} ESCAPE '\\' OR r.id LIKE @${n}id OR EXISTS (SELECT 1 FROM tags t WHERE t.rid = r.rid AND t.tag LIKE @${n} ESCAPE '\\'))`,
      );
    }
  });
  return { where, bind };
}

function initialize(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw newerSchema(file, version);
  if (version < SCHEMA_VERSION) {
    // The id goes in while the file is still in rollback mode so it lands in the main file's
    // header at once (in WAL mode it could sit in the -wal file until a checkpoint).
    const migrate = db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number; // another process may have migrated meanwhile
      if (current === 0) db.pragma(`application_id = ${LABBOOK_APPLICATION_ID}`);
      for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
    migrate.immediate();
  }
  if ((db.pragma('journal_mode', { simple: true }) as string).toLowerCase() !== 'wal') db.pragma('journal_mode = WAL');
}

function assertNoForeignTables(file: string): void {
  // Read-only so a foreign database is not modified by the look.
  const db = new Database(file, { readonly: true, fileMustExist: true, nativeBinding: nativeBindingPath() });
  try {
    const n = (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (n > 0) throw notAStore(file, 'it is a SQLite database with tables that are not Labbook\'s');
  } catch (e) {
    if (e instanceof LabbookError) throw e;
    throw notAStore(file, (e as Error).message);
  } finally {
    db.close();
  }
}

function newerSchema(file: string, version: number): LabbookError {
  return new LabbookError(
    'NEWER_SCHEMA',
    `${file} was written by a newer Labbook (store schema v${version}; this Labbook reads up to v${SCHEMA_VERSION}). Update Labbook; the store was left untouched.`,
  );
}

function ensureWritableDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw notWritable(dir, e);
  }
}

function notWritable(p: string, cause: unknown): LabbookError {
  const code = errnoCode(cause) ?? (cause as { code?: string })?.code ?? 'EACCES';
  return new LabbookError('NOT_WRITABLE', `Cannot write the Labbook store: ${p} is not writable (${code}). Check the folder's permissions or open a writable workspace.`, { cause });
}

function translateOpenError(e: unknown, paths: StorePaths): unknown {
  if (e instanceof LabbookError) return e;
  const code = (e as { code?: string }).code ?? errnoCode(e) ?? '';
  if (code === 'SQLITE_NOTADB') return notAStore(paths.db, 'it is not a SQLite database');
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new LabbookError('STORE_CORRUPT', `The Labbook store ${paths.db} is damaged (${code}). Keep a copy; 'sqlite3 ${paths.db} .recover' can salvage it.`, { cause: e });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
    return notWritable(paths.dir, e);
  }
  return translateWriteError(e, paths);
}

function translateWriteError(e: unknown, paths: StorePaths): unknown {
  if (e instanceof LabbookError) return e;
  const code = (e as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_BUSY')) {
    return new LabbookError('STORE_BUSY', `The Labbook store ${paths.db} stayed busy for over ${BUSY_TIMEOUT_MS / 1000} s: another process holds a long write. Try again.`, { cause: e });
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN') return notWritable(paths.dir, e);
  if (code === 'SQLITE_FULL') return new LabbookError('NOT_WRITABLE', `The disk holding ${paths.db} is full.`, { cause: e });
  if (code.startsWith('SQLITE_CORRUPT')) return new LabbookError('STORE_CORRUPT', `The Labbook store ${paths.db} is damaged (${code}).`, { cause: e });
  return e;
}

function validatePoint(p: MetricPoint): void {
  if (typeof p.key !== 'string' || p.key.length === 0) throw new LabbookError('BAD_ARGUMENT', 'A metric needs a non-empty name.');
  if (typeof p.value !== 'number') throw new LabbookError('BAD_ARGUMENT', `Metric '${p.key}' got a value that is not a number.`);
  if (!Number.isInteger(p.step) || p.step < 0) throw new LabbookError('BAD_ARGUMENT', `Metric '${p.key}' got step ${p.step}; steps are integers ≥ 0.`);
}

function toSummary(r: Row, now: number): RunSummary {
  const started = r.started_at as number;
  const ended = (r.ended_at as number | null) ?? null;
  return {
    id: r.id as string,
    name: r.name as string,
    kind: r.kind as RunKind,
    status: r.status as RunStatus,
    experiment: (r.experiment as string | null) ?? null,
    startedAt: new Date(started).toISOString(),
    endedAt: ended === null ? null : new Date(ended).toISOString(),
    durationS: Math.max(0, ((ended ?? now) - started) / 1000),
    exitCode: (r.exit_code as number | null) ?? null,
    parentId: (r.parent_id as string | null) ?? null,
    command: (r.command as string | null) ?? null,
  };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

function writeIfMissing(file: string, content: string): void {
  try {
    fs.writeFileSync(file, content, { flag: 'wx' });
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw notWritable(path.dirname(file), e);
  }
}
