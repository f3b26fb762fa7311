/**
 * Evaluations for the Confusion-matrix view. The contract (docs/views.md): a run artifact
 * `evaluation.json` (kind `evaluation`) with labels, per-epoch confusion matrices and
 * misclassified examples; without one, the run's `log_confusion_matrix` artifacts
 * (`confusion_matrix@STEP.json`) serve, one per step. Precision, recall and F1 are computed
 * from each matrix when the artifact does not carry them.
 */
import { LabbookError } from '../core/errors';
import type { ArtifactDto } from '../protocol/dto';
import type { ClassMetrics, EvaluatedRun, EvaluationDto, EvaluationEpoch, MisclassifiedExample, Thumbnail } from '../protocol/views';
import type { Store } from '../store/db';

export const EVALUATION_ARTIFACT = 'evaluation.json';
export const EVALUATION_KIND = 'evaluation';
const CONFUSION_KIND = 'confusion-matrix';
const MAX_THUMBNAIL_PIXELS = 128 * 128 * 3;

/** Per-class precision, recall, F1 and support of a confusion matrix (rows = actual). */
export function classMetrics(matrix: readonly (readonly number[])[]): ClassMetrics[] {
  const n = matrix.length;
  return matrix.map((row, i) => {
    const tp = row[i];
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < n; r++) predicted += matrix[r][i];
    const precision = predicted > 0 ? tp / predicted : null;
    const recall = support > 0 ? tp / support : null;
    const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : precision === 0 || recall === 0 ? 0 : null;
    return { precision, recall, f1, support };
  });
}

export function matrixAccuracy(matrix: readonly (readonly number[])[]): number | null {
  let total = 0;
  let correct = 0;
  matrix.forEach((row, i) => row.forEach((v, j) => ((total += v), i === j && (correct += v))));
  return total > 0 ? correct / total : null;
}

/** Validates and normalises an `evaluation.json` document; throws a LabbookError naming what is wrong. */
export function parseEvaluation(doc: unknown, where: string): Omit<EvaluationDto, 'runId' | 'runName' | 'source'> {
  const bad = (what: string) => new LabbookError('BAD_ARGUMENT', `${where}: ${what} (see docs/views.md for the evaluation.json format).`);
  if (!doc || typeof doc !== 'object') throw bad('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.version !== undefined && d.version !== 1) throw bad(`version ${String(d.version)} is not supported (this Labbook reads version 1)`);
  if (!Array.isArray(d.labels) || d.labels.length === 0) throw bad('"labels" must be a non-empty list');
  const labels = d.labels.map((l) => String(l));
  const n = labels.length;
  if (!Array.isArray(d.epochs) || d.epochs.length === 0) throw bad('"epochs" must be a non-empty list');
  const warnings: string[] = [];
  const epochs: EvaluationEpoch[] = d.epochs.map((raw, k) => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const epoch = e.epoch === undefined ? k + 1 : Number(e.epoch);
    if (!Number.isFinite(epoch)) throw bad(`epochs[${k}].epoch is not a number`);
    const matrix = checkMatrix(e.matrix, n, (w) => bad(`epochs[${k}].matrix ${w}`));
    return { epoch, matrix, perClass: classMetrics(matrix), accuracy: matrixAccuracy(matrix) };
  });
  epochs.sort((a, b) => a.epoch - b.epoch);
  const examples: MisclassifiedExample[] = [];
  const rawExamples = d.misclassified === undefined ? [] : d.misclassified;
  if (!Array.isArray(rawExamples)) throw bad('"misclassified" must be a list');
  rawExamples.forEach((raw, k) => {
    const x = (raw ?? {}) as Record<string, unknown>;
    const actual = Number(x.actual);
    const predicted = Number(x.predicted);
    if (!Number.isInteger(actual) || actual < 0 || actual >= n || !Number.isInteger(predicted) || predicted < 0 || predicted >= n) {
      warnings.push(`misclassified[${k}] skipped: "actual"/"predicted" must be class indexes 0…${n - 1}`);
      return;
    }
    let thumbnail: Thumbnail | null = null;
    if (x.thumbnail !== undefined && x.thumbnail !== null) {
      thumbnail = checkThumbnail(x.thumbnail);
      if (!thumbnail) warnings.push(`misclassified[${k}]: thumbnail ignored (need {width, height, pixels[width×height×channels]} of 0–255, or {png: base64})`);
    }
    examples.push({
      index: Number.isInteger(x.index) ? (x.index as number) : k,
      actual,
      predicted,
      epoch: x.epoch === undefined || x.epoch === null ? null : Number(x.epoch),
      confidence: typeof x.confidence === 'number' ? x.confidence : null,
      thumbnail,
    });
  });
  return { labels, epochs, examples, warnings };
}

function checkMatrix(m: unknown, n: number, bad: (what: string) => Error): number[][] {
  if (!Array.isArray(m) || m.length !== n) throw bad(`must have ${n} rows (one per label)`);
  return m.map((row, i) => {
    if (!Array.isArray(row) || row.length !== n) throw bad(`row ${i} must have ${n} counts`);
    return row.map((v, j) => {
      const x = typeof v === 'number' ? v : Number.NaN;
      if (!Number.isFinite(x) || x < 0) throw bad(`[${i}][${j}] = ${JSON.stringify(v)} is not a count ≥ 0`);
      return x;
    });
  });
}

function checkThumbnail(t: unknown): Thumbnail | null {
  const o = t as Record<string, unknown>;
  if (typeof o.png === 'string') return /^[A-Za-z0-9+/=\s]+$/.test(o.png) && o.png.length < 200_000 ? { png: o.png.replace(/\s/g, '') } : null;
  const width = Number(o.width);
  const height = Number(o.height);
  const channels = o.channels === undefined ? 1 : Number(o.channels);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || (channels !== 1 && channels !== 3)) return null;
  if (!Array.isArray(o.pixels) || o.pixels.length !== width * height * channels || o.pixels.length > MAX_THUMBNAIL_PIXELS) return null;
  const pixels = o.pixels.map((v) => Math.max(0, Math.min(255, Math.round(Number(v)))));
  if (pixels.some((v) => Number.isNaN(v))) return null;
  return { width, height, channels: channels as 1 | 3, pixels };
}

function evaluationSource(artifacts: readonly ArtifactDto[]): { kind: 'evaluation'; artifact: ArtifactDto } | { kind: 'confusion'; artifacts: ArtifactDto[] } | null {
  const ev = artifacts.find((a) => a.blob && (a.kind === EVALUATION_KIND || a.path === EVALUATION_ARTIFACT || a.path.endsWith(`/${EVALUATION_ARTIFACT}`)));
  if (ev) return { kind: 'evaluation', artifact: ev };
  const cms = artifacts.filter((a) => a.blob && a.kind === CONFUSION_KIND);
  return cms.length ? { kind: 'confusion', artifacts: cms } : null;
}

/** A run's evaluation, from its `evaluation.json` or its confusion-matrix artifacts. */
export function readEvaluation(store: Store, ref: string): EvaluationDto {
  const run = store.getRun(ref);
  const src = evaluationSource(run.artifacts);
  if (!src) {
    throw new LabbookError(
      'BAD_ARGUMENT',
      `Run ${run.id} (${run.name}) recorded no evaluation: it has no ${EVALUATION_ARTIFACT} artifact and no confusion matrix (labbook.log_confusion_matrix).`,
    );
  }
  if (src.kind === 'evaluation') {
    const where = `${src.artifact.path} of run ${run.id}`;
    let doc: unknown;
    try {
      doc = JSON.parse(store.readBlob(src.artifact.blob!).toString('utf8'));
    } catch (e) {
      if (e instanceof LabbookError) throw e;
      throw new LabbookError('BAD_ARGUMENT', `${where} is not valid JSON: ${(e as Error).message}`);
    }
    return { runId: run.id, runName: run.name, source: 'evaluation.json', ...parseEvaluation(doc, where) };
  }
  // log_confusion_matrix artifacts: {labels, matrix, step}; the step orders them as epochs.
  const warnings: string[] = [];
  let labels: string[] | null = null;
  const epochs: EvaluationEpoch[] = [];
  src.artifacts.forEach((a, k) => {
    try {
      const doc = JSON.parse(store.readBlob(a.blob!).toString('utf8')) as { labels: unknown; matrix: unknown; step: unknown };
      const parsed = parseEvaluation({ labels: doc.labels, epochs: [{ epoch: typeof doc.step === 'number' ? doc.step : k, matrix: doc.matrix }] }, a.path);
      if (labels && labels.join('\u0000') !== parsed.labels.join('\u0000')) {
        warnings.push(`${a.path} skipped: its labels differ from the other matrices'`);
        return;
      }
      labels = parsed.labels;
      epochs.push(parsed.epochs[0]);
    } catch (e) {
      warnings.push(`${a.path} skipped: ${(e as Error).message}`);
    }
  });
  if (!labels || epochs.length === 0) throw new LabbookError('BAD_ARGUMENT', `Run ${run.id} (${run.name}): none of its confusion matrices could be read (${warnings.join('; ')}).`);
  epochs.sort((a, b) => a.epoch - b.epoch);
  return { runId: run.id, runName: run.name, source: 'confusion-matrix artifacts', labels, epochs, examples: [], warnings };
}

/** Runs that carry an evaluation, newest first (for pickers and the run-vs-run delta). */
export function evaluatedRuns(store: Store, limit = 500): EvaluatedRun[] {
  return store.runsWithArtifacts([EVALUATION_KIND, CONFUSION_KIND], [EVALUATION_ARTIFACT], limit);
}
