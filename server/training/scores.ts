/** Classification scores from predictions: a confusion matrix and what follows from it. Pure. */

export interface ClassScore {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Scores {
  accuracy: number;
  macro: { precision: number; recall: number; f1: number };
  perClass: ClassScore[];
  /** Rows = actual class, columns = predicted (docs/views.md). */
  confusion: number[][];
}

export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < actual.length; i++) m[actual[i]][predicted[i]]++;
  return m;
}

/** Precision/recall/F1 per class (0 where undefined, as scikit-learn's zero_division=0), macro means. */
export function scoresFrom(confusion: number[][], labels: string[]): Scores {
  const k = confusion.length;
  let correct = 0;
  let total = 0;
  const perClass: ClassScore[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    let predicted = 0;
    let support = 0;
    for (let j = 0; j < k; j++) {
      predicted += confusion[j][c];
      support += confusion[c][j];
    }
    correct += tp;
    total += support;
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ label: labels[c] ?? String(c), precision, recall, f1, support });
  }
  const mean = (f: (s: ClassScore) => number) => perClass.reduce((a, s) => a + f(s), 0) / Math.max(1, k);
  return {
    accuracy: total ? correct / total : 0,
    macro: { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1) },
    perClass,
    confusion,
  };
}
