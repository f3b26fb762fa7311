import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { DIGITS_CSV, runCli, tempWorkspace } from './helpers';

type Series = Array<{ step: number; value: number }>;
const at = (s: Series, step: number) => s.find((p) => p.step === step)!.value;

describe('early stopping (CLI)', { skip: !fs.existsSync(DIGITS_CSV) && 'no python3-sklearn digits.csv.gz' }, () => {
  const ws = tempWorkspace();
  const cli = (...args: string[]) => runCli(['--workspace', ws, ...args]);
  const train = (...args: string[]) => {
    const r = cli('train', '--data', DIGITS_CSV, '--model', 'mlp', '--limit', '300', '--json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return { out: JSON.parse(r.stdout), stderr: r.stderr };
  };

  it('stops after `patience` epochs without a lower val_loss, saving the best epoch’s weights and scores', () => {
    // A learning rate this high on 270 examples overfits within a few epochs: val_loss turns up.
    // Seeds are tried until a run's last epoch scores differently on the test split from its best
    // one, so that which weights were saved shows (the first seed usually does).
    let telling = 0;
    for (const seed of ['42', '1', '2', '3', '4', '5']) {
      const name = `early${seed}`;
      const { out, stderr } = train('--epochs', '40', '--patience', '3', '--lr', '0.05', '--seed', seed, '--name', name);
      assert.ok(out.epochs < 40, `trained all ${out.epochs} epochs`);
      assert.equal(out.stoppedEarlyAt, out.epochs);
      assert.equal(out.bestEpoch, out.epochs - 3, 'three epochs without improvement after the best');
      assert.match(stderr, new RegExp(`stopped early at epoch ${out.epochs} .*keeps epoch ${out.bestEpoch}'s weights`));

      const show = JSON.parse(cli('show', out.run, '--json').stdout);
      assert.equal(show.metrics.epoch.length, out.epochs, 'one row of metrics per epoch trained');
      const valLoss = show.metrics.val_loss as Series;
      const lowest = valLoss.reduce((a, b) => (b.value < a.value ? b : a));
      assert.equal(lowest.step, out.bestEpoch, 'the best epoch is the one of lowest val_loss');
      assert.equal(show.params.best_epoch, String(out.bestEpoch));
      assert.equal(show.params.stopped_early_at_epoch, String(out.epochs));
      assert.ok(show.tags.includes('early-stopped'));

      const testAcc = show.metrics.test_accuracy as Series;
      assert.equal(out.test.accuracy, at(testAcc, out.bestEpoch), 'the reported scores are the best epoch’s');
      const model = JSON.parse(cli('models', name, '--json').stdout).models[0];
      assert.equal(model.metrics.test_accuracy, at(testAcc, out.bestEpoch));
      // The saved weights are the best epoch's: evaluating them again gives that epoch's accuracy.
      const e = JSON.parse(cli('evaluate', name, '--json').stdout);
      assert.equal(e.accuracy, at(testAcc, out.bestEpoch));
      const card = JSON.parse(fs.readFileSync(path.join(ws, '.labbook', 'models', name, '1', 'card.json'), 'utf8'));
      assert.deepEqual([card.metrics.epochs, card.metrics.best_epoch], [out.epochs, out.bestEpoch]);
      const conf = JSON.parse(cli('confusion', out.run, '--json').stdout);
      assert.equal(conf.epochs.length, out.epochs, 'the epoch slider still has every epoch');
      if (at(testAcc, out.bestEpoch) !== at(testAcc, out.epochs)) {
        telling++;
        break;
      }
    }
    assert.equal(telling, 1, 'no seed gave a last epoch scoring differently from the best');
  });

  it('runs every epoch when val_loss keeps improving within patience, still keeping the best epoch', () => {
    const { out } = train('--epochs', '6', '--patience', '10', '--name', 'patient');
    assert.equal(out.epochs, 6);
    assert.equal(out.stoppedEarlyAt, null);
    const show = JSON.parse(cli('show', out.run, '--json').stdout);
    const lowest = (show.metrics.val_loss as Series).reduce((a, b) => (b.value < a.value ? b : a));
    assert.equal(out.bestEpoch, lowest.step);
    assert.equal(show.params.stopped_early_at_epoch, undefined);
    assert.equal(show.tags.includes('early-stopped'), false);
    assert.equal(JSON.parse(cli('evaluate', 'patient', '--json').stdout).accuracy, at(show.metrics.test_accuracy, out.bestEpoch));
  });

  it('without patience, trains every epoch and keeps the last', () => {
    const { out } = train('--epochs', '3', '--name', 'plain');
    assert.deepEqual([out.epochs, out.bestEpoch, out.stoppedEarlyAt], [3, null, null]);
    const show = JSON.parse(cli('show', out.run, '--json').stdout);
    assert.equal(out.test.accuracy, at(show.metrics.test_accuracy, 3));
  });

  it('refuses early stopping without a validation split, before recording a run', () => {
    const fresh = tempWorkspace();
    fs.writeFileSync(path.join(fresh, 'train.yaml'), `data: ${DIGITS_CSV}\nmodel: mlp\nvalidation_split: 0\nearly_stopping_patience: 2\n`);
    const r = runCli(['--workspace', fresh, 'train', '--config', path.join(fresh, 'train.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /early stopping watches val_loss, which needs a validation split/);
    assert.equal(fs.existsSync(path.join(fresh, '.labbook')), false);
  });
});
