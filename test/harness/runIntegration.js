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

async function main() {
  const host = ensureHost();
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-it-ws-'));
  try {
    execFileSync(process.execPath, [path.join(root, 'out', 'test', 'fixtures', 'seed.js'), workspace, '--runs', '3'], { stdio: 'ignore' });
    fs.writeFileSync(path.join(workspace, 'train.py'), 'print("hello")\n');
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
