/**
 * Downsampling and smoothing of metric curves, shared by the server (before sending) and the
 * webviews (before drawing). Pure, no dependencies: runs in Node and in the browser.
 */

/**
 * Largest-Triangle-Three-Buckets (Steinarsson 2013): keeps `threshold` points of (xs, ys) that
 * preserve the curve's visual shape — first and last point always, then per bucket the point
 * forming the largest triangle with the previous pick and the next bucket's average.
 * Returns the indexes kept, ascending. Null values are never picked (they are gaps).
 */
export function lttbIndexes(xs: ArrayLike<number>, ys: ArrayLike<number | null>, threshold: number): number[] {
  const n = xs.length;
  const valid: number[] = [];
  for (let i = 0; i < n; i++) if (ys[i] !== null && Number.isFinite(ys[i] as number)) valid.push(i);
  const m = valid.length;
  if (threshold >= m || threshold < 3) return valid;
  const out: number[] = [valid[0]];
  const every = (m - 2) / (threshold - 2);
  let a = 0; // position in `valid` of the last pick
  for (let b = 0; b < threshold - 2; b++) {
    const start = Math.floor(b * every) + 1;
    const end = Math.min(Math.floor((b + 1) * every) + 1, m - 1);
    // Average of the next bucket (the last point for the final bucket).
    const nStart = end;
    const nEnd = Math.min(Math.floor((b + 2) * every) + 1, m);
    let avgX = 0;
    let avgY = 0;
    for (let j = nStart; j < nEnd; j++) {
      avgX += xs[valid[j]];
      avgY += ys[valid[j]] as number;
    }
    const cnt = Math.max(1, nEnd - nStart);
    avgX /= cnt;
    avgY /= cnt;
    const ax = xs[valid[a]];
    const ay = ys[valid[a]] as number;
    let best = -1;
    let pick = start;
    for (let j = start; j < end; j++) {
      const x = xs[valid[j]];
      const y = ys[valid[j]] as number;
      const area = Math.abs((ax - avgX) * (y - ay) - (ax - x) * (avgY - ay));
      if (area > best) {
        best = area;
        pick = j;
      }
    }
    out.push(valid[pick]);
    a = pick;
  }
  out.push(valid[m - 1]);
  return out;
}

/** LTTB applied: the kept points as new arrays. */
export function lttb<T extends number | null>(xs: ArrayLike<number>, ys: ArrayLike<T>, threshold: number): { xs: number[]; ys: T[]; indexes: number[] } {
  const indexes = lttbIndexes(xs, ys, threshold);
  return { xs: indexes.map((i) => xs[i]), ys: indexes.map((i) => ys[i]), indexes };
}

/**
 * Exponential moving average with TensorBoard's debiasing, `weight` in [0, 1): 0 leaves the
 * curve as it is. Nulls stay nulls and do not move the average.
 */
export function smooth(ys: ArrayLike<number | null>, weight: number): (number | null)[] {
  const out: (number | null)[] = new Array(ys.length);
  if (weight <= 0) {
    for (let i = 0; i < ys.length; i++) {
      const y = ys[i];
      out[i] = y === null || !Number.isFinite(y) ? null : y;
    }
    return out;
  }
  let last = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) {
      out[i] = null;
      continue;
    }
    last = last * weight + (1 - weight) * y;
    n++;
    out[i] = last / (1 - Math.pow(weight, n));
  }
  return out;
}
