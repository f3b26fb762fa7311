/// <reference lib="dom" />
/**
 * The notebook diff webview in a real browser (Debian chromium via playwright-core), fed the
 * view model the server builds from the fixture pairs, under the extension's CSP. Screenshots
 * land in test-output/webview/diff-*.png to be looked at.
 */
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { notebookPairView } from '../../server/notebook/view';
import type { DiffParams } from '../../server/protocol/diffDto';
import type { DiffViewState, HostToDiff } from '../../webview/protocol/diff';
import { type Notebook, code, image, md, notebook, pairs, png, stream } from '../fixtures/diffPairs';
import { DARK_THEME, SHOTS, WebviewPages } from '../fixtures/webviewPage';

/** VS Code's diff-editor colours on top of the shared dark theme, and a light theme. */
const DARK = `${DARK_THEME}:root{--vscode-editorLineNumber-foreground:#6e7681;
--vscode-diffEditor-insertedLineBackground:rgba(155,185,85,.2);--vscode-diffEditor-removedLineBackground:rgba(255,0,0,.2);
--vscode-diffEditor-insertedTextBackground:rgba(156,204,44,.4);--vscode-diffEditor-removedTextBackground:rgba(255,0,0,.4);
--vscode-widget-border:#454545;--vscode-button-secondaryBackground:#3a3d41;--vscode-button-secondaryForeground:#fff}\n`;
const LIGHT = `:root{--vscode-font-family:system-ui,sans-serif;--vscode-font-size:13px;--vscode-foreground:#3b3b3b;--vscode-editor-background:#ffffff;
--vscode-descriptionForeground:#717171;--vscode-editor-font-family:monospace;--vscode-editorLineNumber-foreground:#237893;
--vscode-diffEditor-insertedLineBackground:rgba(155,185,85,.2);--vscode-diffEditor-removedLineBackground:rgba(255,0,0,.2);
--vscode-diffEditor-insertedTextBackground:rgba(156,204,44,.4);--vscode-diffEditor-removedTextBackground:rgba(255,0,0,.3);
--vscode-focusBorder:#0090f1;--vscode-widget-border:#d4d4d4;--vscode-button-secondaryBackground:#e5e5e5;--vscode-button-secondaryForeground:#3b3b3b}\n`;

const pages = new WebviewPages(DARK);

const PARAMS: DiffParams = { a: { kind: 'git', rev: 'HEAD', path: '/ws/analysis.ipynb' }, b: { kind: 'file', path: '/ws/analysis.ipynb' } };

/** One notebook pair with every kind of change at once, as a reviewer would meet it. */
function showcase(): { a: Notebook; b: Notebook } {
  const a = notebook([
    md('# Churn model\nBaseline logistic regression.', 'intro'),
    code('import pandas as pd\nimport numpy as np', { id: 'imports', count: 1 }),
    code("df = pd.read_csv('data/churn.csv')\ndf = df.dropna()", { id: 'load', count: 2 }),
    code("import matplotlib.pyplot as plt\nplt.hist(df['tenure'])", { id: 'plot', count: 3, outputs: [image(png(48, 32, (x, y) => [x * 5, y * 7, 160]))] }),
    code('from sklearn.linear_model import LogisticRegression\nmodel = LogisticRegression(C=1.0, max_iter=200)\nmodel.fit(X, y)', { id: 'fit', count: 4 }),
    code("print('accuracy', model.score(X, y))", { id: 'score', count: 5, outputs: [stream('accuracy 0.7342\n')] }),
    code('df.describe()', { id: 'describe', count: 6 }),
    ...Array.from({ length: 4 }, (_, i) => code(`check_${i}(df)`, { id: `chk${i}`, count: 7 + i })),
  ]);
  const b = notebook([
    md('# Churn model\nBaseline logistic regression.', 'intro'),
    code("import matplotlib.pyplot as plt\nplt.hist(df['tenure'], bins=30)", { id: 'plot', count: 3, outputs: [image(png(64, 32, (x, y) => [250 - x * 3, y * 7, 40]))] }),
    code('import pandas as pd\nimport numpy as np', { id: 'imports', count: 1 }),
    code("df = pd.read_csv('data/churn.csv')\ndf = df.dropna()", { id: 'load', count: 2 }),
    code('from sklearn.linear_model import LogisticRegression\nmodel = LogisticRegression(C=0.5, max_iter=200)\nmodel.fit(X, y)', { id: 'fit', count: 4 }),
    code("print('accuracy', model.score(X, y))", { id: 'score', count: 9, outputs: [stream('accuracy 0.7418\n')] }),
    code('df.groupby("contract").churn.mean()', { id: 'contract', count: 7 }),
    ...Array.from({ length: 4 }, (_, i) => code(`check_${i}(df)`, { id: `chk${i}`, count: 7 + i })),
  ]);
  return { a, b };
}

function model(a: object, b: object) {
  return notebookPairView(JSON.stringify(a), JSON.stringify(b), { a: 'HEAD:analysis.ipynb', b: 'analysis.ipynb' }, 'analysis.ipynb (HEAD ↔ working tree)');
}

function openView(state?: DiffViewState, viewport = { width: 1100, height: 900 }) {
  return pages.open('diff', { state, ...viewport });
}

const send = (p: Page, m: HostToDiff) => p.evaluate((msg) => window.postMessage(msg, '*'), m);
const state = (p: Page) => p.evaluate(() => (window as unknown as { __state: DiffViewState }).__state);

describe('Diff webview in chromium', () => {
  before(() => pages.start());
  after(() => pages.stop());

  it('renders moves, edits with changed words, output and image changes side by side, under the CSP', async () => {
    const { a, b } = showcase();
    const { p, posted, violations } = await openView();
    await send(p, { type: 'diff/show', params: PARAMS, model: model(a, b) });
    await p.waitForSelector('.cell');
    assert.deepEqual(await posted(), [{ type: 'diff/ready' }]);
    assert.deepEqual(await p.$$eval('.chip', (els) => els.map((e) => e.textContent)), ['2 modified', '1 added', '1 removed', '1 moved', '7 unchanged']);
    const badges = await p.$$eval('.cell .badge', (els) => els.map((e) => e.textContent));
    assert.deepEqual(badges, ['moved and edited', 'modified', 'modified', 'removed', 'added']);
    // The changed number is marked as a word on both sides, not the whole line only.
    assert.deepEqual(await p.$$eval('.word-del', (els) => els.map((e) => e.textContent)), ['1.0', '0.7342']);
    assert.ok((await p.$$eval('.word-ins', (els) => els.map((e) => e.textContent))).includes('0.5'));
    // Both images are shown, decoded by the browser, with their pixel sizes.
    const imgs = await p.$$eval('.image-pair img', (els) => (els as HTMLImageElement[]).map((i) => `${i.naturalWidth}x${i.naturalHeight}`));
    assert.deepEqual(imgs, ['48x32', '64x32']);
    assert.match((await p.textContent('.image-pair')) ?? '', /before · 48×32 px.*after · 64×32 px/s);
    assert.match((await p.$$eval('.output-change', (els) => els.map((e) => e.textContent).join('\n'))), /stream:stdout modified.*accuracy 0\.7342.*accuracy 0\.7418/s);
    assert.deepEqual(await p.$$eval('button.fold', (els) => els.map((e) => e.textContent)), ['⋯ 1 unchanged cell', '⋯ 2 unchanged cells', '⋯ 4 unchanged cells']);
    assert.deepEqual(await violations(), []);
    await p.screenshot({ path: path.join(SHOTS, 'diff-side.png'), fullPage: true });
    await p.close();
  });

  it('next / previous change move the focus by keyboard and the toolbar, and the counter follows', async () => {
    const { a, b } = showcase();
    const { p } = await openView();
    await send(p, { type: 'diff/show', params: PARAMS, model: model(a, b) });
    await p.waitForSelector('.cell');
    assert.equal(await p.textContent('#counter'), '– / 5');
    await p.keyboard.press('n');
    await p.keyboard.press('j');
    assert.equal(await p.textContent('#counter'), '2 / 5');
    assert.match((await p.evaluate(() => document.activeElement?.getAttribute('aria-label'))) ?? '', /cell 5, code, modified/);
    await p.keyboard.press('Alt+ArrowDown');
    await p.click('#prev');
    await p.keyboard.press('p');
    assert.equal(await p.textContent('#counter'), '1 / 5');
    assert.match((await p.evaluate(() => document.activeElement?.getAttribute('aria-label'))) ?? '', /cell 4 → 2, code, moved/);
    assert.equal((await state(p)).current, 0);
    await p.close();
  });

  it('execution counts and metadata are hidden by default and counted as changes when toggled', async () => {
    const pair = pairs().find((x) => x.name === 'exec-counts-only')!;
    const { p } = await openView();
    await send(p, { type: 'diff/show', params: PARAMS, model: model(pair.a, pair.b) });
    await p.waitForSelector('.chip');
    assert.deepEqual(await p.$$eval('.chip', (els) => els.map((e) => e.textContent)), ['0 modified', '0 added', '0 removed', '0 moved', '8 unchanged']);
    await p.click('#toggle-execCounts');
    assert.equal(await p.textContent('.chip.op-modified'), '6 modified');
    assert.equal(await p.textContent('.cell .exec'), '[1] → [11]');
    const meta = pairs().find((x) => x.name === 'metadata-only')!;
    await send(p, { type: 'diff/show', params: { ...PARAMS, a: { kind: 'file', path: '/ws/other.ipynb' } }, model: model(meta.a, meta.b) });
    await p.waitForSelector('.chip');
    assert.equal(await p.textContent('.chip.op-modified'), '0 modified', 'a new pair starts from the defaults');
    await p.click('#toggle-metadata');
    assert.equal(await p.textContent('.chip.op-modified'), '1 modified');
    assert.match((await p.textContent('.notebook-meta')) ?? '', /language_info.*3\.11\.2.*3\.12\.1/);
    await p.close();
  });

  it('inline layout, unfolded cells and the toggles survive a reload (state restore)', async () => {
    const { a, b } = showcase();
    const m = model(a, b);
    const { p } = await openView(undefined, { width: 900, height: 700 });
    await send(p, { type: 'diff/show', params: PARAMS, model: m });
    await p.waitForSelector('.cell');
    await p.keyboard.press('i');
    await p.click('#toggle-outputs');
    const folds = await p.$$eval('button.fold', (els) => els.length);
    await p.click('button.fold');
    const saved = await state(p);
    assert.deepEqual([saved.layout, saved.outputs, saved.expanded.length], ['inline', false, 1]);
    await p.close();
    const again = await openView(saved, { width: 900, height: 700 });
    await send(again.p, { type: 'diff/show', params: PARAMS, model: m });
    await again.p.waitForSelector('.cell');
    assert.equal(await again.p.$$eval('.code.side', (els) => els.length), 0);
    assert.ok((await again.p.$$eval('.code.inline', (els) => els.length)) > 0);
    assert.equal(await again.p.$$eval('button.fold', (els) => els.length), folds - 1, 'the unfolded run stays open');
    assert.equal(await again.p.$$eval('.image-pair', (els) => els.length), 0, 'outputs stay hidden');
    pages.theme = LIGHT;
    await again.p.reload();
    await send(again.p, { type: 'diff/show', params: PARAMS, model: m });
    await again.p.waitForSelector('.cell');
    await again.p.screenshot({ path: path.join(SHOTS, 'diff-inline-light.png'), fullPage: true });
    pages.theme = DARK;
    await again.p.close();
  });

  it('an error from the host replaces the view with its message', async () => {
    const { p } = await openView();
    await send(p, { type: 'diff/error', params: PARAMS, message: 'analysis.ipynb does not exist at revision HEAD.' });
    assert.equal(await p.textContent('.diff-error'), 'analysis.ipynb does not exist at revision HEAD.');
    await p.close();
  });
});
