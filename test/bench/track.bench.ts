/**
 * npm run bench:track — what tracking adds to a trivial script: `python3 trivial.py` run plain
 * vs `labbook run -- python3 trivial.py` (the CLI: Node start, store, params, environment, git,
 * audit hook, events), alternated, 15 rounds each after a warm-up, medians. Last line: JSON.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const PY = process.env.LABBOOK_PYTHON || '/usr/bin/python3';
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (cmd: string, args: string[], cwd: string) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};

const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-bench-track-'));
fs.writeFileSync(path.join(ws, 'trivial.py'), "import sys\nprint('hello', sys.argv[1:])\n");
execFileSync('git', ['init', '-q'], { cwd: ws });
const plain: number[] = [];
const tracked: number[] = [];
time(PY, ['trivial.py'], ws);
time(process.execPath, [CLI, 'run', '--python', PY, '--', 'python3', 'trivial.py', '--lr', '0.1'], ws); // warm-up: creates the store, caches the interpreter probe
for (let i = 0; i < ROUNDS; i++) {
  plain.push(time(PY, ['trivial.py', '--lr', '0.1'], ws));
  tracked.push(time(process.execPath, [CLI, 'run', '--python', PY, '--', 'python3', 'trivial.py', '--lr', '0.1'], ws));
}
const nodeOnly = median(Array.from({ length: 7 }, () => time(process.execPath, [CLI, '--version'], ws)));
fs.rmSync(ws, { recursive: true, force: true });
const added = median(tracked) - median(plain);
console.log(`track bench (${ROUNDS} rounds): plain ${median(plain).toFixed(0)} ms · tracked ${median(tracked).toFixed(0)} ms · added ${added.toFixed(0)} ms (of which starting the CLI's Node: ${nodeOnly.toFixed(0)} ms); goal < 150 ms: ${added < 150 ? 'met' : 'MISSED'}`);
console.log(JSON.stringify({ bench: 'track', plain_ms: Math.round(median(plain)), tracked_ms: Math.round(median(tracked)), added_ms: Math.round(added), cli_start_ms: Math.round(nodeOnly), rounds: ROUNDS }));
