#!/usr/bin/env node
// A stand-in "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath }):
// it reads the Electron-style arguments runTests passes and runs the same tests in code-server
// (a real VS Code OSS server and workbench) opened in headless Debian chromium.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const argv = process.argv.slice(2);
const flag = (name) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : undefined;
};
const extensionDevelopmentPath = flag('extensionDevelopmentPath');
const extensionTestsPath = flag('extensionTestsPath');
const workspace = argv.find((a) => !a.startsWith('-'));
if (!extensionDevelopmentPath || !extensionTestsPath || !workspace) {
  console.error(`codeShim: expected --extensionDevelopmentPath=, --extensionTestsPath= and a folder; got ${argv.join(' ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [path.join(__dirname, 'runCodeServer.js'), extensionDevelopmentPath, extensionTestsPath, workspace], { stdio: 'inherit' });
process.exit(r.status ?? 1);
