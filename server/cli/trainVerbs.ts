/** `labbook train` and `labbook models`: training jobs run in this process, the registry read from the store. */
import * as path from 'path';
import { LabbookError } from '../core/errors';
import { Store } from '../store/db';
import { deploymentOutcome } from '../protocol/training';
import { type TrainConfig, readConfigFile, resolveConfig } from '../training/config';
// The training modules pull in TensorFlow.js: loaded (dist/training.js) by the verbs that use
// them, so every other `labbook` command starts without it.
const training = () => import('../training/lib');
const lifecycle = training;
import { loadTrainingData } from '../training/data';
import { type FlagSpec, type Parsed, UsageError } from './args';

interface Ctx {
  workspace: string;
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
}

type Command = { flags: Record<string, FlagSpec>; run: (ctx: Ctx, p: Parsed) => void | Promise<void> };

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

function openExisting(workspace: string, what: string): Store {
  const store = Store.open(workspace, { create: false });
  if (!store) throw new LabbookError('NO_STORE', `${workspace} has no Labbook store (.labbook/), so there is no ${what}`);
  return store;
}

function numberFlag(p: Parsed, name: string, def: number, min: number, max: number): number {
  if (!p.flags.has(name)) return def;
  const v = Number(p.flags.get(name));
  if (!(v >= min && v <= max)) throw new UsageError(`--${name} needs a number from ${min} to ${max} (got '${p.flags.get(name)}')`);
  return v;
}

export const TRAIN_COMMANDS: Record<string, Command> = {
  train: {
    flags: {
      data: { value: true },
      model: { value: true },
      epochs: { value: true },
      config: { value: true },
      name: { value: true },
      'batch-size': { value: true },
      lr: { value: true },
      seed: { value: true },
      backend: { value: true },
      limit: { value: true },
      patience: { value: true },
    },
    async run(ctx, p) {
      if (p.positionals.length > 0) throw new UsageError(`'train' takes options only (got '${p.positionals[0]}')`);
      const configFile = p.flags.has('config') ? path.resolve(String(p.flags.get('config'))) : undefined;
      const cli: Partial<Record<keyof TrainConfig, unknown>> = {
        data: p.flags.has('data') ? path.resolve(String(p.flags.get('data'))) : undefined,
        model: p.flags.get('model'),
        epochs: p.flags.get('epochs'),
        name: p.flags.get('name'),
        batchSize: p.flags.get('batch-size'),
        learningRate: p.flags.get('lr'),
        seed: p.flags.get('seed'),
        backend: p.flags.get('backend'),
        limit: p.flags.get('limit'),
        earlyStoppingPatience: p.flags.get('patience'),
      };
      if (!configFile && (!cli.data || !cli.model)) throw new UsageError("'train' needs --data PATH and --model mlp|cnn (or --config FILE)");
      const config = resolveConfig([...(configFile ? [{ source: configFile, values: readConfigFile(configFile) }] : []), { source: 'command line', values: cli }]);
      const { train } = await training();
      const data = loadTrainingData(config);
      const store = Store.open(ctx.workspace, { create: true })!;
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      let lastLine = 0;
      try {
        const r = await train(store, {
          workspace: ctx.workspace,
          config,
          configFile,
          command: ['labbook', ...process.argv.slice(2)].join(' '),
          signal: abort.signal,
          onStarted: (run, engine) => ctx.err(`labbook: run ${run.id} (${run.name}) started on ${engine.backend}: ${engine.reason}`),
          onProgress: (pr) => {
            const now = Date.now();
            if (now - lastLine < 2000 || ctx.json) return;
            lastLine = now;
            // Time left for training itself (each epoch's evaluation comes on top).
            const left = ((pr.epochs - pr.epoch) * pr.batches + (pr.batches - pr.batch)) * config.batchSize;
            const eta = pr.samplesPerS > 0 ? ` · ~${duration(left / pr.samplesPerS)} left` : '';
            ctx.err(`labbook: epoch ${pr.epoch}/${pr.epochs} batch ${pr.batch}/${pr.batches} loss ${pr.loss.toFixed(4)} · ${Math.round(pr.samplesPerS)} samples/s${eta}`);
          },
          onEpoch: (epoch, m) =>
            ctx.err(
              `labbook: epoch ${epoch}: loss ${m.loss.toFixed(4)} acc ${pct(m.accuracy)}${m.val_accuracy !== undefined ? ` val_acc ${pct(m.val_accuracy)}` : ''} test_acc ${pct(m.test_accuracy)} · ${Math.round(m.samples_per_s)} samples/s`,
            ),
        }, data);
        if (ctx.json) {
          ctx.out(
            JSON.stringify({
              run: r.run,
              status: r.status,
              model: r.model,
              backend: r.backend,
              epochs: r.epochs,
              bestEpoch: r.bestEpoch,
              stoppedEarlyAt: r.stoppedEarlyAt,
              samplesPerS: r.samplesPerS,
              durationS: r.durationS,
              test: { accuracy: r.test.accuracy, macro: r.test.macro, perClass: r.test.perClass, confusion: r.test.confusion, misclassified: r.misclassified },
            }),
          );
        } else {
          ctx.out(`test accuracy ${pct(r.test.accuracy)} · macro P ${pct(r.test.macro.precision)} R ${pct(r.test.macro.recall)} F1 ${pct(r.test.macro.f1)} · ${r.misclassified.length} misclassified`);
          ctx.out(`${'class'.padEnd(12)} precision  recall     f1         support`);
          for (const c of r.test.perClass) ctx.out(`${c.label.slice(0, 11).padEnd(12)} ${pct(c.precision).padEnd(10)} ${pct(c.recall).padEnd(10)} ${pct(c.f1).padEnd(10)} ${c.support}`);
        }
        if (r.status === 'cancelled') {
          ctx.err(`labbook: run ${r.run} cancelled after ${r.epochs} epoch(s); no model saved`);
          throw new LabbookError('BAD_ARGUMENT', 'training cancelled');
        }
        if (r.stoppedEarlyAt) ctx.err(`labbook: stopped early at epoch ${r.stoppedEarlyAt} (val_loss not better for ${config.earlyStoppingPatience} epoch(s)); the model keeps epoch ${r.bestEpoch}'s weights`);
        else if (r.bestEpoch !== null && r.bestEpoch !== r.epochs) ctx.err(`labbook: the model keeps epoch ${r.bestEpoch}'s weights (lowest val_loss)`);
        ctx.err(`labbook: run ${r.run} finished in ${r.durationS.toFixed(1)} s on ${r.backend} (${Math.round(r.samplesPerS)} samples/s); model ${r.model} — labbook confusion ${r.run}`);
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        store.close();
      }
    },
  },
  models: {
    flags: {},
    run(ctx, p) {
      const store = Store.open(ctx.workspace, { create: false });
      const models = store ? store.listModels(p.positionals[0]) : [];
      store?.close();
      if (ctx.json) {
        ctx.out(JSON.stringify({ models }));
        return;
      }
      if (models.length === 0) {
        ctx.out('No models yet (labbook train --data PATH --model mlp|cnn).');
        return;
      }
      for (const m of models) {
        const acc = m.metrics.test_accuracy;
        ctx.out(`${`${m.name}@${m.version}`.padEnd(28)} ${m.stage.padEnd(10)} ${acc !== undefined ? `test acc ${pct(acc)}` : ''.padEnd(17)}  run ${m.run ?? '-'}  ${m.path}`);
      }
    },
  },
  evaluate: {
    flags: { data: { value: true } },
    async run(ctx, p) {
      if (p.positionals.length !== 1) throw new UsageError(`'evaluate' needs exactly one MODEL (NAME or NAME@VERSION)`);
      const store = openExisting(ctx.workspace, `model '${p.positionals[0]}'`);
      try {
        const { evaluateModel } = await lifecycle();
        const e = await evaluateModel(store, p.positionals[0], p.flags.has('data') ? path.resolve(String(p.flags.get('data'))) : undefined);
        if (ctx.json) {
          ctx.out(JSON.stringify(e));
          return;
        }
        ctx.out(`${e.model} on ${e.examples} held-out examples: accuracy ${pct(e.accuracy)} · macro P ${pct(e.macro.precision)} R ${pct(e.macro.recall)} F1 ${pct(e.macro.f1)}`);
        for (const c of e.perClass) ctx.out(`  ${c.label.slice(0, 11).padEnd(12)} P ${pct(c.precision).padEnd(8)} R ${pct(c.recall).padEnd(8)} F1 ${pct(c.f1).padEnd(8)} n=${c.support}`);
        ctx.out(`  misclassified: ${e.misclassified.slice(0, 20).join(', ')}${e.misclassified.length > 20 ? `, … (${e.misclassified.length})` : ''}`);
      } finally {
        store.close();
      }
    },
  },
  deploy: {
    flags: { model: { value: true }, threshold: { value: true }, force: {} },
    async run(ctx, p) {
      const threshold = numberFlag(p, 'threshold', Number(process.env.LABBOOK_DEPLOY_THRESHOLD ?? 0.95), 0, 1);
      const { deploy } = await lifecycle();
      const store = openExisting(ctx.workspace, 'model to deploy');
      try {
        const r = deploy(store, { model: p.flags.get('model') as string | undefined, threshold, force: p.flags.has('force') });
        if (ctx.json) ctx.out(JSON.stringify({ deployed: r.deployed, model: r.model, reason: r.reason, how: r.how, forced: r.how === 'forced', chosen: r.how === 'chosen' }));
        if (!r.deployed) {
          const hint = r.reason.includes('already') ? '' : ' (--force deploys anyway, recorded as forced; --model NAME@VERSION deploys the model you name, recorded as chosen)';
          throw new LabbookError('GATE_REFUSED', `not deployed: ${r.model}: ${r.reason}${hint}`);
        }
        ctx.err(`labbook: deployed ${r.model} to production: ${r.reason}`);
      } finally {
        store.close();
      }
    },
  },
  rollback: {
    flags: {},
    async run(ctx) {
      const { rollback } = await lifecycle();
      const store = openExisting(ctx.workspace, 'deployment');
      try {
        const r = rollback(store);
        if (ctx.json) ctx.out(JSON.stringify(r));
        ctx.err(`labbook: rolled back: ${r.model} is in production again (was ${r.from})`);
      } finally {
        store.close();
      }
    },
  },
  deployments: {
    flags: {},
    run(ctx, p) {
      if (p.positionals.length > 0) throw new UsageError(`'deployments' takes no arguments (got '${p.positionals[0]}')`);
      const store = Store.open(ctx.workspace, { create: false });
      const history = store?.deployments() ?? [];
      store?.close();
      if (ctx.json) {
        ctx.out(JSON.stringify({ deployments: history }));
        return;
      }
      if (history.length === 0) {
        ctx.out('No deployments yet (labbook deploy).');
        return;
      }
      for (const d of history) ctx.out(`${d.deployedAt}  ${d.model.padEnd(24)} ${deploymentOutcome({ ...d, rollback: d.gate.rollback === true }).padEnd(9)} ${typeof d.gate.reason === 'string' ? d.gate.reason : ''}${d.by ? `  (${d.by})` : ''}`);
    },
  },
  predict: {
    flags: { 'min-confidence': { value: true }, probabilities: {} },
    async run(ctx, p) {
      if (p.positionals.length < 2) throw new UsageError(`'predict' needs a MODEL and at least one INPUT (CSV rows, JSON arrays, IDX images, PNG files or a folder of them)`);
      const [ref, ...inputs] = p.positionals;
      const minConfidence = numberFlag(p, 'min-confidence', 0.8, 0, 1);
      const store = openExisting(ctx.workspace, `model '${ref}'`);
      try {
        const { predict } = await lifecycle();
        const r = await predict(store, ref, inputs.map((i) => path.resolve(i)), { minConfidence, probabilities: p.flags.has('probabilities') });
        if (ctx.json) {
          ctx.out(JSON.stringify({ model: r.model, predictions: r.predictions.map(({ classIndex, ...rest }) => rest) }));
          return;
        }
        for (const x of r.predictions) ctx.out(`${x.input}\t${x.class}\t${x.confidence.toFixed(3)}${x.review ? '\treview' : ''}`);
        const review = r.predictions.filter((x) => x.review).length;
        ctx.err(`labbook: ${r.predictions.length} prediction(s) by ${r.model}, ${review} below confidence ${minConfidence} flagged for review; logged`);
      } finally {
        store.close();
      }
    },
  },
  drift: {
    flags: {},
    async run(ctx, p) {
      if (p.positionals.length !== 1) throw new UsageError(`'drift' needs exactly one MODEL`);
      const { drift } = await lifecycle();
      const store = openExisting(ctx.workspace, `model '${p.positionals[0]}'`);
      try {
        const r = drift(store, p.positionals[0]);
        if (ctx.json) ctx.out(JSON.stringify(r));
        else {
          ctx.out(`${r.model}: ${r.predictions} logged predictions · KS D=${r.ks.statistic.toFixed(3)} p=${r.ks.pValue.toExponential(2)} · class-mix PSI ${r.psi.toFixed(3)}`);
          ctx.out(r.drifted ? `drifted: ${r.reasons.join('; ')}` : 'no drift detected');
        }
      } finally {
        store.close();
      }
    },
  },
};

/** 75 → '1m15s', 4000 → '1h06m'. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
