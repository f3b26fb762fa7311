/**
 * The Confusion-matrix webview in chromium, fed with evaluations the server code reads from a
 * real store (evaluation.json artifacts of the fixture runs). Screenshots in test-output/webview/.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import type { EvaluatedRun, EvaluationDto } from '../../server/protocol/views';
import { Store } from '../../server/store/db';
import { evaluatedRuns, readEvaluation } from '../../server/views/evaluation';
import type { HostToConfusion } from '../../webview/protocol/messages';
import { seedViews } from '../fixtures/views';
import { SHOTS, WebviewPages, canvasInk } from '../fixtures/webviewPage';

const pages = new WebviewPages();
let a: EvaluationDto;
let b: EvaluationDto;
let others: EvaluatedRun[];

/** Cells of the heatmap as shown: value, text, background alpha and colour, class. */
async function cells(p: import('playwright-core').Page) {
  return p.$$eval('table.cm td.cell', (tds) =>
    tds.map((td) => {
      const bg = getComputedStyle(td).backgroundColor;
      const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(bg)!;
      return {
        row: Number((td as HTMLElement).dataset.row),
        col: Number((td as HTMLElement).dataset.col),
        text: td.textContent ?? '',
        better: (td as HTMLElement).dataset.better,
        rgb: [Number(m[1]), Number(m[2]), Number(m[3])],
        alpha: m[4] === undefined ? 1 : Number(m[4]),
      };
    }),
  );
}

describe('Confusion-matrix webview in chromium', () => {
  before(async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-wv-cm-'));
    const s = seedViews(ws);
    const store = Store.open(ws)!;
    try {
      a = readEvaluation(store, s.cnnA);
      b = readEvaluation(store, s.cnnB);
      others = evaluatedRuns(store).filter((r) => r.id !== a.runId);
    } finally {
      store.close();
    }
    await pages.start();
  });
  after(() => pages.stop());

  const show = (): HostToConfusion => ({ type: 'confusion/show', evaluation: a, others });

  it('draws the last epoch as a heatmap whose colour strength follows the counts, and the per-class bars', async () => {
    const view = await pages.open('confusion', { width: 1000, height: 760 });
    const { p } = view;
    await view.send(show());
    const r = await view.waitForPosted('confusion/rendered');
    assert.deepEqual(r, { type: 'confusion/rendered', runId: a.runId, epoch: 5, mode: 'counts' });
    const cs = await cells(p);
    const last = a.epochs[a.epochs.length - 1].matrix;
    assert.equal(cs.length, 100);
    for (const c of cs) assert.equal(c.text, String(last[c.row][c.col]));
    // Colour order follows count order: a larger count is never lighter, strictly darker when larger.
    const sorted = [...cs].sort((x, y) => last[x.row][x.col] - last[y.row][y.col]);
    for (let i = 1; i < sorted.length; i++) {
      const lo = last[sorted[i - 1].row][sorted[i - 1].col];
      const hi = last[sorted[i].row][sorted[i].col];
      if (hi > lo) assert.ok(sorted[i].alpha > sorted[i - 1].alpha, `count ${hi} is darker than ${lo} (${sorted[i].alpha} vs ${sorted[i - 1].alpha})`);
      else assert.equal(sorted[i].alpha, sorted[i - 1].alpha);
    }
    assert.equal(cs.find((c) => last[c.row][c.col] === 0)!.alpha, 0, 'zero is left blank');
    const bars = await canvasInk(p, '#bars canvas', ['#3794ff', '#d18616', '#89d185']);
    assert.ok(bars.near.every((n) => n > 200), `precision, recall and F1 bars drawn: ${bars.near.join(', ')}`);
    assert.match((await p.textContent('.stat-value')) ?? '', new RegExp(`${(a.epochs[4].accuracy! * 100).toFixed(2)}%`));
    assert.deepEqual(await view.violations(), []);
    await p.screenshot({ path: path.join(SHOTS, 'confusion-counts.png'), fullPage: true });
    await p.close();
  });

  it('moves through epochs with the slider and shows row-normalized rates', async () => {
    const view = await pages.open('confusion', { width: 1000, height: 760 });
    const { p } = view;
    await view.send(show());
    await view.waitForPosted('confusion/rendered');
    const n = (await view.posted()).length;
    await p.$eval('#epoch', (el) => {
      const input = el as HTMLInputElement;
      input.value = '0';
      input.dispatchEvent(new Event('input'));
    });
    assert.equal((await view.waitForPosted('confusion/rendered', n)).epoch, 1);
    const first = a.epochs[0].matrix;
    for (const c of await cells(p)) assert.equal(c.text, String(first[c.row][c.col]));
    await p.selectOption('select >> nth=0', 'normalized');
    const rows = new Map<number, number>();
    for (const c of await cells(p)) rows.set(c.row, (rows.get(c.row) ?? 0) + Number(c.text));
    for (const [row, sum] of rows) assert.ok(Math.abs(sum - 100) < 0.6, `row ${row} sums to 100% (${sum})`);
    await p.screenshot({ path: path.join(SHOTS, 'confusion-epoch1-normalized.png'), fullPage: true });
    const st = (await view.state()) as { runId: string; ui: { epochIndex: number; mode: string } };
    assert.deepEqual([st.runId, st.ui.epochIndex, st.ui.mode], [a.runId, 0, 'normalized']);
    await p.close();
  });

  it('a click (or Enter) on a cell lists its misclassified examples with their thumbnails', async () => {
    const view = await pages.open('confusion', { width: 1000, height: 1000 });
    const { p } = view;
    await view.send(show());
    await view.waitForPosted('confusion/rendered');
    const last = a.epochs[a.epochs.length - 1].matrix;
    // The largest off-diagonal cell.
    let best = [0, 1];
    last.forEach((row, i) => row.forEach((v, j) => i !== j && v > last[best[0]][best[1]] && (best = [i, j])));
    const want = a.examples.filter((x) => x.actual === best[0] && x.predicted === best[1]);
    assert.ok(want.length > 0, 'the fixture has examples for that cell');
    await p.click(`td.cell[data-row="${best[0]}"][data-col="${best[1]}"]`);
    await p.waitForSelector('#examples .example');
    assert.equal(await p.$$eval('#examples .example canvas', (cs) => cs.length), want.length);
    const ink = await canvasInk(p, '#examples .example canvas');
    assert.ok(ink.inked === 28 * 28, 'a thumbnail is drawn opaque at 28×28');
    const bright = await p.$eval('#examples .example canvas', (c) => {
      const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
      return n;
    });
    assert.ok(bright > 30 && bright < 600, `the thumbnail shows a figure (${bright} bright pixels)`);
    assert.match((await p.textContent('#examples .card-title')) ?? '', new RegExp(`Actual ${best[0]}, predicted ${best[1]}`));
    await p.screenshot({ path: path.join(SHOTS, 'confusion-examples.png'), fullPage: true });
    // Keyboard: the matrix is one tab stop (the picked cell); Enter on a diagonal cell says there
    // is nothing misclassified there; arrows move to the next cell, focus survives the redraw.
    assert.deepEqual(await p.$$eval('td.cell[tabindex="0"]', (tds) => tds.map((td) => `${(td as HTMLElement).dataset.row},${(td as HTMLElement).dataset.col}`)), [`${best[0]},${best[1]}`]);
    await p.focus('td.cell[data-row="2"][data-col="2"]');
    await p.keyboard.press('Enter');
    await p.waitForSelector('#examples .muted');
    assert.match((await p.textContent('#examples .muted')) ?? '', /Correct predictions/);
    await p.keyboard.press('ArrowRight');
    await p.keyboard.press('Enter');
    await p.waitForFunction(() => /Actual 2, predicted 3/.test(document.querySelector('#examples .card-title')?.textContent ?? ''));
    assert.equal(await p.evaluate(() => `${(document.activeElement as HTMLElement).dataset.row},${(document.activeElement as HTMLElement).dataset.col}`), '2,3');
    await p.close();
  });

  it('diffs against another run: green where this run does better, red where worse', async () => {
    const view = await pages.open('confusion', { width: 1000, height: 800 });
    const { p } = view;
    await view.send(show());
    await view.waitForPosted('confusion/rendered');
    const n = (await view.posted()).length;
    await p.selectOption('select >> nth=1', b.runId);
    assert.deepEqual(await view.waitForPosted('confusion/against', n), { type: 'confusion/against', id: b.runId });
    await view.send({ type: 'confusion/against', evaluation: b });
    await p.waitForFunction(() => document.querySelector('td.cell[data-better]') !== null);
    const cs = await cells(p);
    const norm = (m: number[][], i: number, j: number) => m[i][j] / m[i].reduce((x, y) => x + y, 0);
    const am = a.epochs[4].matrix;
    const bm = b.epochs[4].matrix;
    let green = 0;
    let red = 0;
    for (const c of cs) {
      const d = norm(am, c.row, c.col) - norm(bm, c.row, c.col);
      if (Math.abs(d) < 1e-12) {
        assert.equal(c.better, 'same');
        continue;
      }
      const better = c.row === c.col ? d > 0 : d < 0;
      assert.equal(c.better, better ? 'better' : 'worse', `cell ${c.row},${c.col} delta ${d}`);
      // Green (#89d185) has more green than red; red (#f14c4c) the other way round.
      if (better) assert.ok(c.rgb[1] > c.rgb[0], `better is green: ${c.rgb}`), green++;
      else assert.ok(c.rgb[0] > c.rgb[1], `worse is red: ${c.rgb}`), red++;
    }
    // The fixture's run A is the weaker one: its diagonal is worse than B's.
    assert.ok(red > 0 && cs.filter((c) => c.row === c.col && c.better === 'worse').length >= 5, `A regresses against B on most classes (${green} green, ${red} red)`);
    assert.match((await p.textContent('#matrix .card-title')) ?? '', new RegExp(`Delta vs ${b.runName}`));
    await p.screenshot({ path: path.join(SHOTS, 'confusion-delta.png'), fullPage: true });
    await p.close();
  });

  it('says why there is nothing to show', async () => {
    const view = await pages.open('confusion', { width: 600, height: 300 });
    await view.send({ type: 'confusion/show', evaluation: null, others: [], error: 'Run 1234abcd (mlp) recorded no evaluation: it has no evaluation.json artifact' });
    await view.p.waitForSelector('.empty-text.error');
    assert.match((await view.p.textContent('.empty-text')) ?? '', /recorded no evaluation/);
    await view.p.close();
  });
});

describe('Confusion-matrix webview in a light theme', () => {
  const light = new WebviewPages(`:root{--vscode-font-family:system-ui,sans-serif;--vscode-font-size:13px;--vscode-foreground:#3b3b3b;
--vscode-editor-background:#ffffff;--vscode-descriptionForeground:#717171;--vscode-panel-border:#e5e5e5;--vscode-charts-blue:#1a85ff;
--vscode-charts-orange:#d18616;--vscode-charts-green:#388a34;--vscode-charts-red:#e51400;--vscode-focusBorder:#0090f1}\n`);
  before(() => light.start());
  after(() => light.stop());

  it("follows the theme's colours: dark text on a light page, white only on strong cells", async () => {
    const view = await light.open('confusion', { width: 1000, height: 760 });
    const { p } = view;
    await view.send({ type: 'confusion/show', evaluation: a, others: [] });
    await view.waitForPosted('confusion/rendered');
    assert.equal(await p.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 255, 255)');
    assert.equal(await p.$eval('td.cell[data-row="0"][data-col="1"]', (td) => getComputedStyle(td).color), 'rgb(59, 59, 59)');
    assert.equal(await p.$eval('td.cell[data-row="0"][data-col="0"]', (td) => getComputedStyle(td).color), 'rgb(255, 255, 255)');
    const cs = await cells(p);
    assert.ok(cs.every((c) => c.alpha === 0 || (c.rgb[0] === 26 && c.rgb[1] === 133 && c.rgb[2] === 255)), "cells use the theme's blue");
    await p.screenshot({ path: path.join(SHOTS, 'confusion-light.png'), fullPage: true });
    await p.close();
  });
});
