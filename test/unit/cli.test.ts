import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { ROOT, runCli, seedWorkspace, tempWorkspace } from './helpers';

const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${stderr}`);
  return lines[0];
}

describe('cli: help, version, usage errors', () => {
  it('--help prints usage and exits 0', () => {
    const r = runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^labbook \d+\.\d+\.\d+/);
    assert.match(r.stdout, /Usage: labbook \[--workspace DIR\] <command>/);
    assert.match(r.stdout, /show RUN/);
  });

  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^labbook ${version.replace(/\./g, '\\.')} \\(store schema v\\d+`));
  });

  for (const [args, why] of [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [[], /no command given/],
    [['runs', '--limit'], /needs a value/],
    [['runs', '--limit', 'x'], /integer/],
    [['runs', '--sort', 'colour'], /one of started, name, status, duration/],
    [['runs', '--bogus'], /unknown option '--bogus'/],
    [['show'], /exactly one RUN/],
  ] as const) {
    it(`exit 2 for: labbook ${args.join(' ')}`, () => {
      const r = runCli([...args]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /labbook --help/);
      assert.equal(r.stdout, '');
    });
  }
});

describe('cli: runs and show', () => {
  const ws = tempWorkspace();
  const ids = seedWorkspace(ws, ['--runs', '5', '--steps', '10']);

  it('runs --json prints {"runs": [...]} newest first', () => {
    const r = runCli(['runs', '--json', '--workspace', ws]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { runs: { id: string; name: string; status: string; durationS: number }[]; total: number };
    assert.deepEqual(out.runs.map((x) => x.id), [...ids].reverse());
    assert.equal(out.total, 5);
    assert.equal(out.runs[0].status, 'failed');
    assert.equal(out.runs[1].durationS, 10.5);
  });

  it('runs prints a table without colour when piped, and honours --sort/--asc/--status/--limit', () => {
    const r = runCli(['runs'], { cwd: ws });
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+NAME\s+KIND\s+STATUS\s+STARTED\s+DURATION$/);
    assert.equal(lines.length, 6);
    assert.match(lines[1], new RegExp(`^${ids[4]}\\s+train-lr0.1\\s+script\\s+failed \\(1\\)`));
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    const failed = runCli(['runs', '--status', 'failed', '--json', '-C', ws]);
    assert.deepEqual((JSON.parse(failed.stdout) as { runs: { id: string }[] }).runs.map((x) => x.id), [ids[4]]);
    const sorted = JSON.parse(runCli(['runs', '--sort', 'name', '--asc', '--limit', '2', '--json', '-C', ws]).stdout) as { runs: { name: string }[]; total: number };
    assert.deepEqual(sorted.runs.map((x) => x.name), ['train-lr0.003', 'train-lr0.01']);
    assert.equal(sorted.total, 5);
    const limited = runCli(['runs', '--limit', '2', '-C', ws]);
    assert.match(limited.stdout, /… 3 more \(use --limit\)/);
  });

  it('show RUN --json by id prefix and by name: params as a map, full metric series', () => {
    const byPrefix = runCli(['show', ids[1].slice(0, 5), '--json', '-C', ws]);
    assert.equal(byPrefix.code, 0, byPrefix.stderr);
    const run = JSON.parse(byPrefix.stdout) as { id: string; kind: string; status: string; exitCode: number; params: Record<string, string>; paramSources: Record<string, string>; metrics: Record<string, { step: number; value: number }[]>; tags: string[] };
    assert.equal(run.id, ids[1]);
    assert.deepEqual([run.kind, run.status, run.exitCode], ['script', 'finished', 0]);
    assert.deepEqual(run.params, { epochs: '10', lr: '0.03', model: 'mlp' });
    assert.equal(run.paramSources.lr, 'cli');
    assert.deepEqual(Object.keys(run.metrics), ['accuracy', 'loss']);
    assert.deepEqual(run.metrics.loss.map((p) => p.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(run.metrics.loss[0].value, Number((2.3 * Math.exp(-0.03 * 10) + 0.1).toFixed(6)));
    assert.deepEqual(run.tags, []);
    const byName = JSON.parse(runCli(['show', 'train-lr0.1', '--json', '-C', ws]).stdout) as { id: string };
    assert.equal(byName.id, ids[4], 'the newest run of that name');
  });

  it('show RUN prints a readable report', () => {
    const r = runCli(['show', ids[0], '-C', ws]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^Run ${ids[0]}  train-lr0.1`));
    assert.match(r.stdout, /status\s+finished \(exit 0\)/);
    assert.match(r.stdout, /command\s+python train.py --lr 0.1 --epochs 10/);
    assert.match(r.stdout, /Parameters\n\s+epochs\s+10\s+\(cli\)/);
    assert.match(r.stdout, /loss\s+0\.05\d* @9/);
  });

  it('an unknown run: exit 1 with one line on stderr', () => {
    const r = runCli(['show', 'no-such-run', '-C', ws]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^labbook: No run 'no-such-run'/);
  });
});

describe('cli: workspaces without a usable store', () => {
  it('a folder with no store: "No runs yet", exit 0, nothing created', () => {
    const ws = tempWorkspace();
    const r = runCli(['runs', '-C', ws]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /No runs yet/);
    assert.deepEqual(JSON.parse(runCli(['runs', '--json', '-C', ws]).stdout), { runs: [], total: 0 });
    assert.deepEqual(fs.readdirSync(ws), []);
  });

  it('a missing workspace: exit 1', () => {
    const r = runCli(['runs', '--workspace', '/nonexistent/labbook-ws']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /workspace \/nonexistent\/labbook-ws is not a directory/);
  });

  it('a store file that is not a Labbook store: exit 1, one line, file untouched', () => {
    const ws = tempWorkspace();
    fs.mkdirSync(path.join(ws, '.labbook'));
    fs.writeFileSync(path.join(ws, '.labbook', 'labbook.db'), 'not a database');
    const r = runCli(['runs', '-C', ws]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /is not a Labbook store \(it is not a SQLite database\)/);
    assert.equal(fs.readFileSync(path.join(ws, '.labbook', 'labbook.db'), 'utf8'), 'not a database');
  });
});
