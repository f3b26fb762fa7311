/// <reference lib="dom" />
/**
 * The Compare webview in a real browser (Debian chromium via playwright-core), rendered from
 * the same HTML builder the extension uses, served from a loopback origin that stands in for
 * VS Code's webview resource origin. Screenshots land in out/screenshots/ to be looked at.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { makeNonce, webviewHtml } from '../../extension/panels/html';
import type { HostToCompare } from '../../webview/protocol/messages';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SHOTS = path.join(ROOT, 'out', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// A few of VS Code's dark-theme variables, so screenshots look like the real thing.
const THEME = `:root{--vscode-font-family:system-ui,sans-serif;--vscode-font-size:13px;--vscode-foreground:#cccccc;
--vscode-sideBar-background:#252526;--vscode-descriptionForeground:#9d9d9d;--vscode-button-foreground:#fff;
--vscode-button-background:#0e639c;--vscode-button-hoverBackground:#1177bb;--vscode-focusBorder:#007fd4;
--vscode-testing-iconFailed:#f14c4c;--vscode-charts-orange:#d18616}\n`;

let server: http.Server;
let origin = '';
let browser: Browser;
/** Extra markup injected into the page by a test (to prove the CSP blocks it). */
let inject = '';

function page(html: string, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(html);
}

async function openView(state?: unknown): Promise<{ p: Page; posted: () => Promise<unknown[]>; violations: () => Promise<string[]> }> {
  const p = await browser.newPage({ viewport: { width: 360, height: 260 } });
  await p.addInitScript((initial) => {
    const w = window as unknown as Record<string, unknown>;
    w.__posted = [];
    w.__violations = [];
    w.__state = initial ?? undefined;
    document.addEventListener('securitypolicyviolation', (e) => (w.__violations as string[]).push(`${e.violatedDirective} ${e.blockedURI}`));
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => (w.__posted as unknown[]).push(m),
      getState: () => w.__state,
      setState: (s: unknown) => (w.__state = s),
    });
  }, state ?? null);
  await p.goto(`${origin}/index.html`);
  return {
    p,
    posted: () => p.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted),
    violations: () => p.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
  };
}

describe('Compare webview in chromium', () => {
  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    server = http.createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/index.html') {
        const html = webviewHtml({ cspSource: origin, nonce: makeNonce(), scriptUri: `${origin}/compare.js`, styleUri: `${origin}/style.css`, title: 'Compare runs' });
        return page(html.replace('</body>', `${inject}</body>`), res);
      }
      if (url === '/compare.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        return res.end(fs.readFileSync(path.join(ROOT, 'dist', 'webview', 'compare.js')));
      }
      if (url === '/style.css') {
        res.writeHead(200, { 'content-type': 'text/css' });
        return res.end(THEME + fs.readFileSync(path.join(ROOT, 'media', 'webview.css'), 'utf8'));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('loads under the CSP, says ready, and shows the empty state', async () => {
    const { p, posted, violations } = await openView();
    await p.waitForSelector('.empty-title');
    assert.deepEqual(await posted(), [{ type: 'compare/ready' }]);
    assert.equal(await p.textContent('.empty-title'), 'Compare runs');
    assert.match((await p.textContent('.empty-text')) ?? '', /Select two or more runs/);
    assert.deepEqual(await violations(), []);
    await p.screenshot({ path: path.join(SHOTS, 'compare-empty.png') });
    await p.close();
  });

  it('the CSP really blocks an inline script without the nonce and remote images', async () => {
    inject = '<script>window.__inline = 1</script><img src="https://example.com/pixel.png">';
    try {
      const { p, violations } = await openView();
      await p.waitForSelector('.empty-title');
      await p.waitForFunction(() => (window as unknown as { __violations: string[] }).__violations.length >= 2);
      assert.equal(await p.evaluate(() => (window as unknown as { __inline?: number }).__inline), undefined);
      const v = await violations();
      assert.ok(v.some((x) => x.startsWith('script-src')), v.join('; '));
      assert.ok(v.some((x) => x.startsWith('img-src') && x.includes('example.com')), v.join('; '));
      await p.close();
    } finally {
      inject = '';
    }
  });

  it('renders runs it is sent, keeps them in state, and restores from state', async () => {
    const { p } = await openView();
    await p.waitForSelector('.empty-title');
    const msg: HostToCompare = {
      type: 'compare/show',
      runs: [
        { id: 'a1b2c3d4', name: 'baseline', status: 'finished' },
        { id: 'e5f6a7b8', name: 'lr-0.1', status: 'failed' },
      ],
      storeRunCount: 2,
    };
    await p.evaluate((m) => window.postMessage(m, '*'), msg);
    await p.waitForSelector('.runs');
    assert.deepEqual(await p.$$eval('.run', (els) => els.map((e) => e.textContent)), ['baseline (a1b2c3d4)', 'lr-0.1 (e5f6a7b8)']);
    const saved = await p.evaluate(() => (window as unknown as { __state: unknown }).__state);
    assert.deepEqual(saved, { last: msg });
    await p.screenshot({ path: path.join(SHOTS, 'compare-runs.png') });
    await p.close();
    const restored = await openView(saved);
    await restored.p.waitForSelector('.runs');
    assert.equal(await restored.p.$$eval('.run', (els) => els.length), 2);
    await restored.p.close();
  });

  it('"Show Runs" posts the intent to the host', async () => {
    const { p, posted } = await openView();
    await p.click('button.link');
    assert.deepEqual(await posted(), [{ type: 'compare/ready' }, { type: 'compare/openRunsView' }]);
    await p.close();
  });
});
