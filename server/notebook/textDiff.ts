/**
 * Line-level text diff with word-level highlights inside changed lines (jsdiff underneath).
 * Linear in the common case: shared head and tail lines are trimmed before Myers runs, and a
 * middle too large to align is shown as a replaced block (bounded) instead of eating minutes.
 */
import { diffArrays } from 'diff';
import type { DiffLine, Segment } from '../protocol/diffDto';

export type { DiffLine, Segment };

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

/** Up to this many lines in all, unchanged lines are all kept (whole cells show whole). */
const MAX_FULL_CONTEXT = 5_000;
/** Otherwise this many unchanged lines are kept next to each change. */
const CONTEXT = 3;

/**
 * Both texts as diff lines with word highlights. Small texts come back whole (context
 * included); in large ones only the lines near changes are kept — line numbers jump over the
 * rest. Shared head and tail are found on characters first, so a 100 MB output with a change at
 * its end is never split into lines.
 */
export function diffText(a: string, b: string): TextDiff {
  const pre = commonPrefix(a, b);
  const headEnd = pre === 0 ? 0 : a.lastIndexOf('\n', pre - 1) + 1;
  let suf = commonSuffix(a, b, headEnd);
  // The shared tail must start at a line start on both sides.
  let tailStart = a.length - suf;
  if (!(tailStart === headEnd || (a[tailStart - 1] === '\n' && b[b.length - suf - 1] === '\n'))) {
    const nl = a.indexOf('\n', tailStart);
    tailStart = nl < 0 ? a.length : nl + 1;
    suf = a.length - tailStart;
  }
  const headLines = countLines(a, 0, headEnd);
  const tailLines = countLines(a, tailStart, a.length);
  const am = a.slice(headEnd, tailStart);
  const bm = b.slice(headEnd, b.length - suf);
  const full = headLines + tailLines <= MAX_FULL_CONTEXT;
  const out: DiffLine[] = [];
  const headShown = full ? headLines : Math.min(CONTEXT, headLines);
  lastLines(a, headEnd, headShown).forEach((t, k) => {
    const n = headLines - headShown + k + 1;
    out.push({ op: ' ', text: t, a: n, b: n });
  });
  let omitted = 0;
  let aAt = headLines;
  let bAt = headLines;
  if (am.length + bm.length > MAX_ALIGN_CHARS) {
    omitted = pushReplaced(out, am, bm, headLines);
    aAt += countLines(am, 0, am.length);
    bAt += countLines(bm, 0, bm.length);
  } else {
    const al = splitLines(am);
    const bl = splitLines(bm);
    if (al.length > MAX_ALIGN_LINES || bl.length > MAX_ALIGN_LINES) omitted = pushReplaced(out, am, bm, headLines);
    else alignLines(out, al, bl, headLines);
    aAt += al.length;
    bAt += bl.length;
  }
  const tailShown = full ? tailLines : Math.min(CONTEXT, tailLines);
  firstLines(a, tailStart, tailShown).forEach((t, k) => out.push({ op: ' ', text: t, a: aAt + k + 1, b: bAt + k + 1 }));
  return omitted ? { lines: out, omitted } : { lines: out };
}

/** Beyond this many characters in the differing middle, lines are not aligned. */
const MAX_ALIGN_CHARS = 16 * 1024 * 1024;

function alignLines(out: DiffLine[], am: string[], bm: string[], head: number): void {
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

/** Length of the common prefix, compared 4 KiB at a time before character by character. */
function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  const step = 4096;
  let i = 0;
  while (i + step <= n && a.slice(i, i + step) === b.slice(i, i + step)) i += step;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Length of the common suffix that does not reach back before `floor`. */
function commonSuffix(a: string, b: string, floor: number): number {
  const n = Math.min(a.length, b.length) - floor;
  const step = 4096;
  let i = 0;
  while (i + step <= n && a.slice(a.length - i - step, a.length - i) === b.slice(b.length - i - step, b.length - i)) i += step;
  while (i < n && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++;
  return i;
}

/** Lines in text[from, to) as splitLines counts them. */
function countLines(text: string, from: number, to: number): number {
  if (to <= from) return 0;
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return text[to - 1] === '\n' ? n : n + 1;
}

/** The last `k` lines of text[0, end) (end is a line start). */
function lastLines(text: string, end: number, k: number): string[] {
  const out: string[] = [];
  let stop = end - 1; // the newline ending the last line
  while (out.length < k && stop >= 0) {
    const start = text.lastIndexOf('\n', stop - 1) + 1;
    out.unshift(text.slice(start, stop));
    stop = start - 1;
  }
  return out;
}

/** The first `k` lines of text from `start`. */
function firstLines(text: string, start: number, k: number): string[] {
  const out: string[] = [];
  let at = start;
  while (out.length < k && at < text.length) {
    const nl = text.indexOf('\n', at);
    out.push(text.slice(at, nl < 0 ? text.length : nl));
    at = nl < 0 ? text.length : nl + 1;
  }
  return out;
}

function pushReplaced(out: DiffLine[], am: string, bm: string, head: number): number {
  const showA = firstLines(am, 0, MAX_SHOWN_LINES);
  const showB = firstLines(bm, 0, MAX_SHOWN_LINES);
  showA.forEach((t, i) => out.push({ op: '-', text: t, a: head + i + 1 }));
  showB.forEach((t, i) => out.push({ op: '+', text: t, b: head + i + 1 }));
  return countLines(am, 0, am.length) - showA.length + (countLines(bm, 0, bm.length) - showB.length);
}

/** Code-aware words: identifiers, numbers (1.0, 1e-3), runs of spaces, single punctuation marks. */
const TOKEN = /[A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\s+|[^\s\w]/g;

export function tokens(line: string): string[] {
  return line.match(TOKEN) ?? [];
}

/** Pairs the i-th removed line with the i-th added line of a change block and marks the words that differ. */
function pairWords(removed: DiffLine[], added: DiffLine[]): void {
  const n = Math.min(removed.length, added.length);
  for (let i = 0; i < n; i++) {
    const r = removed[i];
    const a = added[i];
    if (r.text.length > MAX_WORD_LINE || a.text.length > MAX_WORD_LINE) continue;
    const parts = diffArrays(tokens(r.text), tokens(a.text)).map((p) => ({ ...p, value: p.value.join('') }));
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
