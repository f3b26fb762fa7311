// The integration tier: installs the VS Code host on first use (test/harness/installHost.js),
// seeds a workspace with runs through the real store, and runs the mocha suite in the host via
// @vscode/test-electron's runTests with our code-server shim as the "VS Code executable".
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { runTests } = require('@vscode/test-electron');
const { ensureHost } = require('./installHost');

const root = path.resolve(__dirname, '..', '..');

/** A script and a notebook for the tracking tests, run by Debian's Python (nbclient, ipykernel). */
function writeTrackingProject(ws) {
  fs.writeFileSync(
    path.join(ws, 'train.py'),
    ['import argparse, labbook', 'p = argparse.ArgumentParser()', "p.add_argument('--lr', type=float, default=0.1)", 'a = p.parse_args()',
      "labbook.log_metric('loss', 1.0)", "labbook.log_metric('loss', round(1.0 - a.lr, 6))", "print('done')", ''].join('\n'),
  );
  const cell = (source, tags) => ({ cell_type: 'code', execution_count: null, id: Math.random().toString(16).slice(2, 10), metadata: tags ? { tags } : {}, outputs: [], source });
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
    cells: [
      cell('alpha = 0.1\nn = 10', ['parameters']),
      cell('import labbook\nscore = alpha * n\nlabbook.log_metric("score", score)\nprint(score)'),
    ],
  };
  fs.writeFileSync(path.join(ws, 'analysis.ipynb'), JSON.stringify(nb, null, 1));
  const live = { ...nb, cells: [cell('x = 1'), cell('y = x + 1'), cell('print(z)')] };
  fs.writeFileSync(path.join(ws, 'live.ipynb'), JSON.stringify(live, null, 1));
  // Extract Notebook to Pipeline runs on a corpus notebook (headings, a parameters cell, sklearn).
  fs.copyFileSync(path.join(root, 'test', 'fixtures', 'extract', 'iris_classifier.ipynb'), path.join(ws, 'iris.ipynb'));
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.mkdirSync(path.join(ws, 'data'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'data', 'extra.csv'), 'a,b\n1,2\n');
  fs.writeFileSync(
    path.join(ws, '.vscode', 'settings.json'),
    JSON.stringify({ 'labbook.python.path': process.env.LABBOOK_TEST_PYTHON || '/usr/bin/python3', 'labbook.tracking.dataInputs': ['data/*.csv'] }, null, 2),
  );
}

async function main() {
  const host = ensureHost();
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-it-ws-'));
  try {
    execFileSync(process.execPath, [path.join(root, 'out', 'test', 'fixtures', 'seed.js'), workspace, '--runs', '3'], { stdio: 'ignore' });
    writeTrackingProject(workspace);
    process.env.LABBOOK_CS_ENTRY = host.csEntry;
    process.env.LABBOOK_CS_NODE = host.node;
    await runTests({
      vscodeExecutablePath: path.join(__dirname, 'codeShim.js'),
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(root, 'out', 'test', 'integration', 'suite', 'index.js'),
      launchArgs: [workspace, '--disable-extensions'],
      extensionTestsEnv: { LABBOOK_TEST_NODE: process.execPath },
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`integration tests failed: ${e.message || e}`);
  process.exit(1);
});
