import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeWithNext, renameProblem, renameStep, splitStep } from '../../extension/commands/extractPlan';

const plan = [
  { name: 'load', cells: [1, 2] },
  { name: 'clean', cells: [4, 5, 6] },
  { name: 'train', cells: [8] },
];

describe('extraction preview: editing the plan of steps', () => {
  it('renames a step, refusing names Python cannot use or another step has', () => {
    assert.deepEqual(renameStep(plan, 1, 'prepare').map((s) => s.name), ['load', 'prepare', 'train']);
    assert.equal(renameProblem(plan, 1, '2fast'), 'letters, digits and _, not starting with a digit');
    assert.equal(renameProblem(plan, 1, 'train'), 'another step has that name');
    assert.equal(renameProblem(plan, 1, 'clean'), undefined);
    assert.throws(() => renameStep(plan, 0, 'has space'), /cannot rename load/);
  });

  it('merges a step with the next one, keeping its name and the cell order', () => {
    assert.deepEqual(mergeWithNext(plan, 0), [
      { name: 'load', cells: [1, 2, 4, 5, 6] },
      { name: 'train', cells: [8] },
    ]);
    assert.throws(() => mergeWithNext(plan, 2), /no next step/);
  });

  it('splits a step before one of its cells, naming the new step after it', () => {
    assert.deepEqual(splitStep(plan, 1, 5), [
      { name: 'load', cells: [1, 2] },
      { name: 'clean', cells: [4] },
      { name: 'clean_2', cells: [5, 6] },
      { name: 'train', cells: [8] },
    ]);
    assert.deepEqual(splitStep(splitStep(plan, 1, 6), 1, 5).map((s) => s.name), ['load', 'clean', 'clean_3', 'clean_2', 'train']);
    assert.throws(() => splitStep(plan, 1, 4), /not a later cell/);
    assert.deepEqual(plan[1].cells, [4, 5, 6], 'the original plan is left as it was');
  });
});
