/**
 * The VSIX as users get it: packed with vsce from the current build, unpacked, and run from
 * there — the CLI and the server load the native SQLite addon shipped inside it.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { ListRunsRequest } from '../../server/protocol/requests';
import { ROOT, seedWorkspace, tempWorkspace } from './helpers';

describe('VSIX package', () => {
  const dir = tempWorkspace('labbook-vsix-');
  const vsix = path.join(dir, 'labbook.vsix');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'package.mjs'), '--out', vsix], { cwd: ROOT, stdio: 'ignore' });
  const unpacked = path.join(dir, 'unpacked');
  execFileSync('python3', ['-m', 'zipfile', '-e', vsix, unpacked]);
  const ext = path.join(unpacked, 'extension');

  it('holds only what runs: bundles, the native addon, the Python side, media, manifest', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else files.push(path.relative(ext, path.join(d, e.name)));
      }
    };
    walk(ext);
    assert.deepEqual(files.sort(), [
      'LICENSE.txt',
      'dist/cli.js',
      'dist/extension.js',
      'dist/native/abi.json',
      'dist/native/better_sqlite3.node',
      'dist/python/boot/sitecustomize.py',
      'dist/python/labbook/__init__.py',
      'dist/python/labbook_extract.py',
      'dist/python/labbook_names.py',
      'dist/python/labbook_nbrun.py',
      'dist/python/labbook_pipeline.py',
      'dist/python/labbook_probe.py',
      'dist/python/labbook_verify.py',
      'dist/server.js',
      'dist/trainWorker.js',
      'dist/training.js',
      'dist/wasm/tfjs-backend-wasm-simd.wasm',
      'dist/wasm/tfjs-backend-wasm.wasm',
      'dist/webview/compare.js',
      'dist/webview/confusion.js',
      'dist/webview/diff.js',
      'dist/webview/live.js',
      'media/compare.svg',
      'media/diff.css',
      'media/labbook.svg',
      'media/webview.css',
      'package.json',
      'readme.md',
    ]);
    const size = fs.statSync(vsix).size;
    // TensorFlow.js (~1 MB compressed) is shipped once, in dist/training.js.
    assert.ok(size < 3.2 * 1024 * 1024, `VSIX is ${size} bytes`);
  });

  it('its CLI runs from the unpacked extension with the shipped addon', () => {
    const ws = tempWorkspace();
    const ids = seedWorkspace(ws, ['--runs', '2']);
    const out = JSON.parse(execFileSync(process.execPath, [path.join(ext, 'dist', 'cli.js'), 'runs', '--json', '-C', ws], { encoding: 'utf8', cwd: dir })) as { runs: { id: string }[] };
    assert.deepEqual(out.runs.map((r) => r.id), [...ids].reverse());
  });

  it('its server answers over stdio from the unpacked extension', async () => {
    const ws = tempWorkspace();
    seedWorkspace(ws, ['--runs', '3']);
    const proc = spawn(process.execPath, [path.join(ext, 'dist', 'server.js'), '--stdio'], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
    conn.listen();
    try {
      await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { workspace: ws } });
      const page = await conn.sendRequest(ListRunsRequest, {});
      assert.equal(page.total, 3);
    } finally {
      conn.dispose();
      proc.kill();
    }
  });
});
