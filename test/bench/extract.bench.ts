/**
 * npm run bench:extract — analysing a 300-cell notebook for extraction (reading it, the user's
 * interpreter started once running ast/symtable over every cell, steps and data flow planned,
 * files generated in memory), against `jupyter nbconvert --to script` on the same notebook (the
 * anchor: it only converts, no analysis), alternated, medians. Goal: < 2 s including the
 * interpreter start. Last line: JSON.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pipelineFiles, previewExtraction } from '../../server/extract/extract';

const PY = process.env.LABBOOK_PYTHON || '/usr/bin/python3';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CELLS = 300;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A long notebook in the usual shape: sections of markdown, loading, cleaning, helpers, models, plots, magics. */
function bigNotebook(): object {
  const cells: object[] = [];
  const code = (source: string, tags: string[] = []) => cells.push({ cell_type: 'code', id: `c${cells.length}`, metadata: tags.length ? { tags } : {}, execution_count: null, outputs: [], source });
  const md = (source: string) => cells.push({ cell_type: 'markdown', id: `m${cells.length}`, metadata: {}, source });
  md('# A long analysis');
  code('%matplotlib inline\nimport numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\nfrom sklearn.model_selection import train_test_split\nfrom sklearn.ensemble import RandomForestClassifier\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.metrics import accuracy_score\nfrom math import *');
  code('seed = 0\nn_rows = 1000', ['parameters']);
  let section = 0;
  while (cells.length < CELLS) {
    const k = section++;
    md(`## Section ${k}: part of the analysis`);
    code(`rng_${k} = np.random.default_rng(seed + ${k})\ndf_${k} = pd.DataFrame({'a': rng_${k}.random(n_rows), 'b': rng_${k}.random(n_rows)})\ndf_${k}.head()`);
    code(`df_${k}['c'] = df_${k}['a'] * ${k} + sqrt(2)\ndf_${k}.dropna(inplace=True)\nfor col in ['a', 'b']: df_${k}[col + '_sq'] = df_${k}[col] ** 2`);
    code(`def feature_${k}(frame):\n    out = frame.copy()\n    out['d'] = out['a'] - out['b'] * ${k}\n    return out\n\nclass Model${k}:\n    def __init__(self, depth):\n        self.depth = depth\n    def build(self):\n        return RandomForestClassifier(n_estimators=10, max_depth=self.depth, random_state=${k})`);
    code(`X_${k} = feature_${k}(df_${k})[['a', 'b', 'c', 'd']]\ny_${k} = (df_${k}['a'] > 0.5).astype(int)\nX_train_${k}, X_test_${k}, y_train_${k}, y_test_${k} = train_test_split(X_${k}, y_${k}, test_size=0.2, random_state=42)`);
    code(`%%time\nclf_${k} = LogisticRegression(C=1.0, max_iter=200)\nclf_${k}.fit(X_train_${k}, y_train_${k})\nacc_${k} = accuracy_score(y_test_${k}, clf_${k}.predict(X_test_${k}))\nprint('section ${k}', round(acc_${k}, 3))`);
    code(`results = {}\nresults[${k}] = acc_${k}\nfig_${k}, ax_${k} = plt.subplots()\nax_${k}.hist(df_${k}['a'], bins=20)\nplt.show()`);
  }
  return { nbformat: 4, nbformat_minor: 5, metadata: { language_info: { name: 'python' } }, cells: cells.slice(0, CELLS) };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-bench-extract-'));
  const file = path.join(dir, 'long.ipynb');
  fs.writeFileSync(file, JSON.stringify(bigNotebook()));
  const nbconvert = spawnSync(PY, ['-m', 'nbconvert', '--version'], { encoding: 'utf8' }).status === 0;
  const ours: number[] = [];
  const anchor: number[] = [];
  let steps = 0;
  let params = 0;
  await previewExtraction({ notebook: file, python: PY }); // warm-up: the OS file cache, not the interpreter (it starts each time)
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    const p = await previewExtraction({ notebook: file, python: PY });
    const files = pipelineFiles(p, path.join(dir, 'out'));
    ours.push(Number(process.hrtime.bigint() - t) / 1e6);
    steps = p.pipeline.steps.length;
    params = Object.keys(p.analysis.params).length;
    if (files.size < steps) throw new Error('missing step files');
    if (nbconvert) {
      const a = process.hrtime.bigint();
      const r = spawnSync(PY, ['-m', 'nbconvert', '--to', 'script', file, '--output-dir', path.join(dir, 'script')], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error('nbconvert failed');
      anchor.push(Number(process.hrtime.bigint() - a) / 1e6);
    }
  }
  const start = median(Array.from({ length: 5 }, () => {
    const t = process.hrtime.bigint();
    spawnSync(PY, ['-c', 'pass']);
    return Number(process.hrtime.bigint() - t) / 1e6;
  }));
  fs.rmSync(dir, { recursive: true, force: true });
  const m = median(ours);
  const ratio = nbconvert ? m / median(anchor) : null;
  console.log(
    `extract bench (${CELLS} cells, ${ROUNDS} rounds): analysis + plan + files ${m.toFixed(0)} ms (${steps} steps, ${params} params; interpreter start alone ${start.toFixed(0)} ms)` +
      (nbconvert ? ` · nbconvert --to script ${median(anchor).toFixed(0)} ms · ratio ${ratio!.toFixed(2)}` : ' · nbconvert not installed: no anchor') +
      ` · goal < 2000 ms: ${m < 2000 ? 'met' : 'MISSED'}`,
  );
  console.log(JSON.stringify({ bench: 'extract', cells: CELLS, analysis_ms: Math.round(m), nbconvert_ms: nbconvert ? Math.round(median(anchor)) : null, ratio: ratio === null ? null : Math.round(ratio * 100) / 100, python_start_ms: Math.round(start), steps, params, rounds: ROUNDS }));
}

void main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
