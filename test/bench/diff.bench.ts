/**
 * npm run bench:diff — Labbook's notebook diff against nbdime on the same generated pairs, side
 * by side in the same run: `node dist/cli.js diff A B --json` vs `python3 -m nbdime diff A B
 * --out diff.json` (nbdime's full diff computation with its JSON written, no terminal rendering).
 * Each is its own process, timed from spawn to exit, peak RSS from GNU time (the largest process
 * of its tree); alternated, medians. nbdime gets a time limit and an address-space cap, reported
 * as lower bounds ("> T s") when it hits them. Labbook's result is checked against the edits the
 * generator made. Last line: one JSON object of figures.
 *
 * Env: NBDIME_PATH (an nbdime source tree; default /work/anchors/nbdime), NBDIME_PYTHON
 * (default /usr/bin/python3), BENCH_PAIRS (default small,medium,nbdime540,large,large-ids),
 * BENCH_ROUNDS (rounds per pair instead of the defaults), BENCH_NBDIME_TIMEOUT_S (600),
 * BENCH_NBDIME_MEM_CAP_MB (8192), BENCH_DIFF_DIR (where the pairs are written; kept).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PAIRS, Truth, WrittenPair, writePair } from './nbgen';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const NBDIME = path.resolve(process.env.NBDIME_PATH || '/work/anchors/nbdime');
const PY = process.env.NBDIME_PYTHON || '/usr/bin/python3';
const DIR = path.resolve(process.env.BENCH_DIFF_DIR || path.join(os.tmpdir(), 'labbook-bench-diff'));
const NAMES = (process.env.BENCH_PAIRS || 'small,medium,nbdime540,large,large-ids').split(',').map((s) => s.trim()).filter(Boolean);
const TIMEOUT_S = Number(process.env.BENCH_NBDIME_TIMEOUT_S || 600);
const MEM_CAP_MB = Number(process.env.BENCH_NBDIME_MEM_CAP_MB || 8192);
const GNU_TIME = '/usr/bin/time';
const PRLIMIT = '/usr/bin/prlimit';
/** Rounds per pair (Labbook, nbdime): fewer where nbdime takes minutes. */
const ROUNDS: Record<string, [number, number]> = { small: [7, 7], medium: [5, 3], nbdime540: [5, 3], large: [3, 1], 'large-ids': [3, 1] };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

interface Measured { ms: number; rssMb: number | null; code: number | null; signal: string | null; timedOut: boolean; stderr: string }

/** Runs one process under GNU time; on the time limit kills the measured process (not time), so its peak RSS so far still comes back. */
function measure(cmd: string, args: string[], opts: { cwd: string; stdoutFile: string; timeoutS: number; env?: NodeJS.ProcessEnv }): Promise<Measured> {
  const rssFile = path.join(os.tmpdir(), `labbook-bench-diff-rss-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  const haveTime = fs.existsSync(GNU_TIME);
  const out = fs.openSync(opts.stdoutFile, 'w');
  const t0 = process.hrtime.bigint();
  const child = haveTime
    ? spawn(GNU_TIME, ['-f', '%M', '-o', rssFile, cmd, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, 'pipe'] })
    : spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, 'pipe'] });
  fs.closeSync(out);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 20_000) stderr += d.toString(); });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    const pid = child.pid!;
    const victims = haveTime ? fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [pid];
    for (const v of victims) try { process.kill(v, 'SIGKILL'); } catch { /* already gone */ }
  }, opts.timeoutS * 1000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      let rssMb: number | null = null;
      if (haveTime && fs.existsSync(rssFile)) {
        const last = fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()!;
        if (/^\d+$/.test(last)) rssMb = Number(last) / 1024; // GNU time exits with the command's status
      }
      resolve({ ms, rssMb, code, signal, timedOut, stderr });
    });
  });
}

// ---------------------------------------------------------------- reading results

interface LabbookCell { op: string; a: number | null; b: number | null }
interface LabbookDiff { summary: Record<string, number>; cells: LabbookCell[] }

function checkLabbook(file: string, truth: Truth): { ok: boolean; notes: string[]; summary?: Record<string, number> } {
  let d: LabbookDiff;
  try {
    d = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { ok: false, notes: [`output is not JSON: ${(e as Error).message}`] };
  }
  if (!d || typeof d.summary !== 'object' || !Array.isArray(d.cells)) return { ok: false, notes: ['output lacks summary/cells'] };
  const notes: string[] = [];
  for (const k of Object.keys(truth.summary) as Array<keyof Truth['summary']>) {
    if (d.summary[k] !== truth.summary[k]) notes.push(`${k} ${d.summary[k]} (expected ${truth.summary[k]})`);
  }
  const counted: Record<string, number> = {};
  for (const c of d.cells) counted[c.op] = (counted[c.op] ?? 0) + 1;
  for (const [k, v] of Object.entries(d.summary)) if ((counted[k] ?? 0) !== v) notes.push(`summary.${k}=${v} but ${counted[k] ?? 0} cells say ${k}`);
  const want = new Set(truth.moved.map(([a, b]) => `${a}→${b}`));
  const got = new Set(d.cells.filter((c) => c.op === 'moved').map((c) => `${c.a}→${c.b}`));
  const missed = [...want].filter((m) => !got.has(m));
  const extra = [...got].filter((m) => !want.has(m));
  if (missed.length) notes.push(`moves missed (A→B index): ${missed.slice(0, 5).join(', ')}${missed.length > 5 ? ` … ${missed.length}` : ''}`);
  if (extra.length) notes.push(`moves reported where the generator made none (A→B index): ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` … ${extra.length}` : ''}`);
  return { ok: notes.length === 0, notes, summary: d.summary };
}

type NbdimeOp = { op: string; key: string | number; diff?: NbdimeOp[]; valuelist?: unknown[]; length?: number };

/** nbdime's cell-level view: added/removed ranges, and patched cells split into content changes and execution-count/metadata/id churn. */
function readNbdime(file: string): { added: number; removed: number; patched: number; content: number } | null {
  let d: NbdimeOp[];
  try { d = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return null; }
  const cells = d.find((e) => e.key === 'cells')?.diff ?? [];
  const churn = new Set(['execution_count', 'metadata', 'id']);
  const touchesContent = (ops: NbdimeOp[] | undefined): boolean =>
    (ops ?? []).some((o) => !churn.has(String(o.key)) && (o.op !== 'patch' || touchesContent(o.diff)));
  const r = { added: 0, removed: 0, patched: 0, content: 0 };
  for (const e of cells) {
    if (e.op === 'addrange') r.added += e.valuelist?.length ?? 0;
    else if (e.op === 'removerange') r.removed += e.length ?? 0;
    else if (e.op === 'patch') { r.patched++; if (touchesContent(e.diff)) r.content++; }
  }
  return r;
}

// ---------------------------------------------------------------- the run

function nbdimeVersion(): string | null {
  if (!fs.existsSync(path.join(NBDIME, 'nbdime', '__init__.py'))) return null;
  const r = spawnSync(PY, ['-c', 'import nbdime, nbformat, colorama, git, sys; print(nbdime.__version__)'], {
    env: { ...process.env, PYTHONPATH: NBDIME }, encoding: 'utf8',
  });
  if (r.status !== 0) {
    console.log(`nbdime at ${NBDIME} does not import with ${PY}:\n${String(r.stderr).trim().split('\n').slice(-2).join('\n')}`);
    return null;
  }
  return String(r.stdout).trim();
}

interface Row {
  pair: WrittenPair;
  labbook: Measured[];
  nbdime: Measured[];
  labbookError?: string;
  nbdimeError?: string;
  check?: ReturnType<typeof checkLabbook>;
  nbdimeCells?: ReturnType<typeof readNbdime>;
}

async function benchPair(pair: WrittenPair, withNbdime: boolean): Promise<Row> {
  const dir = path.dirname(pair.a);
  const [lr, nr] = process.env.BENCH_ROUNDS ? [Number(process.env.BENCH_ROUNDS), Number(process.env.BENCH_ROUNDS)] : ROUNDS[pair.name] ?? [3, 1];
  const row: Row = { pair, labbook: [], nbdime: [] };
  const labbookOut = path.join(dir, 'labbook.json');
  const nbdimeOut = path.join(dir, 'nbdime.json');
  const nbdimeCmd: [string, string[]] = fs.existsSync(PRLIMIT)
    ? [PRLIMIT, [`--as=${MEM_CAP_MB * 1024 * 1024}`, PY, '-m', 'nbdime', 'diff', pair.a, pair.b, '--out', nbdimeOut]]
    : [PY, ['-m', 'nbdime', 'diff', pair.a, pair.b, '--out', nbdimeOut]];
  const nbdimeEnv = { ...process.env, PYTHONPATH: NBDIME };
  fs.readFileSync(pair.a); fs.readFileSync(pair.b); // both start from the page cache

  const runLabbook = async () => {
    if (row.labbookError) return;
    const m = await measure(process.execPath, [CLI, 'diff', pair.a, pair.b, '--json'], { cwd: dir, stdoutFile: labbookOut, timeoutS: TIMEOUT_S });
    if (m.code !== 0 || m.timedOut) {
      row.labbookError = m.timedOut ? `no result in ${TIMEOUT_S} s` : `exit ${m.code ?? m.signal}: ${m.stderr.trim().split('\n').slice(-3).join(' | ') || '(no message)'}`;
      return;
    }
    row.labbook.push(m);
    if (!row.check) row.check = checkLabbook(labbookOut, pair.truth);
  };
  const runNbdime = async () => {
    if (!withNbdime || row.nbdimeError || row.nbdime.length >= nr || row.nbdime.some((m) => m.timedOut)) return;
    const m = await measure(nbdimeCmd[0], nbdimeCmd[1], { cwd: dir, stdoutFile: path.join(dir, 'nbdime.stdout'), timeoutS: TIMEOUT_S, env: nbdimeEnv });
    if (!m.timedOut && m.code !== 0) {
      const oom = /MemoryError/.test(m.stderr);
      if (oom) { m.timedOut = true; row.nbdime.push(m); row.nbdimeError = `MemoryError under the ${MEM_CAP_MB} MB address-space cap after ${(m.ms / 1000).toFixed(0)} s`; return; }
      row.nbdimeError = `exit ${m.code ?? m.signal}: ${m.stderr.trim().split('\n').slice(-2).join(' | ')}`;
      return;
    }
    row.nbdime.push(m);
    if (!m.timedOut && !row.nbdimeCells) row.nbdimeCells = readNbdime(nbdimeOut);
  };
  for (let r = 0; r < Math.max(lr, nr); r++) {
    // Alternate who goes first so drift on a shared machine falls on both.
    const first = r % 2 === 0 ? runLabbook : runNbdime;
    const second = r % 2 === 0 ? runNbdime : runLabbook;
    if (r < (first === runLabbook ? lr : nr)) await first();
    if (r < (second === runLabbook ? lr : nr)) await second();
    process.stderr.write(`  ${pair.name}: round ${r + 1} done\n`);
  }
  return row;
}

async function main() {
  const unknown = NAMES.filter((n) => !PAIRS[n]);
  if (unknown.length) { console.error(`unknown pair(s): ${unknown.join(', ')}; known: ${Object.keys(PAIRS).join(', ')}`); process.exit(2); }
  if (!fs.existsSync(CLI)) { console.error(`${CLI} is missing: run node scripts/build.mjs first`); process.exit(1); }
  const version = nbdimeVersion();
  if (!version) {
    console.log([
      `nbdime not found at ${NBDIME} (NBDIME_PATH): measuring Labbook only.`,
      'To get it: a snapshot of https://github.com/jupyter/nbdime unpacked outside this repository, e.g.',
      '  git clone --depth 1 https://github.com/jupyter/nbdime /work/anchors/nbdime',
      '  apt-get install -y python3-nbformat python3-tornado python3-git python3-jinja2 python3-colorama python3-pygments python3-requests',
      `then NBDIME_PATH=/work/anchors/nbdime npm run bench:diff (it runs from source with PYTHONPATH on ${PY}).`,
    ].join('\n'));
  }
  const nbdimeDesc = version ? `nbdime ${version}: PYTHONPATH=${NBDIME} ${PY} -m nbdime diff A B --out diff.json (full diff: sources, outputs, attachments, metadata, ids; JSON written, no terminal rendering), address space capped at ${MEM_CAP_MB} MB` : 'nbdime: not run';
  console.log(`diff bench · pairs in ${DIR} · Labbook: node dist/cli.js diff A B --json · ${nbdimeDesc} · time limit ${TIMEOUT_S} s`);
  if (!fs.existsSync(GNU_TIME)) console.log('GNU time (/usr/bin/time, Debian package `time`) is missing: peak memory not measured.');

  // What any Labbook command pays before diffing: Node start and loading the CLI bundle.
  const starts: number[] = [];
  for (let k = 0; k < 5; k++) starts.push((await measure(process.execPath, [CLI, '--version'], { cwd: os.tmpdir(), stdoutFile: '/dev/null', timeoutS: 60 })).ms);
  const cliStartMs = median(starts);

  const rows: Row[] = [];
  for (const name of NAMES) {
    const t0 = Date.now();
    const pair = writePair(DIR, PAIRS[name]);
    process.stderr.write(`${name}: ${pair.cells} cells, A ${mb(pair.aBytes)} MB / B ${mb(pair.bBytes)} MB written in ${Date.now() - t0} ms\n`);
    rows.push(await benchPair(pair, !!version));
  }

  const figures: Record<string, unknown> = {};
  const table: string[][] = [['pair', 'cells', 'A / B MB', 'Labbook ms', 'nbdime ms', 'speedup', 'Labbook MB', 'nbdime MB', 'memory ratio', 'rounds L/N']];
  const notes: string[] = [];
  for (const row of rows) {
    const { pair } = row;
    const lms = row.labbook.length ? median(row.labbook.map((m) => m.ms)) : null;
    const nTimed = row.nbdime.some((m) => m.timedOut);
    const nms = row.nbdime.length ? (nTimed ? Math.max(...row.nbdime.map((m) => m.ms)) : median(row.nbdime.map((m) => m.ms))) : null;
    const lrss = row.labbook.length && row.labbook[0].rssMb !== null ? median(row.labbook.map((m) => m.rssMb!)) : null;
    const nrssAll = row.nbdime.map((m) => m.rssMb).filter((x): x is number => x !== null);
    const nrss = nrssAll.length ? (nTimed ? Math.max(...nrssAll) : median(nrssAll)) : null;
    const speedup = lms && nms ? nms / lms : null;
    const memRatio = lrss && nrss ? lrss / nrss : null;
    const lb = nTimed ? '> ' : '';
    table.push([
      pair.name, String(pair.cells), `${mb(pair.aBytes)} / ${mb(pair.bBytes)}`,
      lms !== null ? lms.toFixed(0) : 'error',
      nms !== null ? `${lb}${nms.toFixed(0)}` : (row.nbdimeError ? 'error' : '—'),
      speedup !== null ? `${nTimed ? '≥ ' : ''}${speedup.toFixed(1)}×` : '—',
      lrss !== null ? lrss.toFixed(0) : '—',
      nrss !== null ? `${lb}${nrss.toFixed(0)}` : '—',
      memRatio !== null ? `${nTimed ? '≤ ' : ''}${memRatio.toFixed(2)}` : '—',
      `${row.labbook.length}/${row.nbdime.length}`,
    ]);
    if (row.labbookError) notes.push(`${pair.name}: Labbook FAILED: ${row.labbookError}\n    reproduce: node dist/cli.js diff ${pair.a} ${pair.b} --json`);
    if (row.check) {
      notes.push(`${pair.name}: Labbook vs the generator's edits: ${row.check.ok ? 'all match' : 'MISMATCH — ' + row.check.notes.join('; ')}` +
        ` (expected ${JSON.stringify(pair.truth.summary)}; ${pair.truth.execCountOnly} execution-count-only and ${pair.truth.metadataOnly} metadata-only cells count as unchanged; ${pair.truth.imagesChanged} images changed)`);
    }
    if (row.nbdimeError) notes.push(`${pair.name}: nbdime: ${row.nbdimeError}`);
    else if (nTimed) notes.push(`${pair.name}: nbdime gave no result within ${TIMEOUT_S} s (killed; its time and peak memory are lower bounds)`);
    if (row.nbdimeCells) {
      const c = row.nbdimeCells;
      notes.push(`${pair.name}: nbdime's cells: +${c.added} −${c.removed}, ${c.patched} patched of which ${c.content} in source/outputs (it has no moves: a move is a removal and an addition)`);
    }
    figures[pair.name] = {
      cells: pair.cells, a_mb: Number(mb(pair.aBytes)), b_mb: Number(mb(pair.bBytes)),
      labbook_ms: lms !== null ? Math.round(lms) : null,
      nbdime_ms: nms !== null ? Math.round(nms) : null,
      nbdime_timed_out: nTimed,
      speedup: speedup !== null ? Number(speedup.toFixed(1)) : null,
      labbook_rss_mb: lrss !== null ? Math.round(lrss) : null,
      nbdime_rss_mb: nrss !== null ? Math.round(nrss) : null,
      memory_ratio: memRatio !== null ? Number(memRatio.toFixed(3)) : null,
      rounds: [row.labbook.length, row.nbdime.length],
      labbook_matches_truth: row.check ? row.check.ok : null,
      ...(row.check && !row.check.ok ? { labbook_mismatch: row.check.notes.join('; ') } : {}),
      ...(row.labbookError ? { labbook_error: row.labbookError } : {}),
    };
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const r of table) console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  console.log(`Labbook's times include starting the CLI (node dist/cli.js --version: ${cliStartMs.toFixed(0)} ms); nbdime's include starting Python.`);
  for (const n of notes) console.log(n);
  // Issue 4's goal, on both large pairs: without cell ids (content matching, nbdime's slow case)
  // and with them (nbformat 4.5, what Jupyter writes today; nbdime matches by id first).
  type Fig = { speedup: number | null; memory_ratio: number | null; nbdime_timed_out: boolean };
  const goal: Record<string, unknown> = { speedup_min: 50, memory_ratio_max: 0.1 };
  for (const name of ['large', 'large-ids']) {
    const f = figures[name] as Fig | undefined;
    if (!f) continue;
    const speedupMet = f.speedup !== null ? f.speedup >= 50 : null;
    const memoryMet = f.memory_ratio !== null ? f.memory_ratio <= 0.1 : null;
    goal[name] = { speedup_met: speedupMet, memory_met: memoryMet };
    const say = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met' : 'MISSED');
    console.log(`goal on the ${name} pair: ≥ 50× faster: ${say(speedupMet)} · ≤ 1/10 memory: ${say(memoryMet)}`);
  }
  console.log(JSON.stringify({ bench: 'diff', nbdime: version, timeout_s: TIMEOUT_S, labbook_cli_start_ms: Math.round(cliStartMs), pairs: figures, goal }));
}

main().catch((e) => { console.error(e); process.exit(1); });
