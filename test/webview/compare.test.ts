/**
 * The Compare webview in a real browser (Debian chromium via playwright-core), rendered from
 * the extension's own HTML shell under its CSP, fed with a comparison the server code builds
 * from a real store. Screenshots land in test-output/webview/ to be looked at.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import { Store } from '../../server/store/db';
import { compareRuns } from '../../server/views/compare';
import type { CompareData, HostToCompare } from '../../webview/protocol/messages';
import { seedViews } from '../fixtures/views';
import { SHOTS, WebviewPages, canvasInk } from '../fixtures/webviewPage';

const pages = new WebviewPages();
let data: CompareData;
let ids: string[];
const BLUE = '#3794ff';
const ORANGE = '#d18616';

function show(d: CompareData | null, where: 'view' | 'editor' = 'editor', extra: Partial<Extract<HostToCompare, { type: 'compare/show' }>> = {}): HostToCompare {
  return { type: 'compare/show', ids: d?.runs.map((r) => r.id) ?? [], data: d, storeRunCount: d ? -1 : 0, options: { chartPoints: 2000, where, canDiffCode: false }, ...extra };
}

describe('Compare webview in chromium', () => {
  before(async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-wv-compare-'));
    const s = seedViews(ws, { steps: 300 });
    const store = Store.open(ws)!;
    try {
      ids = [s.mlp, s.cnnA, s.cnnB];
      data = compareRuns(store, { ids });
    } finally {
      store.close();
    }
    await pages.start();
  });
  after(() => pages.stop());

  it('loads under the CSP, says ready, and shows the empty state', async () => {
    const { p, posted, violations } = await pages.open('compare', { width: 360, height: 260 });
    await p.waitForSelector('.empty-title');
    assert.deepEqual(await posted(), [{ type: 'compare/ready' }]);
    assert.match((await p.textContent('.empty-text')) ?? '', /Select two or more runs/);
    assert.deepEqual(await violations(), []);
    await p.screenshot({ path: path.join(SHOTS, 'compare-empty.png') });
    await p.close();
  });

  it('the CSP really blocks an inline script without the nonce and remote images', async () => {
    pages.inject = '<script>window.__inline = 1</script><img src="https://example.com/pixel.png">';
    try {
      const { p, violations } = await pages.open('compare');
      await p.waitForSelector('.empty-title');
      await p.waitForFunction(() => (window as unknown as { __violations: string[] }).__violations.length >= 2);
      assert.equal(await p.evaluate(() => (window as unknown as { __inline?: number }).__inline), undefined);
      const v = await violations();
      assert.ok(v.some((x) => x.startsWith('script-src')), v.join('; '));
      assert.ok(v.some((x) => x.startsWith('img-src') && x.includes('example.com')), v.join('; '));
      await p.close();
    } finally {
      pages.inject = '';
    }
  });

  it('shows three runs: differing parameters highlighted, metrics with direction and best, data and package changes', async () => {
    const view = await pages.open('compare', { width: 1100, height: 1900 });
    const { p } = view;
    await p.waitForSelector('.empty-title');
    await view.send(show(data));
    const rendered = await view.waitForPosted('compare/rendered');
    assert.deepEqual(rendered.runIds, ids);
    // Parameters: lr, batch, model, optimizer differ; epochs (5 everywhere) does not.
    const rows = await p.$$eval('#params tbody tr', (trs) => trs.map((tr) => ({ key: tr.querySelector('th')!.textContent, cls: tr.className, cells: Array.from(tr.querySelectorAll('td')).map((td) => ({ text: td.textContent, cls: td.className })) })));
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const k of ['lr', 'batch', 'model', 'optimizer']) {
      assert.equal(byKey.get(k)?.cls, 'differs', `${k} is highlighted`);
      assert.ok(byKey.get(k)!.cells.every((c) => c.cls.includes('diff-cell')));
    }
    assert.equal(byKey.get('epochs')?.cls, 'same');
    assert.deepEqual(byKey.get('lr')!.cells.map((c) => c.text), ['0.01', '0.01', '0.03']);
    // The highlight is visible: the differing cells get the theme's diff background.
    const bg = await p.$eval('#params tr.differs td.diff-cell', (td) => getComputedStyle(td).backgroundColor);
    assert.equal(bg, 'rgba(155, 185, 85, 0.2)');
    assert.match((await p.textContent('#params .card-title')) ?? '', /4 of 5 differ/);
    // Metrics: loss is lower-is-better, accuracy higher; the best run is marked.
    const metric = (key: string) =>
      p.$eval(`#metrics tbody tr:has(th:text-is("${key}"))`, (tr) => ({ dir: tr.querySelector('.dir')!.textContent, best: Array.from(tr.querySelectorAll('td')).map((td) => td.classList.contains('best')) }));
    const loss = await metric('loss');
    assert.equal(loss.dir, ' ↓');
    const bestLoss = data.runs.map((r) => r.metrics.find((m) => m.key === 'loss')!.best!);
    assert.deepEqual(loss.best, bestLoss.map((b) => b === Math.min(...bestLoss)));
    assert.equal((await metric('accuracy')).dir, ' ↑');
    // Data & environment: the data file and numpy changed; labels.csv identical.
    const context = await p.$$eval('#context tbody tr', (trs) => trs.map((tr) => `${tr.className}|${tr.querySelector('th')!.textContent}`));
    assert.ok(context.includes('differs|data data/train.csv'), context.join('\n'));
    assert.ok(context.includes('differs|pkg numpy'), context.join('\n'));
    assert.ok(context.includes('same|1 data file identical'), context.join('\n'));
    assert.ok(!context.some((c) => c.includes('torch')), 'identical packages are not listed');
    // Charts are drawn, each run's colour on the curves.
    const curves = await canvasInk(p, '#curves canvas', [BLUE, ORANGE]);
    assert.ok(curves.inked > 2000, `curves canvas has ink (${curves.inked} px)`);
    assert.ok(curves.near[0] > 100 && curves.near[1] > 100, `run colours on the curves: ${curves.near.join(', ')}`);
    assert.ok((await canvasInk(p, '#scatter canvas')).inked > 500, 'scatter drawn');
    assert.ok((await canvasInk(p, '#parallel canvas')).inked > 500, 'parallel coordinates drawn');
    assert.deepEqual(await view.violations(), []);
    await p.screenshot({ path: path.join(SHOTS, 'compare-editor.png'), fullPage: true });
    await p.close();
  });

  it('hides identical parameters, groups curves by a parameter with a band, and keeps its settings', async () => {
    const view = await pages.open('compare', { width: 1100, height: 1900 });
    const { p } = view;
    await view.send(show(data));
    await view.waitForPosted('compare/rendered');
    await p.check('#params input[type=checkbox]');
    assert.deepEqual(await p.$$eval('#params tbody th', (ths) => ths.map((t) => t.textContent)), ['batch', 'lr', 'model', 'optimizer']);
    await p.selectOption('#curves select >> nth=2', 'model');
    await p.waitForFunction(() => /line = mean/.test(document.querySelector('#curves .muted.small')?.textContent ?? ''));
    const legend = await p.evaluate(() => document.querySelector('#curves .muted.small')!.textContent);
    assert.match(legend ?? '', /points drawn/);
    assert.ok((await canvasInk(p, '#curves canvas')).inked > 2000);
    await p.screenshot({ path: path.join(SHOTS, 'compare-grouped.png'), fullPage: true });
    const saved = (await view.state()) as { ui: { hideIdentical: boolean; groupBy: string }; ids: string[] };
    assert.equal(saved.ui.hideIdentical, true);
    assert.equal(saved.ui.groupBy, 'model');
    assert.deepEqual(saved.ids, ids, 'the ids the editor tab is restored with');
    await p.close();
    // A reopened page (hidden view, reloaded window) comes back with data and settings, before any message.
    const again = await pages.open('compare', { state: saved, width: 1100, height: 1900 });
    await again.p.waitForSelector('#params tbody tr');
    assert.equal(await again.p.$$eval('#params tbody tr', (trs) => trs.length), 4);
    assert.equal(await again.p.$eval('#curves select >> nth=2', (s) => (s as HTMLSelectElement).value), 'model');
    await again.p.close();
  });

  it('exports tables as CSV and charts as PNG through the host', async () => {
    const view = await pages.open('compare', { width: 1100, height: 1500 });
    const { p } = view;
    await view.send(show(data));
    await view.waitForPosted('compare/rendered');
    const n = (await view.posted()).length;
    await p.click('#params .card-actions button');
    const csv = (await view.waitForPosted('compare/exportCsv', n)) as unknown as { name: string; csv: string };
    assert.equal(csv.name, 'parameters.csv');
    const lines = csv.csv.trim().split('\n');
    assert.equal(lines[0], `parameter,${data.runs.map((r) => `${r.name} (${r.id})`).join(',')}`);
    assert.ok(lines.includes('lr,0.01,0.01,0.03'), lines.join('\n'));
    await p.click('#curves .card-actions button');
    const png = (await view.waitForPosted('compare/exportPng', n)) as unknown as { dataUrl: string };
    assert.match(png.dataUrl, /^data:image\/png;base64,/);
    assert.ok(Buffer.from(png.dataUrl.split(',')[1], 'base64').length > 5000, 'a real picture');
    await p.close();
  });

  it('fits the narrow sidebar and offers to open in an editor tab', async () => {
    const view = await pages.open('compare', { width: 340, height: 1400 });
    const { p } = view;
    await view.send(show({ ...data, runs: data.runs.slice(1) }, 'view'));
    await view.waitForPosted('compare/rendered');
    const n = (await view.posted()).length;
    await p.click('button:text-is("Open in editor")');
    await view.waitForPosted('compare/openInEditor', n);
    assert.equal(await p.$eval('button:text-is("Diff code")', (b) => (b as HTMLButtonElement).disabled), true, 'no diff command: disabled');
    assert.ok((await canvasInk(p, '#curves canvas')).inked > 1000);
    await p.screenshot({ path: path.join(SHOTS, 'compare-sidebar.png'), fullPage: true });
    await p.close();
  });

  it('says why when the comparison failed, and "Show Runs" posts the intent', async () => {
    const view = await pages.open('compare', { width: 360, height: 260 });
    await view.send(show(null, 'view', { error: "No run 'zzz' in /w/.labbook/labbook.db", storeRunCount: -1 }));
    await view.p.waitForSelector('.empty-text.error');
    assert.match((await view.p.textContent('.empty-text')) ?? '', /No run 'zzz'/);
    await view.p.click('button.link');
    assert.deepEqual((await view.posted()).map((m) => m.type), ['compare/ready', 'compare/openRunsView']);
    await view.p.close();
  });
});
