#!/usr/bin/env node
// `npm run sandbox`: opens the example workspace in a browser VS Code (code-server from the
// test-host cache) with Labbook loaded from this checkout, for a look by hand.
//   npm run sandbox                          → prints a URL; Ctrl-C stops it
//   npm run sandbox -- --screenshot out.png  → headless: opens the Labbook view, saves a PNG, exits
//   npm run sandbox -- --folder DIR          → another workspace (--port N for a fixed port)
'use strict';
const path = require('path');
const { CHROMIUM_ARGS, startCodeServer } = require('./codeServer');
const { ensureHost } = require('./installHost');

const root = path.resolve(__dirname, '..', '..');
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const folder = path.resolve(opt('folder') || path.join(root, 'examples', 'quickstart'));
const screenshot = opt('screenshot');

async function main() {
  const host = ensureHost();
  const cs = await startCodeServer({ node: host.node, csEntry: host.csEntry, port: Number(opt('port')) || undefined });
  process.on('SIGINT', () => {
    cs.stop();
    process.exit(0);
  });
  const authority = cs.authority;
  const payload = [['extensionDevelopmentPath', `vscode-remote://${authority}${root}`], ['skipWelcome', 'true']];
  const url = `http://${authority}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  if (!screenshot) {
    console.log(`Labbook sandbox: open ${url}\n(workspace ${folder}; Ctrl-C to stop)`);
    return;
  }
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(url);
    const icon = page.locator('.activitybar a[aria-label^="Labbook"], .activitybar li[aria-label^="Labbook"]').first();
    await icon.waitFor({ timeout: 60_000 });
    await icon.click();
    const run = page.locator('.monaco-list-row', { hasText: /finished|failed|crashed|running/ }).first();
    await run.waitFor({ timeout: 60_000 });
    await run.click();
    await page.keyboard.press('ArrowRight');
    await page.locator('.monaco-list-row', { hasText: '(cli)' }).first().waitFor({ timeout: 30_000 });
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
    cs.stop();
  }
}

main().catch((e) => {
  console.error(`sandbox: ${e.message || e}`);
  process.exit(1);
});
