/**
 * The Live training view's data: new metric points since the caller's last poll, progress
 * towards the run's declared length, ETA, throughput and backend. Training jobs (issue 6) and
 * any tracked script feed it the same way: by logging metrics and params.
 */
import type { MetricSeries, MetricSummary } from '../protocol/dto';
import type { LiveData, LiveParams } from '../protocol/views';
import type { Store } from '../store/db';

/** Params that declare a run's length, in the order they are looked for. */
const TOTAL_EPOCHS = ['epochs', 'num_epochs', 'n_epochs', 'max_epochs'];
const TOTAL_STEPS = ['total_steps', 'max_steps', 'steps', 'num_steps', 'iterations'];
/** Metrics that report the current epoch (its value, or else its last step). */
const EPOCH_METRICS = ['epoch'];
const THROUGHPUT = ['samples_per_s', 'samples/s', 'samples_per_sec', 'throughput', 'examples_per_s', 'images_per_s'];

export interface Progress {
  unit: 'epoch' | 'step';
  done: number;
  total: number;
}

/**
 * How far a run is. Epochs: params `epochs` (or num_epochs …) and a metric `epoch` whose last
 * value is the epochs completed. Steps: params `total_steps` (or max_steps …) and the furthest
 * step of any metric + 1.
 */
export function runProgress(params: Record<string, string>, metrics: readonly MetricSummary[]): Progress | null {
  const num = (keys: string[]) => {
    for (const k of keys) {
      const v = Number(params[k]);
      if (params[k] !== undefined && Number.isFinite(v) && v > 0) return v;
    }
    return null;
  };
  const epochs = num(TOTAL_EPOCHS);
  const epochMetric = metrics.find((m) => EPOCH_METRICS.includes(m.key));
  if (epochs !== null && epochMetric) {
    const done = epochMetric.last !== null ? epochMetric.last : epochMetric.lastStep + 1;
    return { unit: 'epoch', done: Math.min(done, epochs), total: epochs };
  }
  const steps = num(TOTAL_STEPS);
  if (steps !== null && metrics.length) {
    const done = Math.max(...metrics.map((m) => m.lastStep)) + 1;
    return { unit: 'step', done: Math.min(done, steps), total: steps };
  }
  if (epochs !== null && metrics.length) {
    // No epoch metric: take per-epoch metrics as logged once per epoch (their step count).
    const done = Math.min(...metrics.map((m) => m.lastStep)) + 1;
    return { unit: 'epoch', done: Math.min(done, epochs), total: epochs };
  }
  return null;
}

/** Seconds left at the average pace so far. */
export function eta(progress: Progress | null, elapsedS: number): number | null {
  if (!progress || progress.done <= 0 || progress.done >= progress.total) return progress && progress.done >= progress.total ? 0 : null;
  return (elapsedS / progress.done) * (progress.total - progress.done);
}

export function liveData(store: Store, p: LiveParams, cancellable: (id: string) => boolean): LiveData {
  const d = store.getRun(p.id);
  const params = Object.fromEntries(d.params.map((x) => [x.key, x.value]));
  const series: MetricSeries[] = store.metricSeriesSince(d.id, p.since ?? {});
  const progress = runProgress(params, d.metrics);
  const tp = d.metrics.find((m) => THROUGHPUT.includes(m.key));
  const backendTag = d.tags.find((t) => t.startsWith('backend:') || t.startsWith('backend='));
  const backend = params.backend ?? (backendTag ? backendTag.slice('backend:'.length) : null);
  const run = { id: d.id, name: d.name, kind: d.kind, status: d.status, experiment: d.experiment, startedAt: d.startedAt, endedAt: d.endedAt, durationS: d.durationS, exitCode: d.exitCode, parentId: d.parentId, command: d.command };
  return {
    run,
    params,
    tags: d.tags,
    series,
    progress,
    etaS: d.status === 'running' ? eta(progress, d.durationS) : null,
    samplesPerS: tp?.last ?? null,
    backend,
    cancellable: d.status === 'running' && cancellable(d.id),
  };
}
