#!/usr/bin/env node
// One esbuild script for every target:
//   extension (node/cjs, `vscode` external) · server (node/cjs) · cli (node/cjs, #!) · webview (browser/iife)
// and, with --tests, the test and bench bundles under out/.
// Flags: --watch, --production (minified, no source maps), --tests.
// better-sqlite3's JS is bundled; its compiled addon is copied to dist/native/ with abi.json
// naming the Node ABI it was built for (the extension checks runtimes against it).
import * as esbuild from 'esbuild';
import { createRequire } from 'module';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const watch = args.has('--watch');
const production = args.has('--production');
const tests = args.has('--tests');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

const common = {
  bundle: true,
  logLevel: 'warning',
  sourcemap: production ? false : 'linked',
  minify: production,
  define: { __LABBOOK_VERSION__: JSON.stringify(pkg.version) },
  absWorkingDir: root,
};
const node = { ...common, platform: 'node', format: 'cjs', target: 'node20' };

/**
 * TensorFlow.js and the training code are their own bundle, dist/training.js: in the server, the
 * CLI and the training worker, imports of server/training/lib become `require('./training.js')`,
 * evaluated only by the commands that train or predict.
 */
const trainingApart = {
  name: 'training-apart',
  setup(build) {
    build.onResolve({ filter: /[\\/]training[\\/]lib$|^\.\/lib$/ }, (a) => {
      const resolved = path.resolve(a.resolveDir, a.path);
      return resolved === path.join(root, 'server', 'training', 'lib') ? { path: './training.js', external: true } : undefined;
    });
  },
};

const targets = [
  { ...node, entryPoints: { extension: 'extension/extension.ts' }, outdir: 'dist', external: ['vscode'] },
  { ...node, entryPoints: { server: 'server/server.ts' }, outdir: 'dist', plugins: [trainingApart] },
  { ...node, entryPoints: { cli: 'server/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' }, plugins: [trainingApart] },
  { ...node, entryPoints: { trainWorker: 'server/training/worker.ts' }, outdir: 'dist', plugins: [trainingApart] },
  { ...node, entryPoints: { training: 'server/training/lib.ts' }, outdir: 'dist' },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: {
      compare: 'webview/compare/main.ts',
      confusion: 'webview/confusion/main.ts',
      live: 'webview/live/main.ts',
      diff: 'webview/diff/main.ts',
    },
    outdir: 'dist/webview',
  },
];

if (tests) {
  const testFiles = (dir) => fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`);
  const outFor = (files, from, to) => Object.fromEntries(files.map((f) => [path.join(to, path.relative(from, f)).replace(/\.ts$/, ''), f]));
  // Tests use node_modules' better-sqlite3 directly (external), the bundles in dist/ their copy.
  const external = ['better-sqlite3', 'playwright-core', 'mocha', 'vscode', '@vscode/test-electron'];
  targets.push({
    ...node,
    entryPoints: {
      ...outFor(testFiles('test/unit'), 'test', 'test'),
      ...outFor(testFiles('test/webview'), 'test', 'test'),
      ...outFor(testFiles('test/bench'), 'test', ''),
      ...outFor(testFiles('test/fixtures'), 'test', 'test'),
      'test/integration/suite/index': 'test/integration/suite/index.ts',
    },
    outdir: 'out',
    external,
  });
}

/**
 * Copies by writing beside the target and renaming over it: a process still running the old
 * build (a long `labbook train`, the extension's server) keeps the file it mapped. Copying in
 * place rewrote a loaded shared library under a training run and killed it.
 */
function replaceFile(from, to) {
  const tmp = `${to}.${process.pid}.tmp`;
  fs.copyFileSync(from, tmp);
  fs.renameSync(tmp, to);
}

// tfjs-backend-wasm's binaries (SIMD, and plain for CPUs without SIMD), loaded at run time from
// dist/wasm beside the server and CLI bundles. Node runs it single-threaded: the threaded build stays out.
function copyWasm() {
  const require = createRequire(path.join(root, 'package.json'));
  const from = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const dir = path.join(root, 'dist', 'wasm');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']) replaceFile(path.join(from, f), path.join(dir, f));
}

function copyNative() {
  const require = createRequire(path.join(root, 'package.json'));
  const pkgDir = path.dirname(require.resolve('better-sqlite3/package.json'));
  const addon = path.join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  if (!fs.existsSync(addon)) {
    throw new Error(`better-sqlite3 has no compiled addon at ${addon}: run 'npm ci' (it builds from source when no prebuilt binary can be downloaded).`);
  }
  const dir = path.join(root, 'dist', 'native');
  fs.mkdirSync(dir, { recursive: true });
  replaceFile(addon, path.join(dir, 'better_sqlite3.node'));
  // The ABI the addon was built for is the ABI of the Node that ran its install, found from the
  // addon itself: loading it here (same Node as `npm ci`) proves it matches process.versions.modules.
  process.dlopen({ exports: {} }, path.join(dir, 'better_sqlite3.node'));
  const abi = { modules: process.versions.modules, node: process.version, platform: process.platform, arch: process.arch, betterSqlite3: require('better-sqlite3/package.json').version };
  fs.writeFileSync(path.join(dir, 'abi.json'), JSON.stringify(abi, null, 2) + '\n');
}

/** The Python side of tracking (module, sitecustomize, probe, notebook runner) ships as files. */
function copyPython() {
  const from = path.join(root, 'server', 'tracking', 'python');
  const to = path.join(root, 'dist', 'python');
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true, filter: (src) => !src.includes('__pycache__') && !src.endsWith('.pyc') });
}

const t0 = Date.now();
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
copyNative();
copyWasm();
copyPython();
if (watch) {
  for (const t of targets) {
    const ctx = await esbuild.context(t);
    await ctx.watch();
  }
  console.log('[build] watching for changes…');
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  fs.chmodSync(path.join(root, 'dist', 'cli.js'), 0o755);
  console.log(`[build] ${targets.length} targets${production ? ' (production)' : ''} in ${Date.now() - t0} ms`);
}
