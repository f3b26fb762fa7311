import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffNotebooks } from '../../server/notebook/diff';
import { parseNotebook } from '../../server/notebook/model';
import { PAIRS, generatePair } from '../bench/nbgen';

// The diff benchmark's notebook pairs: they must be what they claim (valid notebooks, real
// images, known edits), or its figures and its check of Labbook's answer mean nothing.

const text = (nb: unknown) => JSON.stringify(nb, null, 1) + '\n';

describe('benchmark notebook pairs', () => {
  it('are the same for the same seed and differ for another', () => {
    const one = generatePair(PAIRS.small);
    assert.deepEqual(generatePair(PAIRS.small), one);
    assert.notDeepEqual(generatePair({ ...PAIRS.small, seed: PAIRS.small.seed + 1 }).a, one.a);
  });

  it('are notebooks Labbook reads, with cell ids exactly when nbformat 4.5, and PNGs whose pixel size matches the figure text', () => {
    for (const spec of [PAIRS.small, PAIRS.medium]) {
      const { a, b } = generatePair(spec);
      for (const nb of [a, b]) {
        const model = parseNotebook(text(nb), `${spec.name}.ipynb`);
        assert.equal(model.nbformatMinor, spec.ids ? 5 : 4);
        assert.equal(model.cells.every((c) => (c.id !== undefined) === spec.ids), true, `${spec.name}: ids`);
      }
      let images = 0;
      for (const cell of (a as { cells: { outputs?: { data?: Record<string, string | string[]> }[] }[] }).cells) {
        for (const o of cell.outputs ?? []) {
          const png = o.data?.['image/png'];
          if (typeof png !== 'string') continue;
          const bytes = Buffer.from(png, 'base64');
          assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
          const [, w, h] = /size (\d+)x(\d+)/.exec(String(o.data!['text/plain']))!;
          assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [Number(w), Number(h)]);
          images++;
        }
      }
      if (spec.mix.plot) assert.ok(images > 0, `${spec.name} has images`);
    }
  });

  it('know their edits: the counts add up to both sides, every kind of edit occurs, execution counts churn', () => {
    for (const spec of [PAIRS.small, PAIRS.medium, PAIRS.nbdime540]) {
      const { a, b, truth } = generatePair(spec);
      const s = truth.summary;
      const cells = (nb: unknown) => (nb as { cells: unknown[] }).cells.length;
      assert.equal(s.removed + s.modified + s.moved + s.unchanged, cells(a), `${spec.name}: A`);
      assert.equal(s.added + s.modified + s.moved + s.unchanged, cells(b), `${spec.name}: B`);
      assert.equal(truth.moved.length, s.moved);
      for (const [k, share] of [['added', spec.edit.add], ['removed', spec.edit.remove], ['moved', spec.edit.move]] as const) {
        assert.equal(s[k] > 0, share > 0, `${spec.name}: ${k}`);
      }
      assert.ok(s.modified > 0 && truth.execCountOnly > 0 && truth.metadataOnly > 0, `${spec.name}: ${JSON.stringify(truth)}`);
    }
  });

  it("match Labbook's diff exactly on the small, medium and nbdime540 pairs (moves included)", () => {
    for (const spec of [PAIRS.small, PAIRS.medium, PAIRS.nbdime540]) {
      const { a, b, truth } = generatePair(spec);
      const d = diffNotebooks(parseNotebook(text(a), 'A.ipynb'), parseNotebook(text(b), 'B.ipynb'));
      assert.deepEqual(d.summary, truth.summary, spec.name);
      const moved = d.cells.filter((c) => c.op === 'moved').map((c) => [c.a, c.b]);
      assert.deepEqual(moved.sort((x, y) => x[0]! - y[0]!), [...truth.moved].sort((x, y) => x[0] - y[0]), `${spec.name}: moves`);
    }
  });
});
