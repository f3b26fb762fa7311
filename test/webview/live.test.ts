/**
 * The Live training webview in chromium, fed with what the server's live request reads from a
 * real store while a run is "running" (owned by this process) and keeps logging.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import { Store } from '../../server/store/db';
import { liveData } from '../../server/views/live';
import { seedViews } from '../fixtures/views';
import { SHOTS, WebviewPages, canvasInk } from '../fixtures/webviewPage';

const pages = new WebviewPages();
let ws: string;
let runId: string;

describe('Live training webview in chromium', () => {
  before(async () => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-wv-live-'));
    runId = seedViews(ws, { runningPid: process.pid }).running!;
    await pages.start();
  });
  after(() => pages.stop());

  it('shows the curves, progress, ETA, samples/s and backend, and grows the curves as points arrive', async () => {
    const store = Store.open(ws)!;
    try {
      const view = await pages.open('live', { width: 900, height: 560 });
      const { p } = view;
      await p.waitForSelector('.empty-text');
      const first = liveData(store, { id: runId }, () => true);
      await view.send({ type: 'live/reset', data: first });
      const r1 = await view.waitForPosted('live/rendered');
      assert.equal(r1.points, 80, 'loss and accuracy, 40 points each (epoch and samples/s are figures, not curves)');
      assert.deepEqual(await p.$$eval('.card-title', (h) => h.map((x) => x.textContent)), ['loss', 'accuracy']);
      const stat = (id: string) => p.$eval(`#${id} .stat-value`, (e) => e.textContent);
      assert.equal(await stat('progress'), '4 / 10');
      assert.equal(await stat('samples'), '4812');
      assert.equal(await stat('backend'), 'wasm');
      assert.match((await stat('eta')) ?? '', /^1m\d\ds$/, 'about 1.5 min left: 4 of 10 epochs took ~60 s');
      assert.equal(await p.$eval('button.danger', (b) => (b as HTMLButtonElement).disabled), false);
      const before = await canvasInk(p, '.live-grid canvas');
      assert.ok(before.inked > 500, 'loss curve drawn');
      // The run logs 20 more steps; the next poll sends only those.
      const since = Object.fromEntries(first.series.map((s) => [s.key, s.steps[s.steps.length - 1]]));
      const w = store.metricWriter(runId);
      for (let s = 40; s < 60; s++) w.log('loss', 0.05 + 1 / (s + 1), s, Date.now());
      w.log('epoch', 6, 5);
      w.close();
      const next = liveData(store, { id: runId, since }, () => true);
      assert.deepEqual(next.series.map((s) => [s.key, s.steps.length]), [['epoch', 1], ['loss', 20]]);
      const n = (await view.posted()).length;
      await view.send({ type: 'live/append', data: next });
      assert.equal((await view.waitForPosted('live/rendered', n)).points, 100);
      assert.equal(await stat('progress'), '6 / 10');
      assert.match((await p.textContent('[data-metric="loss"]')) ?? '', /@59$/);
      await p.screenshot({ path: path.join(SHOTS, 'live-running.png') });
      // Cancel goes to the host.
      await p.click('button.danger');
      await view.waitForPosted('live/cancel', n);
      // The run ends: Cancel is disabled, ETA says done.
      store.endRun(runId, 'finished', 0);
      const done = liveData(store, { id: runId, since: { loss: 59, epoch: 5, accuracy: 39 } }, () => false);
      await view.send({ type: 'live/append', data: done });
      await p.waitForSelector('.badge.finished');
      assert.equal(await p.$eval('button.danger', (b) => (b as HTMLButtonElement).disabled), true);
      assert.equal(await stat('eta'), 'done');
      assert.deepEqual(await view.violations(), []);
      await p.screenshot({ path: path.join(SHOTS, 'live-finished.png') });
      await p.close();
    } finally {
      store.close();
    }
  });
});
