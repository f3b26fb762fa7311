/**
 * The real server bundle (dist/server.js) spoken to over stdio with JSON-RPC, exactly as
 * vscode-languageclient does.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { after, describe, it } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { DiffRequest, ExtractPreviewRequest, ExtractVerifyRequest, ExtractWriteRequest, GetRunRequest, ListRunsRequest, RunEndedNotification, type RunEndedParams, RunOutputNotification, RunsChangedNotification, ServerInfoRequest, StartRunRequest, WorkspaceTrustedNotification, type RunsChangedParams } from '../../server/protocol/requests';
import { ROOT, type Server, seedWorkspace, startServer, startWriter, tempWorkspace } from './helpers';

describe('server over stdio', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) if (s.proc.exitCode === null) s.proc.kill();
  });

  it('answers info, paged and sorted run lists, and run details', async () => {
    const ws = tempWorkspace();
    const ids = seedWorkspace(ws, ['--runs', '5']);
    const s = await startServer(ws);
    servers.push(s);
    const info = await s.conn.sendRequest(ServerInfoRequest);
    assert.equal(info.store.runCount, 5);
    assert.equal(info.runtime.abi, process.versions.modules);
    assert.ok(s.logs.some((l) => l.includes(`Node ${process.version} (ABI ${process.versions.modules}`)), 'logs its runtime');
    const page = await s.conn.sendRequest(ListRunsRequest, { offset: 1, limit: 2 });
    assert.deepEqual(page.runs.map((r) => r.id), [ids[3], ids[2]]);
    assert.equal(page.total, 5);
    const byName = await s.conn.sendRequest(ListRunsRequest, { sort: 'name', order: 'asc', limit: 1 });
    assert.equal(byName.runs[0].name, 'train-lr0.003');
    const detail = await s.conn.sendRequest(GetRunRequest, { id: ids[0].slice(0, 4) });
    assert.equal(detail.id, ids[0]);
    assert.equal(detail.params.length, 3);
    await assert.rejects(s.conn.sendRequest(GetRunRequest, { id: 'missing' }), (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal((e.data as { code: string }).code, 'RUN_NOT_FOUND');
      assert.match(e.message, /No run 'missing'/);
      return true;
    });
    await s.stop();
    assert.equal(s.proc.exitCode, 0);
  });

  it('tells the client when another process writes, and when a store appears', async () => {
    const ws = tempWorkspace();
    const s = await startServer(ws);
    servers.push(s);
    assert.deepEqual(await s.conn.sendRequest(ListRunsRequest, {}), { runs: [], total: 0, offset: 0 });
    assert.equal(fs.existsSync(path.join(ws, '.labbook')), false, 'opening a folder creates nothing');
    const reasons: string[] = [];
    const next = (want: string) =>
      new Promise<void>((resolve) => {
        const d = s.conn.onNotification(RunsChangedNotification, (p: RunsChangedParams) => {
          reasons.push(p.reason);
          if (p.reason === want) {
            d.dispose();
            resolve();
          }
        });
      });
    const created = next('store-created');
    seedWorkspace(ws, ['--runs', '1']);
    await created;
    const written = next('external-write');
    seedWorkspace(ws, ['--runs', '1', '--name', 'second']);
    await written;
    assert.equal((await s.conn.sendRequest(ListRunsRequest, {})).total, 2);
    await s.stop();
  });

  it('marks runs of a killed process as crashed when it starts', async () => {
    const ws = tempWorkspace();
    const w = startWriter([ws, 'killed-mid-run', 'loss', '0', '100', '--forever']);
    await w.until((out) => /committed 500/.test(out));
    w.child.kill('SIGKILL');
    await w.exited;
    const s = await startServer(ws);
    servers.push(s);
    const [run] = (await s.conn.sendRequest(ListRunsRequest, {})).runs;
    assert.equal(run.status, 'crashed');
    assert.ok(s.logs.some((l) => l.includes('as crashed')));
    const detail = await s.conn.sendRequest(GetRunRequest, { id: run.id });
    assert.ok(detail.metrics[0].count >= 500);
    await s.stop();
  });

  it('a refused store: info says why, requests fail with the same clear reason', async () => {
    const ws = tempWorkspace();
    fs.mkdirSync(path.join(ws, '.labbook'));
    fs.writeFileSync(path.join(ws, '.labbook', 'labbook.db'), 'hello');
    const s = await startServer(ws);
    servers.push(s);
    const info = await s.conn.sendRequest(ServerInfoRequest);
    assert.equal(info.store.exists, true);
    assert.match(info.store.problem ?? '', /not a Labbook store/);
    await assert.rejects(s.conn.sendRequest(ListRunsRequest, {}), /not a Labbook store/);
    assert.equal(fs.readFileSync(path.join(ws, '.labbook', 'labbook.db'), 'utf8'), 'hello');
    await s.stop();
  });

  it('diffs notebooks on request; broken, binary, missing and huge input are clear errors, and it keeps serving', async () => {
    const ws = tempWorkspace();
    const s = await startServer(ws);
    servers.push(s);
    const nb = (src: string, out: string) => JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', id: 'x', source: src, metadata: {}, execution_count: 1, outputs: [{ output_type: 'stream', name: 'stdout', text: out }] }] });
    const write = (name: string, text: string | Buffer) => {
      fs.writeFileSync(path.join(ws, name), text);
      return { kind: 'file' as const, path: path.join(ws, name) };
    };
    const a = write('a.ipynb', nb('print(1)', '1\n'));
    const model = await s.conn.sendRequest(DiffRequest, { a, b: write('b.ipynb', nb('print(2)', '2\n')) });
    assert.deepEqual(model.notebooks[0].diff.summary, { added: 0, removed: 0, modified: 1, moved: 0, unchanged: 0 });
    assert.deepEqual(model.labels, { a: 'a.ipynb', b: 'b.ipynb' });
    const refuse = (b: { kind: 'file'; path: string }, pattern: RegExp) => assert.rejects(s.conn.sendRequest(DiffRequest, { a, b }), pattern);
    await refuse(write('cut.ipynb', nb('print(1)', '1\n').slice(0, 60)), /cut\.ipynb: not valid notebook JSON \(line 1, column \d+: .*truncated/);
    await refuse(write('img.ipynb', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13])), /binary file, not a notebook/);
    await refuse({ kind: 'file', path: path.join(ws, 'gone.ipynb') }, /gone\.ipynb: no such file/);
    // A 100 MB string output against a changed one: a diff, and the server still answers after it.
    const huge = write('huge.ipynb', nb('print(df)', 'x'.repeat(100 * 1024 * 1024)));
    const big = await s.conn.sendRequest(DiffRequest, { a, b: huge });
    assert.equal(big.notebooks[0].diff.summary.modified, 1);
    const shown = big.notebooks[0].diff.cells[0].outputsB![0];
    assert.ok(shown.truncated && shown.data['text/plain'].length < 200_000, 'display copy is cut');
    assert.equal((await s.conn.sendRequest(ServerInfoRequest)).store.exists, false);
    await s.stop();
  });
});

describe('server shutdown', () => {
  it('closes the store on shutdown and does not reopen it for a late request', async () => {
    const ws = tempWorkspace();
    seedWorkspace(ws, ['--runs', '1']);
    const s = await startServer(ws);
    assert.equal((await s.conn.sendRequest(ListRunsRequest, {})).total, 1);
    await s.conn.sendRequest('shutdown');
    await assert.rejects(s.conn.sendRequest(ListRunsRequest, {}), /shutting down/);
    // The last connection closed cleanly: SQLite has folded the -wal file back and removed it.
    assert.equal(fs.existsSync(path.join(ws, '.labbook', 'labbook.db-wal')), false);
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.conn.sendNotification('exit');
    await exited;
    assert.equal(s.proc.exitCode, 0);
    s.conn.dispose();
  });
});

describe('server: runs started from VS Code', () => {
  it('refuses to run code in an untrusted workspace and says why; runs it once trusted', async () => {
    const ws = tempWorkspace();
    fs.writeFileSync(path.join(ws, 'hello.py'), "import labbook\nlabbook.log_metric('x', 2)\nprint('hi from python')\n");
    const s = await startServer(ws, { trusted: false });
    const start = () => s.conn.sendRequest(StartRunRequest, { kind: 'script', target: path.join(ws, 'hello.py'), python: '/usr/bin/python3' });
    await assert.rejects(start(), /does not run code in an untrusted workspace/);
    assert.equal(fs.existsSync(path.join(ws, '.labbook')), false, 'nothing recorded');
    s.conn.sendNotification(WorkspaceTrustedNotification, {});
    const output: string[] = [];
    s.conn.onNotification(RunOutputNotification, (p: { text: string }) => {
      output.push(p.text);
    });
    const ended = new Promise<RunEndedParams>((resolve) => s.conn.onNotification(RunEndedNotification, resolve));
    const started = await start();
    const end = await ended;
    assert.equal(end.runId, started.runId);
    assert.equal(end.status, 'finished');
    assert.match(output.join(''), /hi from python/);
    const detail = await s.conn.sendRequest(GetRunRequest, { id: started.runId });
    assert.equal(detail.metrics[0].last, 2);
    await s.stop();
  });
});

describe('server: extraction for VS Code', () => {
  it('previews steps, takes an edited plan, refuses to replace files without force, and refuses untrusted workspaces', async () => {
    const ws = tempWorkspace();
    const notebook = path.join(ws, 'iris.ipynb');
    fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'extract', 'iris_classifier.ipynb'), notebook);
    const outDir = path.join(ws, 'out');
    const s = await startServer(ws, { trusted: false });
    await assert.rejects(s.conn.sendRequest(ExtractPreviewRequest, { notebook, python: '/usr/bin/python3' }), /untrusted workspace/);
    s.conn.sendNotification(WorkspaceTrustedNotification, {});
    const preview = await s.conn.sendRequest(ExtractPreviewRequest, { notebook, python: '/usr/bin/python3', outDir });
    assert.deepEqual(preview.steps.map((x) => x.name), ['parameters', 'load_the_data', 'clean_and_engineer_features', 'train', 'evaluate']);
    assert.deepEqual(preview.existing, []);
    assert.equal(preview.params.n_trees, 50);
    // The user merges "train" into "clean_and_engineer_features" and renames it.
    const plan = preview.steps.map((x) => ({ name: x.name, cells: [...x.cells] }));
    plan[2] = { name: 'prepare_and_train', cells: [...plan[2].cells, ...plan[3].cells] };
    plan.splice(3, 1);
    const edited = await s.conn.sendRequest(ExtractPreviewRequest, { notebook, python: '/usr/bin/python3', plan, outDir });
    const merged = edited.steps.find((x) => x.name === 'prepare_and_train')!;
    assert.deepEqual(merged.inputs.sort(), ['df', 'n_trees']);
    const written = await s.conn.sendRequest(ExtractWriteRequest, { notebook, python: '/usr/bin/python3', plan, outDir });
    assert.ok(written.files.includes('steps/prepare_and_train.py'));
    assert.ok(fs.existsSync(path.join(outDir, 'steps', 'prepare_and_train.py')));
    const again = await s.conn.sendRequest(ExtractPreviewRequest, { notebook, python: '/usr/bin/python3', outDir });
    assert.ok(again.existing.includes('pipeline.py'));
    await assert.rejects(s.conn.sendRequest(ExtractWriteRequest, { notebook, python: '/usr/bin/python3', outDir }), /already has .*use --force/);
    const forced = await s.conn.sendRequest(ExtractWriteRequest, { notebook, python: '/usr/bin/python3', outDir, force: true });
    assert.ok(forced.files.includes('steps/train.py'));
    // The step module of the earlier plan is gone rather than left behind as dead code.
    assert.equal(fs.existsSync(path.join(outDir, 'steps', 'prepare_and_train.py')), false);
    const verdict = await s.conn.sendRequest(ExtractVerifyRequest, { notebook, python: '/usr/bin/python3', outDir });
    assert.equal(verdict.ok, true, JSON.stringify(verdict.steps));
    const pipelineRun = await s.conn.sendRequest(GetRunRequest, { id: verdict.pipelineRun });
    assert.equal(pipelineRun.kind, 'pipeline');
    await s.stop();
  });
});
