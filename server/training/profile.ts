/**
 * The training data's profile, kept in the model card for drift checks: class balance, per-feature
 * mean and std, an intensity histogram, and a sample of per-example mean intensities (the
 * reference distribution for a Kolmogorov–Smirnov test on logged inputs).
 */
import type { Dataset } from './data';

export interface DataProfile {
  examples: number;
  classCounts: number[];
  featureMean: number[];
  featureStd: number[];
  /** 20 bins over [0, 1] of every value. */
  histogram: number[];
  /** Sorted per-example mean values (at most 2,000, evenly taken). */
  exampleMeans: number[];
}

const round = (v: number) => Math.round(v * 1e5) / 1e5;

export function dataProfile(d: Dataset): DataProfile {
  const f = d.x.length / d.n;
  const sum = new Float64Array(f);
  const sq = new Float64Array(f);
  const histogram = new Array<number>(20).fill(0);
  const means: number[] = [];
  const classCounts = new Array<number>(d.labels.length).fill(0);
  const every = Math.max(1, Math.floor(d.n / 2000));
  for (let i = 0; i < d.n; i++) {
    classCounts[d.y[i]]++;
    let m = 0;
    for (let j = 0; j < f; j++) {
      const v = d.x[i * f + j];
      sum[j] += v;
      sq[j] += v * v;
      m += v;
      histogram[Math.min(19, Math.max(0, Math.floor(v * 20)))]++;
    }
    if (i % every === 0) means.push(m / f);
  }
  const featureMean = Array.from(sum, (s) => round(s / d.n));
  const featureStd = Array.from(sq, (s, j) => round(Math.sqrt(Math.max(0, s / d.n - (sum[j] / d.n) ** 2))));
  return { examples: d.n, classCounts, featureMean, featureStd, histogram, exampleMeans: means.sort((a, b) => a - b).map(round) };
}
