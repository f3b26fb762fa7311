#!/usr/bin/env node
// Packs the VSIX (run after `build --production`): platform-specific, because it carries
// better-sqlite3's compiled addon for this OS/arch/Node ABI. Prints its size and contents.
// `--out FILE` writes it elsewhere (the package test does).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const target = `${process.platform === 'win32' ? 'win32' : process.platform}-${process.arch}`;
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(root, `${pkg.name}-${pkg.version}-${target}.vsix`);
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const common = ['--no-dependencies', '--allow-missing-repository'];
execFileSync(process.execPath, [vsce, 'package', ...common, '--target', target, '--out', out], { cwd: root, stdio: 'inherit' });
const files = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`\n${path.basename(out)}: ${kib(fs.statSync(out).size)} compressed, ${files.length} files:`);
for (const f of files) console.log(`  ${f.padEnd(36)} ${kib(fs.statSync(path.join(root, f)).size).padStart(9)}`);
