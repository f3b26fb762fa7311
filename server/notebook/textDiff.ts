/**
 * Line-level text diff with word-level highlights inside changed lines (jsdiff underneath).
 * Linear in the common case: shared head and tail lines are trimmed before Myers runs, and a
 * middle too large to align is shown as a replaced block (bounded) instead of eating minutes.
 */
import { diffArrays, diffWordsWithSpace } from 'diff';

export interface Segment {
  op: '=' | '-' | '+';
  text: string;
}

export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
  /** 1-based line numbers on each side (absent on the side the line is not on). */
  a?: number;
  b?: number;
  /** Word-level changes within a changed line paired with its counterpart. */
  words?: Segment[];
}

export interface TextDiff {
  lines: DiffLine[];
  /** Lines left out of `lines` because the changed block was too large to show. */
  omitted?: number;
}

export interface Hunk {
  aStart: number;
  aLines: number;
  bStart: number;
  bLines: number;
  lines: DiffLine[];
}

/** Beyond this many lines in the differing middle of either side, no alignment is attempted. */
const MAX_ALIGN_LINES = 20_000;
/** At most this many lines of a replaced block are kept for display (per side). */
const MAX_SHOWN_LINES = 400;
/** Word highlights only for lines shorter than this. */
const MAX_WORD_LINE = 2_000;

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The whole of both texts as diff lines (context included), with word highlights. */
export function diffText(a: string, b: string): TextDiff {
  const al = splitLines(a);
  const bl = splitLines(b);
  const out: DiffLine[] = [];
  let head = 0;
  while (head < al.length && head < bl.length && al[head] === bl[head]) head++;
  let tail = 0;
  while (tail < al.length - head && tail < bl.length - head && al[al.length - 1 - tail] === bl[bl.length - 1 - tail]) tail++;
  for (let i = 0; i < head; i++) out.push({ op: ' ', text: al[i], a: i + 1, b: i + 1 });
  const am = al.slice(head, al.length - tail);
  const bm = bl.slice(head, bl.length - tail);
  let omitted = 0;
  if (am.length > MAX_ALIGN_LINES || bm.length > MAX_ALIGN_LINES) {
    omitted = pushReplaced(out, am, bm, head);
  } else if (am.length > 0 || bm.length > 0) {
    let ai = head;
    let bi = head;
    let removed: DiffLine[] = [];
    let added: DiffLine[] = [];
    const flush = () => {
      pairWords(removed, added);
      out.push(...removed, ...added);
      removed = [];
      added = [];
    };
    for (const part of diffArrays(am, bm)) {
      if (part.removed) for (const t of part.value) removed.push({ op: '-', text: t, a: ++ai });
      else if (part.added) for (const t of part.value) added.push({ op: '+', text: t, b: ++bi });
      else {
        flush();
        for (const t of part.value) out.push({ op: ' ', text: t, a: ++ai, b: ++bi });
      }
    }
    flush();
  }
  for (let i = tail; i > 0; i--) {
    const ai = al.length - i;
    const bi = bl.length - i;
    out.push({ op: ' ', text: al[ai], a: ai + 1, b: bi + 1 });
  }
  return omitted ? { lines: out, omitted } : { lines: out };
}

function pushReplaced(out: DiffLine[], am: string[], bm: string[], head: number): number {
  const showA = Math.min(am.length, MAX_SHOWN_LINES);
  const showB = Math.min(bm.length, MAX_SHOWN_LINES);
  for (let i = 0; i < showA; i++) out.push({ op: '-', text: am[i], a: head + i + 1 });
  for (let i = 0; i < showB; i++) out.push({ op: '+', text: bm[i], b: head + i + 1 });
  return am.length - showA + (bm.length - showB);
}

/** Pairs the i-th removed line with the i-th added line of a change block and marks the words that differ. */
function pairWords(removed: DiffLine[], added: DiffLine[]): void {
  const n = Math.min(removed.length, added.length);
  for (let i = 0; i < n; i++) {
    const r = removed[i];
    const a = added[i];
    if (r.text.length > MAX_WORD_LINE || a.text.length > MAX_WORD_LINE) continue;
    const parts = diffWordsWithSpace(r.text, a.text);
    let same = 0;
    for (const p of parts) if (!p.added && !p.removed) same += p.value.length;
    // Lines with little in common read better as a whole line replaced.
    if (same < 0.3 * Math.max(r.text.length, a.text.length)) continue;
    r.words = [];
    a.words = [];
    for (const p of parts) {
      if (p.added) a.words.push({ op: '+', text: p.value });
      else if (p.removed) r.words.push({ op: '-', text: p.value });
      else {
        r.words.push({ op: '=', text: p.value });
        a.words.push({ op: '=', text: p.value });
      }
    }
  }
}

export function hasChanges(d: TextDiff): boolean {
  return d.lines.some((l) => l.op !== ' ') || (d.omitted ?? 0) > 0;
}

/** Unified-diff hunks with `context` lines around each change. */
export function toHunks(d: TextDiff, context = 3): Hunk[] {
  const lines = d.lines;
  const hunks: Hunk[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i].op === ' ') {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // Extend while the next change is within 2×context of the last one.
    for (;;) {
      while (end < lines.length && lines[end].op !== ' ') end++;
      let next = end;
      while (next < lines.length && lines[next].op === ' ') next++;
      if (next < lines.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(lines.length, end + context);
    const slice = lines.slice(start, stop);
    const first = lines[start];
    // Starts are 1-based; for a side with no lines yet the start is that side's line count so far.
    const aStart = first.a ?? countBefore(lines, start, 'a') + 1;
    const bStart = first.b ?? countBefore(lines, start, 'b') + 1;
    hunks.push({
      aStart,
      aLines: slice.filter((l) => l.op !== '+').length,
      bStart,
      bLines: slice.filter((l) => l.op !== '-').length,
      lines: slice,
    });
    i = stop;
  }
  return hunks;
}

function countBefore(lines: DiffLine[], index: number, side: 'a' | 'b'): number {
  for (let k = index - 1; k >= 0; k--) {
    const n = lines[k][side];
    if (n !== undefined) return n;
  }
  return 0;
}
