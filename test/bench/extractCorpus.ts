/**
 * npm run corpus:extract — every notebook of test/fixtures/extract/ through
 * `labbook extract --verify --json` (real Python: the interpreter in $LABBOOK_PYTHON, default
 * Debian's /usr/bin/python3), then `python -m pyflakes` on each generated pipeline. Prints one line
 * per notebook and, last, a JSON object: how many extract, how many run top to bottom as
 * notebooks, how many verify, and generated files with pyflakes errors.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const PY = process.env.LABBOOK_PYTHON || '/usr/bin/python3';
const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const CORPUS = path.join(ROOT, 'test', 'fixtures', 'extract');
const only = process.argv.slice(2);

interface Verdict {
  ok: boolean;
  notebookOk: boolean;
  pipelineOk: boolean;
  steps: { name: string; ok: boolean; detail: string }[];
}

const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-corpus-'));
const notebooks = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.ipynb') && (!only.length || only.some((o) => f.includes(o))));
let extracted = 0;
let ranTopToBottom = 0;
let verified = 0;
let pyflakesErrors = 0;
let pyflakesWarnings = 0;
const rows: Record<string, unknown>[] = [];
const t0 = Date.now();
for (const f of notebooks) {
  // Each notebook in its own folder, as a user would have it: files it writes stay there.
  const dir = path.join(ws, path.basename(f, '.ipynb'));
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(CORPUS, f), path.join(dir, f));
  const out = path.join(dir, 'pipeline');
  const t = Date.now();
  const r = spawnSync(process.execPath, [CLI, '-C', ws, 'extract', path.join(dir, f), '--out', out, '--verify', '--json', '--python', PY], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (Date.now() - t) / 1000;
  let json: { steps?: unknown[]; verify?: Verdict } | null = null;
  try {
    json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    json = null;
  }
  const ok = !!json?.steps;
  if (ok) extracted++;
  const v = json?.verify;
  if (v?.notebookOk) ranTopToBottom++;
  if (v?.ok) verified++;
  let flakes = '';
  if (ok) {
    const pf = spawnSync(PY, ['-m', 'pyflakes', out], { encoding: 'utf8' });
    flakes = pf.stdout.trim();
    const errors = flakes.split('\n').filter((l) => l && !/imported but unused|assigned to but never used|redefinition of unused/.test(l));
    pyflakesErrors += errors.length;
    pyflakesWarnings += flakes.split('\n').filter(Boolean).length - errors.length;
    flakes = errors.join(' | ');
  }
  const failed = v?.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`) ?? [];
  const status = !ok ? `NOT EXTRACTED (${r.stderr.trim().split('\n').pop()})` : v?.ok ? 'verified' : v?.notebookOk ? 'MISMATCH' : 'notebook fails top to bottom';
  console.log(`${f.padEnd(34)} ${String(json?.steps?.length ?? '-').padStart(2)} steps  ${status}  ${seconds.toFixed(1)}s${failed.length ? `\n    ${failed.join('\n    ')}` : ''}${flakes ? `\n    pyflakes: ${flakes}` : ''}`);
  rows.push({ notebook: f, steps: json?.steps?.length ?? 0, extracted: ok, notebookOk: !!v?.notebookOk, verified: !!v?.ok, seconds });
}
fs.rmSync(ws, { recursive: true, force: true });
const rate = ranTopToBottom ? verified / ranTopToBottom : 0;
console.log(`corpus: ${notebooks.length} notebooks · ${extracted} extract · ${ranTopToBottom} run top to bottom · ${verified} verify (${(rate * 100).toFixed(0)}% of those that run; goal ≥ 80%: ${rate >= 0.8 ? 'met' : 'MISSED'}) · pyflakes errors ${pyflakesErrors} (other messages: ${pyflakesWarnings}) · ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log(JSON.stringify({ bench: 'extract-corpus', notebooks: notebooks.length, extracted, ran_top_to_bottom: ranTopToBottom, verified, verify_rate: Math.round(rate * 1000) / 1000, pyflakes_errors: pyflakesErrors, pyflakes_warnings: pyflakesWarnings }));
