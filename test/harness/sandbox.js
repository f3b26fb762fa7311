#!/usr/bin/env node
// `npm run sandbox`: opens the example workspace in a browser VS Code (code-server from the
// test-host cache) with Labbook loaded from this checkout, for a look by hand.
//   npm run sandbox                          → prints a URL; Ctrl-C stops it
//   npm run sandbox -- --screenshot out.png  → headless: opens the Labbook view, saves a PNG, exits
//   npm run sandbox -- --folder DIR          → another workspace
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { ensureHost } = require('./installHost');

const root = path.resolve(__dirname, '..', '..');
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const folder = path.resolve(opt('folder') || path.join(root, 'examples', 'quickstart'));
const screenshot = opt('screenshot');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function main() {
  const host = ensureHost();
  const port = Number(opt('port')) || (await freePort());
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-sandbox-'));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data'), VSCODE_PROXY_URI: '' };
  const cs = spawn(host.node, [
    host.csEntry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', '--ignore-last-opened', '--disable-workspace-trust',
    '--user-data-dir', path.join(home, 'user-data'), '--extensions-dir', path.join(home, 'extensions'), '--config', path.join(home, 'config.yaml'),
    '--vscode-option', 'enable-smoke-test-driver',
  ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  cs.stdout.on('data', (d) => (log += d));
  cs.stderr.on('data', (d) => (log += d));
  const stop = () => {
    cs.kill('SIGTERM');
    fs.rmSync(home, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    stop();
    process.exit(0);
  });
  await new Promise((resolve, reject) => {
    const iv = setInterval(() => /HTTP server listening/.test(log) && (clearInterval(iv), resolve()), 50);
    cs.on('exit', (c) => reject(new Error(`code-server exited (${c}):\n${log.slice(-3000)}`)));
  });
  const authority = `127.0.0.1:${port}`;
  const payload = [['extensionDevelopmentPath', `vscode-remote://${authority}${root}`], ['skipWelcome', 'true']];
  const url = `http://${authority}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  if (!screenshot) {
    console.log(`Labbook sandbox: open ${url}\n(workspace ${folder}; Ctrl-C to stop)`);
    return;
  }
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(url);
    const icon = page.locator('.activitybar a[aria-label^="Labbook"], .activitybar li[aria-label^="Labbook"]').first();
    await icon.waitFor({ timeout: 60_000 });
    await icon.click();
    await page.locator('.monaco-list-row', { hasText: 'train-' }).first().waitFor({ timeout: 60_000 });
    await page.locator('.monaco-list-row', { hasText: 'train-' }).first().click();
    await page.keyboard.press('ArrowRight');
    await page.locator('.monaco-list-row', { hasText: 'epochs' }).first().waitFor({ timeout: 30_000 });
    // The Compare webview lives in nested iframes; wait until its script has rendered.
    const deadline = Date.now() + 30_000;
    let rendered = false;
    while (!rendered && Date.now() < deadline) {
      for (const f of page.frames()) {
        if (await f.locator('.empty-title, .runs').count().catch(() => 0)) rendered = true;
      }
      if (!rendered) await page.waitForTimeout(250);
    }
    if (!rendered) console.error('sandbox: the Compare view did not render within 30 s');
    await page.screenshot({ path: screenshot });
    console.log(`saved ${screenshot}`);
  } finally {
    await browser.close();
    stop();
  }
}

main().catch((e) => {
  console.error(`sandbox: ${e.message || e}`);
  process.exit(1);
});
