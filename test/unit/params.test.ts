import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { LabbookError } from '../../server/core/errors';
import { Store } from '../../server/store/db';
import { BoundedCapture } from '../../server/tracking/capture';
import { hashFile, sha256File } from '../../server/tracking/hashing';
import { applyOverrides, collectParams, paramsFromArgs, paramsFromConfigFile } from '../../server/tracking/params';
import { expandGlobs, resolveCommand } from '../../server/tracking/runner';
import { tempWorkspace } from './helpers';

describe('parameters from a command line', () => {
  it('reads --k v, --k=v, flags, short options and negative numbers like argparse users write them', () => {
    const { params } = paramsFromArgs(['--lr', '0.01', '--epochs=5', '--verbose', '-n', '3', '--shift', '-2.5', '--batch-size', '64', 'positional']);
    assert.deepEqual(Object.fromEntries(params), { lr: '0.01', epochs: '5', verbose: 'true', n: '3', shift: '-2.5', batch_size: '64' });
  });

  it('finds config files named anywhere and flattens JSON, YAML and TOML as a.b.c', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ model: { depth: 3, layers: [64, 32] }, lr: 0.1 }));
    fs.writeFileSync(path.join(dir, 'c.yaml'), 'optimizer:\n  name: adam\n  beta: 0.9\nseed: 7\n');
    fs.writeFileSync(path.join(dir, 'c.toml'), '[data]\npath = "data/train.csv"\nshuffle = true\n');
    assert.deepEqual(Object.fromEntries(paramsFromConfigFile(path.join(dir, 'c.json'))), { 'model.depth': '3', 'model.layers': '[64,32]', lr: '0.1' });
    assert.deepEqual(Object.fromEntries(paramsFromConfigFile(path.join(dir, 'c.yaml'))), { 'optimizer.name': 'adam', 'optimizer.beta': '0.9', seed: '7' });
    assert.deepEqual(Object.fromEntries(paramsFromConfigFile(path.join(dir, 'c.toml'))), { 'data.path': 'data/train.csv', 'data.shuffle': 'true' });
  });

  it('precedence: config file < command line < override, each with its source', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'cfg.yaml'), 'lr: 0.5\nepochs: 10\nseed: 1\n');
    const { params, configFiles } = collectParams(['--config', 'cfg.yaml', '--lr', '0.01', '--missing', 'nope.yaml'], new Map([['seed', '42']]), dir);
    assert.deepEqual(configFiles, [path.join(dir, 'cfg.yaml')]);
    assert.deepEqual(params.get('lr'), { value: '0.01', source: 'cli' });
    assert.deepEqual(params.get('epochs'), { value: '10', source: 'config' });
    assert.deepEqual(params.get('seed'), { value: '42', source: 'override' });
    assert.deepEqual(params.get('config'), { value: 'cfg.yaml', source: 'cli' });
  });

  it('a config file that does not parse: clear error naming it', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"lr": ');
    assert.throws(() => paramsFromConfigFile(path.join(dir, 'bad.json')), (e: unknown) => e instanceof LabbookError && /bad\.json does not parse/.test(e.message));
  });

  it('overrides replace an option’s value in place, or are appended', () => {
    const o = new Map([['lr', '0.1'], ['epochs', '3'], ['seed', '9'], ['verbose', 'false']]);
    assert.deepEqual(applyOverrides(['--lr', '0.01', '--epochs=5', '--verbose'], o), ['--lr', '0.1', '--epochs=3', '--verbose', 'false', '--seed', '9']);
  });
});

describe('commands', () => {
  it('finds interpreter, script and script arguments', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'train.py'), '');
    const r = resolveCommand(['python', '-u', 'train.py', '--lr', '1'], dir, '/usr/bin/python3');
    assert.deepEqual(r.argv, ['/usr/bin/python3', '-u', 'train.py', '--lr', '1']);
    assert.equal(r.script, path.join(dir, 'train.py'));
    assert.deepEqual(r.scriptArgs, ['--lr', '1']);
    assert.deepEqual(resolveCommand(['train.py'], dir, 'python3').argv, ['python3', 'train.py']);
    const m = resolveCommand(['python3', '-m', 'pkg.main', '--x', '1'], dir);
    assert.equal(m.script, undefined);
    assert.deepEqual(m.scriptArgs, ['--x', '1']);
    assert.equal(resolveCommand(['make', 'all'], dir).python, false);
    assert.deepEqual(resolveCommand(['python', 'train.py'], dir).argv, ['python3', 'train.py'], 'plain python means the default interpreter');
    assert.deepEqual(resolveCommand(['python3.11', 'train.py'], dir, '/opt/py').argv, ['python3.11', 'train.py'], 'a specific version is kept');
    assert.deepEqual(resolveCommand(['/venv/bin/python', 'train.py'], dir, '/opt/py').argv, ['/venv/bin/python', 'train.py'], 'a path is kept');
  });

  it('a missing script is a clear error', () => {
    assert.throws(() => resolveCommand(['python', 'nope.py'], '/tmp'), /script nope\.py not found in \/tmp/);
  });

  it('expands declared-input globs inside the workspace', () => {
    const dir = tempWorkspace();
    fs.mkdirSync(path.join(dir, 'data', 'raw'), { recursive: true });
    for (const f of ['data/a.csv', 'data/b.csv', 'data/raw/c.csv', 'data/notes.txt']) fs.writeFileSync(path.join(dir, f), 'x');
    const rel = (xs: string[]) => xs.map((x) => path.relative(dir, x));
    assert.deepEqual(rel(expandGlobs(dir, ['data/*.csv'])), ['data/a.csv', 'data/b.csv']);
    assert.deepEqual(rel(expandGlobs(dir, ['data/**/*.csv'])), ['data/a.csv', 'data/b.csv', 'data/raw/c.csv']);
    assert.deepEqual(rel(expandGlobs(dir, ['data/notes.txt', 'missing/*.csv'])), ['data/notes.txt']);
  });
});

describe('output capture and hashing', () => {
  it('keeps head and tail of a huge output with one marker', () => {
    const c = new BoundedCapture(1000);
    for (let i = 0; i < 10_000; i++) c.push(Buffer.from(`line ${i}\n`));
    const text = c.text();
    assert.ok(text.startsWith('line 0\nline 1\n'));
    assert.ok(text.endsWith('line 9999\n'));
    assert.match(text, /\[… labbook: \d+ bytes of output omitted …\]/);
    assert.ok(Buffer.byteLength(text) < 1100);
    assert.equal(c.total, Buffer.byteLength(Array.from({ length: 10_000 }, (_, i) => `line ${i}\n`).join('')));
  });

  it('hashes a file, then answers from the cache until the file changes', async () => {
    const ws = tempWorkspace();
    const store = Store.open(ws, { create: true })!;
    const f = path.join(ws, 'data.bin');
    fs.writeFileSync(f, Buffer.alloc(5 * 1024 * 1024 + 7, 3));
    const first = await hashFile(store, f);
    assert.equal(first.cached, false);
    assert.equal(first.sha256, await sha256File(f));
    const again = await hashFile(store, f);
    assert.equal(again.cached, true);
    assert.equal(again.sha256, first.sha256);
    fs.appendFileSync(f, 'more');
    const changed = await hashFile(store, f);
    assert.equal(changed.cached, false);
    assert.notEqual(changed.sha256, first.sha256);
    store.close();
  });
});

describe('JSON error positions', () => {
  it('names line, column and reason for the errors Node reports without a position', async () => {
    const { locateJsonError } = await import('../../server/core/jsonPosition');
    assert.equal(locateJsonError('{"a": [1, 2]}'), null);
    assert.deepEqual(locateJsonError('{"cells": [}'), { line: 1, column: 12, offset: 11, reason: "unexpected '}'" });
    assert.deepEqual(locateJsonError('{\n  "a": 1,,\n}'), { line: 2, column: 10, offset: 11, reason: "expected a property name in double quotes, found ','" });
    assert.equal(locateJsonError('{"a": "unterminated')?.reason, 'unterminated string');
    assert.equal(locateJsonError('{"a": 1} x')?.reason, "unexpected 'x' after the end of the JSON value");
    const truncated = JSON.stringify({ cells: Array.from({ length: 50 }, (_, i) => ({ source: `x = ${i}` })) }).slice(0, -30);
    assert.equal(locateJsonError(truncated)?.offset, truncated.length, 'a truncated file fails at its end');
  });
});
