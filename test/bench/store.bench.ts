/**
 * npm run bench:store — the store's speed against the ceiling of the same SQLite on this machine.
 *
 * 1. Logging: N metric points through the store API (MetricWriter: buffered, batched
 *    transactions) vs. the ceiling, a raw better-sqlite3 prepared INSERT into the same table in
 *    ONE transaction. Alternated, 3 rounds each, medians.
 * 2. Comparison query on a store of 1,000 runs × 3 metrics × 1,000 steps (3M points, filled
 *    through the store API): list every run, then fetch the full series of 10 runs.
 * Last line: one JSON object of the figures.
 */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Store, storePaths } from '../../server/store/db';

const N = Number(process.env.BENCH_POINTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const STEPS = 1000;
const KEYS = ['loss', 'accuracy', 'lr'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tmp = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `labbook-bench-${tag}-`));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function ceiling(): number {
  const ws = tmp('ceiling');
  Store.open(ws, { create: true })!.close(); // same schema and pragmas as the store
  const db = new Database(storePaths(ws).db);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare('INSERT INTO metrics (rid, key, step, value, wall_time) VALUES (?, ?, ?, ?, ?)');
  const now = Date.now();
  const t0 = process.hrtime.bigint();
  db.transaction(() => {
    for (let i = 0; i < N; i++) insert.run(1, 'loss', i, i * 0.5, now + i);
  })();
  const t = ms(t0);
  db.close();
  fs.rmSync(ws, { recursive: true, force: true });
  return N / (t / 1000);
}

function storeApi(): number {
  const ws = tmp('api');
  const store = Store.open(ws, { create: true })!;
  const run = store.createRun({ name: 'bench', kind: 'training' });
  const now = Date.now();
  const t0 = process.hrtime.bigint();
  const w = store.metricWriter(run.id);
  for (let i = 0; i < N; i++) w.log('loss', i * 0.5, i, now + i);
  w.close();
  const t = ms(t0);
  const count = store.getRun(run.id).metrics[0].count;
  if (count !== N) throw new Error(`store kept ${count} of ${N} points`);
  store.close();
  fs.rmSync(ws, { recursive: true, force: true });
  return N / (t / 1000);
}

function compareQuery() {
  const ws = tmp('compare');
  let store = Store.open(ws, { create: true })!;
  const t0 = process.hrtime.bigint();
  const ids: string[] = [];
  const start = Date.now() - RUNS * 60_000;
  for (let r = 0; r < RUNS; r++) {
    const run = store.createRun({ name: `run-${r}`, kind: 'training', startedAt: start + r * 60_000 });
    store.logParams(run.id, { lr: 0.001 * (r % 10), seed: r }, 'cli');
    const pts = [];
    for (const key of KEYS) for (let s = 0; s < STEPS; s++) pts.push({ key, value: Math.exp(-s / 300) + r * 1e-4, step: s, wallTime: start + s });
    store.logMetrics(run.id, pts);
    store.endRun(run.id, 'finished', 0, start + r * 60_000 + 30_000);
    ids.push(run.id);
  }
  const fillS = ms(t0) / 1000;
  store.close();
  const pick = Array.from({ length: 10 }, (_, i) => ids[Math.floor((i * RUNS) / 10) + 3]);
  const once = (s: Store) => {
    const t = process.hrtime.bigint();
    const list = s.listRuns({ limit: 10_000 });
    if (list.runs.length !== RUNS) throw new Error(`listed ${list.runs.length} runs`);
    let points = 0;
    for (const id of pick) for (const series of s.metricSeries(id)) points += series.values.length;
    if (points !== 10 * KEYS.length * STEPS) throw new Error(`fetched ${points} points`);
    return ms(t);
  };
  store = Store.open(ws)!;
  const cold = once(store); // first query on a fresh connection (page cache of the OS still warm)
  const warm = median(Array.from({ length: 7 }, () => once(store)));
  const dbBytes = store.info().sizeBytes;
  store.close();
  fs.rmSync(ws, { recursive: true, force: true });
  return { fillPointsPerS: (RUNS * KEYS.length * STEPS) / fillS, cold, warm, dbBytes };
}

function main() {
  console.log(`store bench: ${N.toLocaleString()} points per logging round; ${RUNS} runs × ${KEYS.length} metrics × ${STEPS} steps for the query`);
  const api: number[] = [];
  const ceil: number[] = [];
  for (let round = 0; round < 3; round++) {
    ceil.push(ceiling());
    api.push(storeApi());
    console.log(`  round ${round + 1}: ceiling ${Math.round(ceil[round]).toLocaleString()} pts/s · store API ${Math.round(api[round]).toLocaleString()} pts/s`);
  }
  const pointsPerS = median(api);
  const ceilingPerS = median(ceil);
  const ratio = pointsPerS / ceilingPerS;
  console.log(`logging: store API ${Math.round(pointsPerS).toLocaleString()} pts/s = ${ratio.toFixed(2)}× the raw single-transaction ceiling (${Math.round(ceilingPerS).toLocaleString()} pts/s); goal ≥ 0.5× and ≥ 200,000 pts/s: ${ratio >= 0.5 && pointsPerS >= 200_000 ? 'met' : 'MISSED'}`);
  const q = compareQuery();
  console.log(`fill: ${Math.round(q.fillPointsPerS).toLocaleString()} pts/s through logMetrics (one transaction per run), store ${(q.dbBytes / 2 ** 20).toFixed(1)} MiB`);
  console.log(`compare query (list ${RUNS} runs + full series of 10 runs): ${q.warm.toFixed(1)} ms warm (median of 7), ${q.cold.toFixed(1)} ms on a fresh connection; goal < 150 ms: ${q.warm < 150 && q.cold < 150 ? 'met' : 'MISSED'}`);
  console.log(
    JSON.stringify({
      bench: 'store',
      points: N,
      points_per_s: Math.round(pointsPerS),
      ceiling_points_per_s: Math.round(ceilingPerS),
      ratio_to_ceiling: Number(ratio.toFixed(3)),
      fill_points_per_s: Math.round(q.fillPointsPerS),
      compare_query_ms: Number(q.warm.toFixed(2)),
      compare_query_cold_ms: Number(q.cold.toFixed(2)),
      store_mib: Number((q.dbBytes / 2 ** 20).toFixed(1)),
      node: process.version,
    }),
  );
}

main();
