/**
 * The data behind the Compare view for a few runs: parameters, metric summaries with each
 * metric's direction, curves (downsampled when long), data hashes and environment.
 */
import { LabbookError } from '../core/errors';
import { lttbIndexes } from '../core/downsample';
import type { MetricSeries } from '../protocol/dto';
import type { CompareData, CompareMetric, CompareParams, CompareRun, MetricDirection } from '../protocol/views';
import type { Store } from '../store/db';

const MAX_RUNS = 50;
const DEFAULT_MAX_POINTS = 10_000;

/** Names that read as "smaller is better"; everything else is taken as "larger is better". */
const LOWER_IS_BETTER = /(loss|error|err\b|mse|mae|rmse|perplexity|ppl|latency|duration|time|_s$|wer|cer|distance|nll|bpc|regret)/i;

export function metricDirection(key: string, overrides: Record<string, MetricDirection> = {}): MetricDirection {
  return overrides[key] ?? (LOWER_IS_BETTER.test(key) ? 'min' : 'max');
}

export function compareRuns(store: Store, p: CompareParams): CompareData {
  const ids = [...new Set(p.ids ?? [])];
  if (ids.length === 0) throw new LabbookError('BAD_ARGUMENT', 'Pick at least one run to compare.');
  if (ids.length > MAX_RUNS) throw new LabbookError('BAD_ARGUMENT', `Compare at most ${MAX_RUNS} runs at once (${ids.length} were picked).`);
  const maxPoints = Math.max(100, Math.floor(p.maxPoints ?? DEFAULT_MAX_POINTS));
  const directions: Record<string, MetricDirection> = {};
  const runs = ids.map((ref): CompareRun => {
    const d = store.getRun(ref);
    const full = store.metricSeries(d.id);
    const series = full.map((s) => downsampleSeries(s, maxPoints));
    const metrics = d.metrics.map((m): CompareMetric => {
      const dir = (directions[m.key] = metricDirection(m.key, p.directions));
      const s = full.find((x) => x.key === m.key);
      let best: number | null = null;
      let bestStep: number | null = null;
      s?.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) return;
        if (best === null || (dir === 'min' ? v < best : v > best)) {
          best = v;
          bestStep = s.steps[i];
        }
      });
      return { key: m.key, last: m.last, lastStep: m.lastStep, min: m.min, max: m.max, best, bestStep, count: m.count };
    });
    const e = d.environment;
    let packages: Record<string, string> = {};
    if (e?.packagesBlob) {
      try {
        packages = JSON.parse(store.readBlob(e.packagesBlob).toString('utf8')) as Record<string, string>;
      } catch {
        packages = {}; // a missing package list only hides package differences
      }
    }
    return {
      id: d.id,
      name: d.name,
      kind: d.kind,
      status: d.status,
      experiment: d.experiment,
      startedAt: d.startedAt,
      durationS: d.durationS,
      tags: d.tags,
      params: Object.fromEntries(d.params.map((x) => [x.key, x.value])),
      metrics,
      series,
      inputs: d.inputs.map((i) => ({ path: i.path, sha256: i.sha256, size: i.size })),
      environment: e
        ? {
            python: e.pythonVersion,
            os: e.os,
            gpu: e.gpu,
            git: e.gitCommit ? `${e.gitCommit.slice(0, 12)}${e.gitDirty ? ' (dirty)' : ''}` : null,
            packages,
          }
        : null,
      code: d.code.map((c) => ({ path: c.path, kind: c.kind, sha256: c.blob })),
    };
  });
  return { runs, directions };
}

function downsampleSeries(s: MetricSeries, maxPoints: number): MetricSeries & { downsampledFrom?: number } {
  if (s.steps.length <= maxPoints) return s;
  const keep = lttbIndexes(s.steps, s.values, maxPoints);
  return {
    key: s.key,
    steps: keep.map((i) => s.steps[i]),
    values: keep.map((i) => s.values[i]),
    wallTimes: keep.map((i) => s.wallTimes[i]),
    downsampledFrom: s.steps.length,
  };
}
