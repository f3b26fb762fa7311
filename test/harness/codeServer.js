// Starts code-server (from installHost.js's cache) on a free loopback port with everything it
// writes kept in a throw-away home. Shared by the integration runner and the sandbox.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * @param {{ node: string, csEntry: string, port?: number, trustPrompt?: boolean, onOutput?: (chunk: string) => void }} o
 * @returns {Promise<{ authority: string, env: NodeJS.ProcessEnv, proc: import('child_process').ChildProcess, output: () => string, stop: () => void }>}
 */
async function startCodeServer(o) {
  const port = o.port || (await freePort());
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-host-'));
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_CACHE_HOME: path.join(home, 'cache'),
    VSCODE_PROXY_URI: '',
  };
  const args = [
    o.csEntry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', path.join(home, 'user-data'),
    '--extensions-dir', path.join(home, 'extensions'),
    '--config', path.join(home, 'config.yaml'),
    // Without the smoke-test driver the workbench ignores the URL payload (extension under
    // development, tests) silently.
    '--vscode-option', 'enable-smoke-test-driver',
  ];
  if (!o.trustPrompt) args.push('--disable-workspace-trust');
  const proc = spawn(o.node, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const onData = (d) => {
    output = (output + d).slice(-20_000);
    o.onOutput?.(String(d));
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const stop = () => {
    proc.kill('SIGTERM');
    fs.rmSync(home, { recursive: true, force: true });
  };
  await new Promise((resolve, reject) => {
    const iv = setInterval(() => {
      if (/HTTP server listening/.test(output)) {
        clearInterval(iv);
        resolve();
      }
    }, 50);
    proc.once('exit', (code) => {
      clearInterval(iv);
      reject(new Error(`code-server exited (${code}) before listening:\n${output.slice(-4000)}`));
    });
  });
  return { authority: `127.0.0.1:${port}`, env, proc, output: () => output, stop };
}

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

module.exports = { freePort, startCodeServer, CHROMIUM_ARGS };
