// Runs an extension's tests inside code-server's real extension host, with the workbench open in
// headless chromium (playwright-core). The test result comes back through the workbench's
// smoke-test driver hook `codeAutomationExit`; this process exits with it.
//   node runCodeServer.js EXTENSION_DIR TESTS_ENTRY WORKSPACE
// Env: LABBOOK_CS_ENTRY, LABBOOK_CS_NODE (from installHost.js), CHROMIUM (default /usr/bin/chromium),
//      LABBOOK_TEST_TIMEOUT_MS, LABBOOK_VERBOSE, LABBOOK_SCREENSHOT (a PNG path for the final workbench).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const util = require('util');
const { chromium } = require('playwright-core');

const [extDir, testsEntry, workspace] = process.argv.slice(2).map((p) => path.resolve(p));
const csEntry = process.env.LABBOOK_CS_ENTRY;
const csNode = process.env.LABBOOK_CS_NODE;
const chrome = process.env.CHROMIUM || '/usr/bin/chromium';
const timeoutMs = Number(process.env.LABBOOK_TEST_TIMEOUT_MS || 300_000);
const verbose = !!process.env.LABBOOK_VERBOSE;

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

async function main() {
  if (!csEntry || !csNode) throw new Error('LABBOOK_CS_ENTRY and LABBOOK_CS_NODE must be set (see test/harness/installHost.js)');
  if (!fs.existsSync(chrome)) throw new Error(`no chromium at ${chrome}: apt-get install chromium`);
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const port = await freePort();
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
    csEntry,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', path.join(home, 'user-data'),
    '--extensions-dir', path.join(home, 'extensions'),
    '--config', path.join(home, 'config.yaml'),
    // Without the smoke-test driver the workbench ignores the test payload and the run hangs.
    '--vscode-option', 'enable-smoke-test-driver',
  ];
  if (!process.env.LABBOOK_TRUST_PROMPT) args.push('--disable-workspace-trust');
  const cs = spawn(csNode, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let csLog = '';
  const onData = (d) => {
    csLog = (csLog + d).slice(-20_000);
    if (verbose) process.stderr.write(`[code-server] ${d}`);
  };
  cs.stdout.on('data', onData);
  cs.stderr.on('data', onData);

  let browser;
  let finished = false;
  const finish = async (code, why) => {
    if (finished) return;
    finished = true;
    if (why) console.error(`[host] ${why}`);
    try {
      await browser?.close();
    } catch {
      // already gone
    }
    cs.kill('SIGTERM');
    fs.rmSync(home, { recursive: true, force: true });
    console.log(`[host] exit ${code} after ${elapsed()}`);
    process.exit(code);
  };
  const timer = setTimeout(() => finish(124, `timed out after ${timeoutMs} ms\n${csLog.slice(-4000)}`), timeoutMs);
  cs.on('exit', (code) => finish(3, `code-server exited early (${code})\n${csLog.slice(-4000)}`));

  await new Promise((resolve) => {
    const iv = setInterval(() => {
      if (/HTTP server listening/.test(csLog)) {
        clearInterval(iv);
        resolve();
      }
    }, 50);
  });
  console.log(`[host] code-server ${path.basename(path.dirname(path.dirname(path.dirname(csEntry))))} up on 127.0.0.1:${port} after ${elapsed()}`);

  browser = await chromium.launch({
    executablePath: chrome,
    headless: true,
    env,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const authority = `127.0.0.1:${port}`;
  const result = new Promise((resolve) => {
    void page.exposeFunction('codeAutomationLog', (_type, logArgs) => {
      const line = util.format(...(logArgs || []));
      // The workbench chatters ([AgentHost] …, its own stack traces); the tests' output is the rest.
      if (verbose || !(/^\[[A-Za-z]+\]/.test(line) || line.includes('/static/out/vs/'))) console.log(line);
    });
    void page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  page.on('pageerror', (e) => console.error(`[workbench error] ${e.message}`));
  if (verbose) page.on('console', (m) => console.error(`[workbench ${m.type()}] ${m.text()}`));
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${extDir}`],
    ['extensionTestsPath', `vscode-remote://${authority}${testsEntry}`],
    ['skipWelcome', 'true'],
  ];
  await page.goto(`http://${authority}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const code = await result;
  clearTimeout(timer);
  if (process.env.LABBOOK_SCREENSHOT) {
    await page.screenshot({ path: process.env.LABBOOK_SCREENSHOT }).catch((e) => console.error(`[host] screenshot failed: ${e.message}`));
  }
  await finish(code);
}

main().catch((e) => {
  console.error(`[host] ${e.stack || e}`);
  process.exit(1);
});
