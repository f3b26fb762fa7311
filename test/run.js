#!/usr/bin/env node
// `npm test`: every tier, in order — unit (store, CLI, server, runtime), webview (real chromium),
// integration (real VS Code host). Exits non-zero if any test failed or a tier could not run.
// Usage: node test/run.js [unit] [webview] [integration]   (default: all)
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const results = path.join(root, 'out', 'test-results');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const wanted = process.argv.slice(2);
const tiers = wanted.length ? wanted : ['unit', 'webview', 'integration'];

// What the tiers need from Debian: chromium (webview, integration) and a Python 3 with Jupyter's
// nbclient/ipykernel and numpy (tracking tests run real scripts and notebooks in it).
const PYTHON = process.env.LABBOOK_TEST_PYTHON || '/usr/bin/python3';
const NEEDS = [
  { what: 'chromium', ok: () => fs.existsSync(chromium), packages: ['chromium'] },
  {
    what: `${PYTHON} with nbclient, ipykernel, numpy, pandas, sklearn, matplotlib, pyflakes`,
    ok: () => spawnSync(PYTHON, ['-c', 'import nbclient, nbformat, ipykernel, numpy, pandas, sklearn, matplotlib, pyflakes'], { stdio: 'ignore' }).status === 0,
    packages: ['python3', 'python3-nbformat', 'python3-nbclient', 'python3-ipykernel', 'python3-numpy', 'python3-pandas', 'python3-sklearn', 'python3-matplotlib', 'python3-pyflakes'],
  },
];

function ensureDebianPackages() {
  const missing = NEEDS.filter((n) => !n.ok());
  if (missing.length === 0) return;
  const packages = missing.flatMap((n) => n.packages);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && fs.existsSync('/usr/bin/apt-get')) {
    console.log(`[test] installing Debian packages the tests need: ${packages.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  }
  const still = NEEDS.filter((n) => !n.ok());
  if (still.length) {
    throw new Error(`missing ${still.map((n) => n.what).join('; ')}: install with 'sudo apt-get install -y ${still.flatMap((n) => n.packages).join(' ')}'`);
  }
}

/** Runs a command, echoing its output, and returns the output for counting. */
function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

function tapCounts(file) {
  const tap = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const n = (k) => Number((new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap) || [])[1] || 0);
  return { passed: n('pass'), failed: n('fail') + n('cancelled') };
}

async function nodeTests(name, dir) {
  const tap = path.join(results, `${name}.tap`);
  const r = await run(process.execPath, [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    path.join(root, 'out', 'test', dir),
  ]);
  return { ...tapCounts(tap), code: r.code };
}

async function integration() {
  const r = await run(process.execPath, [path.join(__dirname, 'harness', 'runIntegration.js')]);
  const n = (re) => Number((re.exec(r.out) || [])[1] || 0);
  return { passed: n(/^\s*(\d+) passing/m), failed: n(/^\s*(\d+) failing/m), code: r.code };
}

async function main() {
  fs.mkdirSync(results, { recursive: true });
  if (!fs.existsSync(path.join(root, 'out', 'test'))) throw new Error("tests are not built: run 'npm test' (its pretest builds them)");
  ensureDebianPackages();
  const totals = { passed: 0, failed: 0 };
  const lines = [];
  let broken = false;
  for (const tier of tiers) {
    const t0 = Date.now();
    console.log(`\n=== ${tier} tier ===`);
    let r;
    if (tier === 'unit') r = await nodeTests('unit', 'unit');
    else if (tier === 'webview') r = await nodeTests('webview', 'webview');
    else if (tier === 'integration') r = await integration();
    else throw new Error(`unknown tier '${tier}' (unit, webview, integration)`);
    // A tier that exits non-zero without a counted failure did not run properly: count that too.
    if (r.code !== 0 && r.failed === 0) broken = true;
    totals.passed += r.passed;
    totals.failed += r.failed;
    lines.push(`${tier.padEnd(12)} ${String(r.passed).padStart(3)} passed  ${String(r.failed).padStart(3)} failed  ${((Date.now() - t0) / 1000).toFixed(1)}s${r.code !== 0 ? `  (exit ${r.code})` : ''}`);
  }
  console.log('\n' + lines.join('\n'));
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed`);
  process.exit(totals.failed > 0 || broken ? 1 : 0);
}

main().catch((e) => {
  console.error(`[test] ${e.message || e}`);
  process.exit(1);
});
