#!/usr/bin/env node
// `npm run demo`: the main job on the bundled example workspace, through the CLI (no display
// needed): three tracked runs of examples/quickstart/train.py with different learning rates,
// then `labbook runs` and `labbook show` of the best one. Uses $LABBOOK_PYTHON or python3.
import { execFileSync } from 'child_process';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ws = path.join(root, 'examples', 'quickstart');
const cli = path.join(root, 'dist', 'cli.js');
const labbook = (args, show = true) => {
  if (show) console.log(`\n$ labbook ${args.join(' ')}`);
  return execFileSync(process.execPath, [cli, ...args], { cwd: ws, encoding: 'utf8', stdio: ['ignore', 'pipe', show ? 'inherit' : 'ignore'] });
};

const ids = [];
for (const lr of ['0.01', '0.05', '0.2']) {
  const out = JSON.parse(labbook(['run', '--json', '--name', `lr-${lr}`, '--', 'python3', 'train.py', '--lr', lr, '--epochs', '30']));
  ids.push(out.run.id);
}
process.stdout.write(labbook(['runs', '--limit', '5']));
const runs = ids.map((id) => JSON.parse(labbook(['show', id, '--json'], false)));
const best = runs.reduce((a, b) => (a.metrics.loss.at(-1).value <= b.metrics.loss.at(-1).value ? a : b));
console.log(`\nlowest final loss: ${best.name} (${best.metrics.loss.at(-1).value.toFixed(5)})`);
process.stdout.write(labbook(['show', best.id]));
console.log(`\nNext: 'npm run sandbox' opens this workspace in VS Code (in a browser) with Labbook loaded; 'node dist/cli.js --help' lists the CLI.`);
