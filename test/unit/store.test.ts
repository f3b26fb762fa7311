import Database from 'better-sqlite3';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { LabbookError } from '../../server/core/errors';
import { Store, storePaths } from '../../server/store/db';
import { LABBOOK_APPLICATION_ID } from '../../server/store/header';
import { SCHEMA_VERSION } from '../../server/store/migrations';
import { FIXTURES, isRoot, seedWorkspace, sha256File, startWriter, tempWorkspace } from './helpers';

function open(ws: string): Store {
  const s = Store.open(ws, { create: true });
  assert.ok(s);
  return s;
}

function expectCode(fn: () => unknown, code: string, message?: RegExp): LabbookError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LabbookError, `expected a LabbookError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('store: creation and migrations', () => {
  it('creates the whole schema, marked as Labbook, in WAL mode, git-ignored', () => {
    const ws = tempWorkspace();
    open(ws).close();
    const p = storePaths(ws);
    const db = new Database(p.db, { readonly: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(tables, ['artifacts', 'blobs', 'code', 'deployments', 'environments', 'executions', 'experiments', 'hash_cache', 'inputs', 'metrics', 'models', 'params', 'predictions', 'runs', 'tags']);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('application_id', { simple: true }), LABBOOK_APPLICATION_ID);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    assert.equal(fs.readFileSync(path.join(p.dir, '.gitignore'), 'utf8').trim().split('\n').pop(), '*');
  });

  it('creates nothing when asked only to read', () => {
    const ws = tempWorkspace();
    assert.equal(Store.open(ws, { create: false }), null);
    assert.equal(fs.existsSync(path.join(ws, '.labbook')), false);
  });

  it('migrates an empty, unversioned database file and keeps data on reopen', () => {
    const ws = tempWorkspace();
    const p = storePaths(ws);
    fs.mkdirSync(p.dir);
    fs.writeFileSync(p.db, ''); // a zero-byte file is an empty SQLite database
    const s = open(ws);
    const run = s.createRun({ name: 'a', kind: 'script' });
    s.close();
    const again = open(ws);
    assert.equal(again.getRun(run.id).name, 'a');
    assert.equal(again.info().schemaVersion, SCHEMA_VERSION);
    again.close();
  });

  it('refuses a store written by a newer Labbook and leaves it untouched', () => {
    const ws = tempWorkspace();
    open(ws).close();
    const p = storePaths(ws);
    const db = new Database(p.db);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = sha256File(p.db);
    expectCode(() => Store.open(ws), 'NEWER_SCHEMA', new RegExp(`schema v${SCHEMA_VERSION + 1}.*Update Labbook`));
    assert.equal(sha256File(p.db), before);
  });
});

describe('store: a file that is not a Labbook store', () => {
  const cases: Array<[string, (file: string) => void, RegExp]> = [
    ['a text file', (f) => fs.writeFileSync(f, 'these are my notes, not a database\n'.repeat(20)), /not a SQLite database/],
    ['a short binary file', (f) => fs.writeFileSync(f, Buffer.from([0, 1, 2, 3, 255])), /not a SQLite database/],
    [
      "another application's SQLite database",
      (f) => {
        const db = new Database(f);
        db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES (\'ada\')');
        db.close();
      },
      /tables that are not Labbook's/,
    ],
    [
      'a SQLite database with a foreign application id',
      (f) => {
        const db = new Database(f);
        db.pragma('application_id = 1234');
        db.exec('CREATE TABLE t (x)');
        db.close();
      },
      /another application/,
    ],
  ];
  for (const [what, make, why] of cases) {
    it(`${what}: clear error, file untouched, nothing created beside it`, () => {
      const ws = tempWorkspace();
      const p = storePaths(ws);
      fs.mkdirSync(p.dir);
      make(p.db);
      const before = sha256File(p.db);
      const listing = fs.readdirSync(p.dir).sort();
      const e = expectCode(() => Store.open(ws, { create: true }), 'NOT_A_STORE', why);
      assert.ok(e.message.includes(p.db), 'names the file');
      assert.match(e.message, /left it untouched/);
      assert.equal(sha256File(p.db), before);
      assert.deepEqual(fs.readdirSync(p.dir).sort(), listing);
    });
  }

  it('a damaged Labbook store: clear STORE_CORRUPT error with a way to salvage it', () => {
    const ws = tempWorkspace();
    seedWorkspace(ws, ['--runs', '5', '--steps', '200']);
    const p = storePaths(ws);
    const bytes = fs.readFileSync(p.db);
    // Keep the header (it is ours) but overwrite the pages after it with garbage.
    for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    fs.writeFileSync(p.db, bytes);
    const before = sha256File(p.db);
    let err: unknown;
    try {
      const s = Store.open(ws);
      s?.listRuns();
      s?.close();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof LabbookError, `a LabbookError, got ${String(err)}`);
    assert.ok(['STORE_CORRUPT', 'NOT_A_STORE'].includes(err.code), err.code);
    assert.ok(err.message.includes(p.db));
    assert.equal(sha256File(p.db), before);
  });
});

describe('store: runs', () => {
  it('lists runs paged and sorted, and finds them by id, prefix or name', () => {
    const ws = tempWorkspace();
    const ids = seedWorkspace(ws, ['--runs', '7']);
    const s = open(ws);
    const all = s.listRuns({ limit: 100 });
    assert.equal(all.total, 7);
    assert.deepEqual(all.runs.map((r) => r.id), [...ids].reverse(), 'newest first by default');
    const page2 = s.listRuns({ limit: 3, offset: 3 });
    assert.deepEqual(page2.runs.map((r) => r.id), [...ids].reverse().slice(3, 6));
    assert.equal(page2.total, 7);
    const byName = s.listRuns({ sort: 'name', order: 'asc' }).runs.map((r) => r.name);
    assert.deepEqual(byName, [...byName].sort((a, b) => a.localeCompare(b)));
    assert.deepEqual(s.listRuns({ status: 'failed' }).runs.map((r) => r.id), [ids[4]]);
    assert.equal(s.getRun(ids[2]).id, ids[2]);
    assert.equal(s.getRun(ids[2].slice(0, 6)).id, ids[2]);
    assert.equal(s.getRun('train-lr0.01').id, ids[6], 'a name resolves to its newest run');
    expectCode(() => s.getRun('nope'), 'RUN_NOT_FOUND', /labbook runs/);
    s.close();
  });

  it('reports an ambiguous id prefix instead of guessing', () => {
    const ws = tempWorkspace();
    const s = open(ws);
    const made = Array.from({ length: 40 }, (_, i) => s.createRun({ name: `r${i}`, kind: 'script' }).id);
    const first = made.map((id) => id[0]).find((c, i, a) => a.indexOf(c) !== i)!;
    expectCode(() => s.getRun(first), 'AMBIGUOUS_RUN', /several runs/);
    s.close();
  });

  it('records params with their source and summarises metrics', () => {
    const ws = tempWorkspace();
    const [id] = seedWorkspace(ws, ['--runs', '1', '--steps', '5']);
    const s = open(ws);
    const run = s.getRun(id);
    assert.deepEqual(run.params.map((p) => [p.key, p.value, p.source]), [['epochs', '5', 'cli'], ['lr', '0.1', 'cli'], ['model', 'mlp', 'cli']]);
    const loss = run.metrics.find((m) => m.key === 'loss')!;
    assert.equal(loss.count, 5);
    assert.equal(loss.lastStep, 4);
    assert.equal(loss.last, Number((2.3 * Math.exp(-0.1 * 10 * 5) + 0.05).toFixed(6)));
    assert.equal(loss.max, Number((2.3 * Math.exp(-0.1 * 10) + 0.05).toFixed(6)));
    const series = s.metricSeries(id, ['loss']);
    assert.equal(series.length, 1);
    assert.deepEqual(series[0].steps, [0, 1, 2, 3, 4]);
    s.close();
  });
});

describe('store: metric batching', () => {
  it('writes nothing until a batch fills, then the whole batch in one go', () => {
    const ws = tempWorkspace();
    const s = open(ws);
    const run = s.createRun({ name: 'b', kind: 'training' });
    const w = s.metricWriter(run.id, { maxBatch: 100, maxDelayMs: 0 });
    const reader = new Database(storePaths(ws).db, { readonly: true });
    const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM metrics').get() as { n: number }).n;
    for (let i = 0; i < 99; i++) w.log('loss', 1 / (i + 1));
    assert.equal(count(), 0, 'buffered');
    assert.equal(w.pending, 99);
    w.log('loss', 0.001);
    assert.equal(count(), 100, 'flushed at the batch size');
    w.log('acc', 0.5);
    w.close();
    assert.equal(count(), 101, 'close flushes the rest');
    reader.close();
    s.close();
  });

  it('flushes a partial batch after the delay', async () => {
    const ws = tempWorkspace();
    const s = open(ws);
    const run = s.createRun({ name: 'b', kind: 'training' });
    const w = s.metricWriter(run.id, { maxBatch: 1000, maxDelayMs: 20 });
    w.log('loss', 1);
    assert.equal(s.getRun(run.id).metrics.length, 0);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(s.getRun(run.id).metrics[0].count, 1);
    s.close();
  });

  it('continues steps after the last stored one; NaN is kept as a gap; bad points are refused', () => {
    const ws = tempWorkspace();
    const s = open(ws);
    const run = s.createRun({ name: 'b', kind: 'training' });
    s.logMetrics(run.id, [0, 1, 2].map((step) => ({ key: 'loss', value: 1, step, wallTime: 0 })));
    const w = s.metricWriter(run.id);
    w.log('loss', Number.NaN);
    w.log('loss', 0.25);
    w.close();
    const [series] = s.metricSeries(run.id);
    assert.deepEqual(series.steps, [0, 1, 2, 3, 4]);
    assert.deepEqual(series.values, [1, 1, 1, null, 0.25]);
    expectCode(() => s.logMetrics(run.id, [{ key: 'loss', value: 1, step: -1, wallTime: 0 }]), 'BAD_ARGUMENT', /steps are integers/);
    expectCode(() => s.logMetrics(run.id, [{ key: '', value: 1, step: 0, wallTime: 0 }]), 'BAD_ARGUMENT');
    s.close();
  });
});

describe('store: blobs', () => {
  it('stores content once under its SHA-256, atomically', () => {
    const ws = tempWorkspace();
    const s = open(ws);
    const a = s.putBlob('print("hello")\n');
    const b = s.putBlob(Buffer.from('print("hello")\n'));
    assert.equal(a, b);
    assert.equal(a, crypto.createHash('sha256').update('print("hello")\n').digest('hex'));
    assert.equal(s.readBlob(a).toString(), 'print("hello")\n');
    const dir = path.dirname(s.blobPath(a));
    assert.deepEqual(fs.readdirSync(dir), [a.slice(2)], 'one file, no temp files left');
    expectCode(() => s.readBlob('0'.repeat(64)), 'BLOB_NOT_FOUND');
    s.close();
  });
});

describe('store: faults', () => {
  it('a workspace without write permission: clear error naming the path', () => {
    const ws = tempWorkspace();
    fs.chmodSync(ws, 0o555);
    // Root ignores permission bits, so the attempt runs as an unprivileged user when we are root.
    const script = `
      const { Store } = require(${JSON.stringify(path.join(FIXTURES, 'storeApi.js'))});
      try { Store.open(process.argv[1], { create: true }); console.log('opened'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const r = spawnSync(process.execPath, ['-e', script, ws], { encoding: 'utf8', uid: isRoot() ? 65534 : undefined, gid: isRoot() ? 65534 : undefined });
    const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
    assert.equal(out.code, 'NOT_WRITABLE');
    assert.ok(out.message.includes(path.join(ws, '.labbook')), out.message);
    assert.match(out.message, /not writable \(EACCES\)/);
    fs.chmodSync(ws, 0o755);
  });

  it('two processes logging at once lose no point and never surface "database is locked"', async () => {
    const ws = tempWorkspace();
    open(ws).close();
    // 1,000 small transactions each, so the two writers contend for the lock many times.
    const a = startWriter([ws, 'writer-a', 'loss', '100000', '100']);
    const b = startWriter([ws, 'writer-b', 'loss', '100000', '100']);
    const [ca, cb] = await Promise.all([a.exited, b.exited]);
    assert.equal(ca, 0, a.stderr);
    assert.equal(cb, 0, b.stderr);
    assert.doesNotMatch(a.stderr + b.stderr, /locked|busy/i);
    const s = open(ws);
    const runs = s.listRuns().runs;
    assert.equal(runs.length, 2);
    for (const r of runs) {
      const m = s.getRun(r.id).metrics[0];
      assert.equal(m.count, 100000, `${r.name} kept every point`);
      assert.equal(r.status, 'finished');
    }
    s.close();
  });

  it('SIGKILL while logging: committed points survive, the store opens cleanly, the run is marked crashed', async () => {
    const ws = tempWorkspace();
    open(ws).close();
    const w = startWriter([ws, 'doomed', 'loss', '0', '500', '--forever']);
    await w.until((out) => (out.match(/committed/g) ?? []).length >= 20);
    w.child.kill('SIGKILL');
    await w.exited;
    const reported = Math.max(...[...w.stdout.matchAll(/committed (\d+)/g)].map((m) => Number(m[1])));
    const s = open(ws);
    const db = new Database(storePaths(ws).db, { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    const [run] = s.listRuns().runs;
    assert.equal(run.status, 'running', 'still says running until recovery');
    assert.deepEqual(s.recoverCrashedRuns(), [run.id]);
    const after = s.getRun(run.id);
    assert.equal(after.status, 'crashed');
    assert.ok(after.endedAt);
    assert.ok(after.metrics[0].count >= reported, `${after.metrics[0].count} points ≥ ${reported} reported committed`);
    assert.equal(after.metrics[0].count % 500, 0, 'whole batches only: a transaction is all or nothing');
    s.close();
  });

  it('does not mark as crashed a run whose process is alive', () => {
    const ws = tempWorkspace();
    seedWorkspace(ws, ['--runs', '1', '--running-pid', String(process.pid)]);
    const s = open(ws);
    assert.deepEqual(s.recoverCrashedRuns(), []);
    assert.equal(s.listRuns().runs[0].status, 'running');
    s.close();
  });
});
