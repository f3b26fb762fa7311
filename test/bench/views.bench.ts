/**
 * npm run bench:views — how fast the views get their data and draw it.
 *
 * 1. Request → data ready, through the real server bundle (dist/server.js over JSON-RPC stdio,
 *    as VS Code talks to it), on a store of 1,000 runs × 3 metrics × 1,000 steps:
 *    - the Runs tree's request (all 1,000 runs with key metric, source, tags), against the
 *      anchor of the plain run list over the same connection and the raw SQL floor in-process;
 *    - the Compare view's request for 10 runs (params, summaries, 30,000 points).
 * 2. Chart render in chromium (the Compare bundle under its CSP): 10 runs × 100,000 points from
 *    the message posted to the page to the charts drawn, with LTTB downsampling (the default,
 *    2,000 points a curve) against the anchor of drawing every raw point, same page, same data.
 * Medians of several rounds. Last line: one JSON object of the figures.
 */
import Database from 'better-sqlite3';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { CompareRunsRequest, ListRunsRequest } from '../../server/protocol/requests';
import { Store, storePaths } from '../../server/store/db';
import { ROOT, WebviewPages } from '../fixtures/webviewPage';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const STEPS = 1000;
const KEYS = ['loss', 'accuracy', 'lr'];
const CHART_RUNS = 10;
const CHART_POINTS = Number(process.env.BENCH_CHART_POINTS ?? 100_000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function fill(ws: string): string[] {
  const store = Store.open(ws, { create: true })!;
  const ids: string[] = [];
  const start = Date.now() - RUNS * 60_000;
  try {
    for (let r = 0; r < RUNS; r++) {
      const run = store.createRun({ name: `run-${r}`, kind: 'training', experiment: `exp-${r % 7}`, startedAt: start + r * 60_000 });
      store.logParams(run.id, { lr: 0.001 * (r % 10), seed: r, model: r % 2 ? 'cnn' : 'mlp' }, 'cli');
      if (r % 10 === 0) store.addTag(run.id, 'sweep');
      const pts = [];
      for (const key of KEYS) for (let s = 0; s < STEPS; s++) pts.push({ key, value: Math.exp(-s / 300) + r * 1e-4, step: s, wallTime: start + s });
      store.logMetrics(run.id, pts);
      store.endRun(run.id, 'finished', 0, start + r * 60_000 + 30_000);
      ids.push(run.id);
    }
  } finally {
    store.close();
  }
  return ids;
}

async function dataReady(ws: string, ids: string[]) {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { workspace: ws, watchIntervalMs: 60_000 } });
  conn.sendNotification('initialized', {});
  const time = async (fn: () => Promise<number>, expect: number) => {
    const t0 = process.hrtime.bigint();
    const n = await fn();
    if (n !== expect) throw new Error(`got ${n}, expected ${expect}`);
    return ms(t0);
  };
  const tree = () => time(async () => (await conn.sendRequest(ListRunsRequest, { limit: 1000, keyMetric: '' })).runs.filter((r) => r.keyMetric).length, Math.min(RUNS, 1000));
  const plain = () => time(async () => (await conn.sendRequest(ListRunsRequest, { limit: 1000 })).runs.length, Math.min(RUNS, 1000));
  const pick = Array.from({ length: 10 }, (_, i) => ids[Math.floor((i * RUNS) / 10) + 3]);
  const compare = () => time(async () => (await conn.sendRequest(CompareRunsRequest, { ids: pick })).runs.reduce((a, r) => a + r.series.reduce((b, s) => b + s.steps.length, 0), 0), 10 * KEYS.length * STEPS);
  const treeCold = await tree();
  const r = { treeCold, tree: [] as number[], plain: [] as number[], compare: [] as number[] };
  for (let i = 0; i < 7; i++) {
    r.plain.push(await plain());
    r.tree.push(await tree());
    r.compare.push(await compare());
  }
  await conn.sendRequest('shutdown');
  conn.sendNotification('exit');
  conn.dispose();
  // The floor: the same rows straight from SQLite in this process, no protocol.
  const db = new Database(storePaths(ws).db, { readonly: true });
  const sql = db.prepare('SELECT r.*, e.name AS experiment FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id ORDER BY r.started_at DESC LIMIT 1000');
  const raw = median(Array.from({ length: 7 }, () => {
    const t0 = process.hrtime.bigint();
    sql.all();
    return ms(t0);
  }));
  db.close();
  return { treeCold: r.treeCold, tree: median(r.tree), plain: median(r.plain), compare: median(r.compare), raw };
}

async function chartRender() {
  const pages = new WebviewPages();
  await pages.start();
  try {
    const view = await pages.open('compare', { width: 1200, height: 900 });
    // A second page whose saved state has the smoothing slider at 0.6 (as a user left it).
    const smoothView = await pages.open('compare', { width: 1200, height: 900, state: { ui: { smoothing: 0.6 }, ids: [] } });
    await view.p.waitForSelector('.empty-title');
    await smoothView.p.waitForSelector('.empty-title');
    // The data is made inside the page (sending 3 M numbers through the test driver would
    // dominate); the timed part is the webview's own: message in → everything drawn.
    const round = (page: typeof view, chartPoints: number) =>
      page.p.evaluate(
        async ([runs, n, cp]) => {
          const series = (r: number) => {
            // As the extension posts them: Float64Arrays.
            const steps = new Float64Array(n);
            const values = new Float64Array(n);
            const wallTimes = new Float64Array(n);
            for (let i = 0; i < n; i++) {
              steps[i] = i;
              values[i] = Math.exp(-i / (n / 5)) * (1 + 0.1 * r) + 0.05 * Math.sin(i / 50 + r) + 0.02 * Math.sin(i * 1.3);
              wallTimes[i] = 1_700_000_000_000 + i * 10;
            }
            return { key: 'loss', steps, values, wallTimes };
          };
          const data = {
            directions: { loss: 'min' },
            runs: Array.from({ length: runs }, (_, r) => ({
              id: `run${r}`.padEnd(8, '0'), name: `run-${r}`, kind: 'training', status: 'finished', experiment: null, startedAt: '2026-01-01T00:00:00Z', durationS: 1, tags: [],
              params: { lr: String(0.001 * (r + 1)), model: r % 2 ? 'cnn' : 'mlp' },
              metrics: [{ key: 'loss', last: 0, lastStep: n - 1, min: 0, max: 1, best: 0, bestStep: n - 1, count: n }],
              series: [series(r)], inputs: [], environment: null, code: [],
            })),
          };
          const w = window as unknown as { __posted: { type: string; ms?: number }[] };
          const before = w.__posted.length;
          const t0 = performance.now();
          window.postMessage({ type: 'compare/show', ids: data.runs.map((r) => r.id), data, storeRunCount: -1, options: { chartPoints: cp, where: 'editor', canDiffCode: false } }, '*');
          while (!w.__posted.slice(before).some((m) => m.type === 'compare/rendered')) await new Promise((r) => setTimeout(r, 1));
          const rendered = w.__posted.slice(before).find((m) => m.type === 'compare/rendered') as unknown as { ms: number; points: number };
          return { total: performance.now() - t0, render: rendered.ms, points: rendered.points };
        },
        [CHART_RUNS, CHART_POINTS, chartPoints] as const,
      );
    const down: { total: number; render: number; points: number }[] = [];
    const raw: { total: number; render: number; points: number }[] = [];
    const smoothed: { total: number; render: number; points: number }[] = [];
    await round(view, 2000); // warm-up: JIT, fonts
    await round(smoothView, 2000);
    for (let i = 0; i < 3; i++) {
      down.push(await round(view, 2000));
      raw.push(await round(view, 0));
      smoothed.push(await round(smoothView, 2000));
    }
    return {
      downRender: median(down.map((d) => d.render)),
      rawRender: median(raw.map((d) => d.render)),
      down: median(down.map((d) => d.total)),
      downPoints: down[0].points,
      raw: median(raw.map((d) => d.total)),
      rawPoints: raw[0].points,
      smoothed: median(smoothed.map((d) => d.total)),
    };
  } finally {
    await pages.stop();
  }
}

async function main() {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-bench-views-'));
  try {
    console.log(`views bench: ${RUNS} runs × ${KEYS.length} metrics × ${STEPS} steps in the store; charts of ${CHART_RUNS} runs × ${CHART_POINTS.toLocaleString()} points`);
    const t0 = process.hrtime.bigint();
    const ids = fill(ws);
    console.log(`  filled the store in ${(ms(t0) / 1000).toFixed(1)} s`);
    const d = await dataReady(ws, ids);
    console.log(`Runs tree request (${RUNS} runs with key metric, source, tags) → data ready: ${d.tree.toFixed(1)} ms (median of 7; first ${d.treeCold.toFixed(1)} ms); goal < 150 ms: ${d.tree < 150 && d.treeCold < 150 ? 'met' : 'MISSED'}`);
    console.log(`  anchors: plain list over the same connection ${d.plain.toFixed(1)} ms (${(d.tree / d.plain).toFixed(2)}×), raw SQL in-process ${d.raw.toFixed(1)} ms (${(d.tree / d.raw).toFixed(1)}×)`);
    console.log(`Compare request (10 runs, ${(10 * KEYS.length * STEPS).toLocaleString()} points) → data ready: ${d.compare.toFixed(1)} ms (median of 7); goal < 150 ms: ${d.compare < 150 ? 'met' : 'MISSED'}`);
    const c = await chartRender();
    console.log(`Chart render, ${CHART_RUNS} × ${CHART_POINTS.toLocaleString()} points, message → drawn: ${c.down.toFixed(0)} ms with LTTB (${c.downPoints.toLocaleString()} points drawn); goal < 500 ms: ${c.down < 500 ? 'met' : 'MISSED'}`);
    console.log(`  of which drawing (tables, LTTB, charts): ${c.downRender.toFixed(0)} ms with LTTB, ${c.rawRender.toFixed(0)} ms raw; the rest is the message and the page's saved state`);
    console.log(`  anchor: every raw point drawn (${c.rawPoints.toLocaleString()}) ${c.raw.toFixed(0)} ms → downsampling is ${(c.raw / c.down).toFixed(1)}× faster; with smoothing 0.6 as well: ${c.smoothed.toFixed(0)} ms`);
    console.log(
      JSON.stringify({
        bench: 'views',
        runs: RUNS,
        tree_request_ms: Number(d.tree.toFixed(1)),
        tree_request_first_ms: Number(d.treeCold.toFixed(1)),
        plain_list_ms: Number(d.plain.toFixed(1)),
        raw_sql_ms: Number(d.raw.toFixed(2)),
        tree_vs_plain_list: Number((d.tree / d.plain).toFixed(2)),
        compare_request_ms: Number(d.compare.toFixed(1)),
        chart_runs: CHART_RUNS,
        chart_points_per_run: CHART_POINTS,
        chart_render_lttb_ms: Math.round(c.down),
        chart_render_raw_ms: Math.round(c.raw),
        chart_render_smoothed_ms: Math.round(c.smoothed),
        lttb_speedup: Number((c.raw / c.down).toFixed(2)),
        goal_tree_ms: 150,
        goal_chart_ms: 500,
        met: d.tree < 150 && d.treeCold < 150 && c.down < 500,
      }),
    );
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
