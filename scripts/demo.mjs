#!/usr/bin/env node
// `npm run demo`: the main job on the bundled example workspace, through the CLI (no display
// needed). Until run tracking lands, the example store is filled with example runs through the
// real store API (test/fixtures/seed.ts) on first use; then `labbook runs` and `labbook show`.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ws = path.join(root, 'examples', 'quickstart');
const cli = path.join(root, 'dist', 'cli.js');
const labbook = (...args) => {
  console.log(`\n$ labbook ${args.join(' ')}`);
  const out = execFileSync(process.execPath, [cli, '--workspace', ws, ...args], { encoding: 'utf8' });
  process.stdout.write(out);
  return out;
};

if (!fs.existsSync(path.join(ws, '.labbook', 'labbook.db'))) {
  execFileSync(process.execPath, [path.join(root, 'out', 'test', 'fixtures', 'seed.js'), ws, '--runs', '4'], { stdio: 'ignore' });
  console.log(`Created an example store in ${path.relative(root, ws)}/.labbook/ with 4 example runs.`);
}
labbook('runs');
const newest = JSON.parse(execFileSync(process.execPath, [cli, '--workspace', ws, 'runs', '--json', '--limit', '1'], { encoding: 'utf8' })).runs[0];
labbook('show', newest.id);
console.log(`\nNext: 'npm run sandbox' opens this workspace in VS Code (browser) with Labbook loaded; 'node dist/cli.js --help' lists the CLI.`);
