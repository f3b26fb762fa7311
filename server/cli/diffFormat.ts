/**
 * Terminal rendering of notebook and run-code diffs: one header per changed cell, unified hunks
 * with changed words highlighted, outputs summarised by MIME type, unchanged cells folded.
 */
import { formatNumber } from '../core/format';
import type { CellDiff, DiffOptions, NotebookDiff } from '../notebook/diff';
import type { NbModel } from '../notebook/model';
import type { ImageInfo, MimeChange } from '../notebook/outputs';
import type { RunCodeDiff } from '../notebook/runDiff';
import { type DiffLine, type TextDiff, splitLines, toHunks } from '../notebook/textDiff';
import { type Style, paint } from './format';

/** Lines of an added or removed cell printed before "… N more lines". */
const MAX_CELL_LINES = 40;

export function summaryLine(s: NotebookDiff['summary']): string {
  const parts = [`${s.modified} modified`, `${s.added} added`, `${s.removed} removed`, `${s.moved} moved`, `${s.unchanged} unchanged`];
  return parts.join(' · ');
}

export function renderNotebookDiff(d: NotebookDiff, a: NbModel, b: NbModel, labels: { a: string; b: string }, style: Style, options: DiffOptions = {}): string {
  const out: string[] = [];
  out.push(paint(style, 'bold', `--- ${labels.a}`), paint(style, 'bold', `+++ ${labels.b}`));
  out.push(summaryLine(d.summary));
  if (options.metadata) for (const m of d.notebookMetadata) out.push(paint(style, 'cyan', `notebook metadata ${m.key}: ${short(m.a)} → ${short(m.b)}`));
  for (const w of d.warnings) out.push(paint(style, 'yellow', `note: ${w}`));
  let folded = 0;
  const flushFolded = () => {
    if (folded > 0) out.push(paint(style, 'dim', `  … ${folded} unchanged cell${folded === 1 ? '' : 's'}`));
    folded = 0;
  };
  for (const c of d.cells) {
    if (c.op === 'unchanged') {
      folded++;
      continue;
    }
    flushFolded();
    out.push('', cellHeader(c, style));
    if (c.op === 'moved' && !c.sourceChanged) out.push(paint(style, 'dim', `  ${firstLine(b.cells[c.b!].source)}`));
    if (c.op === 'added' || c.op === 'removed') {
      const cell = c.op === 'added' ? b.cells[c.b!] : a.cells[c.a!];
      const sign = c.op === 'added' ? '+' : '-';
      const lines = splitLines(cell.source);
      for (const l of lines.slice(0, MAX_CELL_LINES)) out.push(paint(style, c.op === 'added' ? 'green' : 'red', `${sign}${l}`));
      if (lines.length > MAX_CELL_LINES) out.push(paint(style, 'dim', `  … ${lines.length - MAX_CELL_LINES} more lines`));
      if (cell.outputs.length) out.push(paint(style, 'dim', `  (${cell.outputs.length} output${cell.outputs.length === 1 ? '' : 's'})`));
      continue;
    }
    if (c.typeChanged) out.push(paint(style, 'cyan', `  cell type ${c.typeChanged.a} → ${c.typeChanged.b}`));
    if (c.sourceChanged && c.source) out.push(...textHunks(c.source, style, ''));
    if (c.outputsChanged && c.outputs) {
      out.push(paint(style, 'cyan', '  outputs:'));
      for (const o of c.outputs) {
        if (o.op !== 'modified') {
          out.push(paint(style, o.op === 'added' ? 'green' : 'red', `    ${o.op === 'added' ? '+' : '-'} ${o.kind} ${o.op}`));
          continue;
        }
        for (const m of o.mimes ?? []) out.push(...mimeLines(o.kind, m, style));
      }
    }
    if (options.execCounts && c.execCountChanged && c.executionCount) out.push(paint(style, 'cyan', `  execution count ${c.executionCount.a ?? '-'} → ${c.executionCount.b ?? '-'}`));
    if (options.metadata && c.metadataChanged) for (const m of c.metadata ?? []) out.push(paint(style, 'cyan', `  metadata ${m.key}: ${short(m.a)} → ${short(m.b)}`));
  }
  flushFolded();
  return out.join('\n');
}

function firstLine(source: string): string {
  const line = source.split('\n').find((l) => l.trim()) ?? '(empty)';
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

function cellHeader(c: CellDiff, style: Style): string {
  const where = c.a !== null && c.b !== null ? (c.a === c.b ? `cell ${c.b + 1}` : `cell ${c.a + 1} → ${c.b + 1}`) : c.b !== null ? `cell ${c.b + 1}` : `cell ${c.a! + 1}`;
  const color = c.op === 'added' ? 'green' : c.op === 'removed' ? 'red' : c.op === 'moved' ? 'magenta' : 'yellow';
  const edited = c.op === 'moved' && (c.sourceChanged || c.outputsChanged) ? ' and edited' : '';
  return paint(style, color, paint(style, 'bold', `## ${where} (${c.type}) ${c.op}${edited}`));
}

function mimeLines(kind: string, m: MimeChange, style: Style): string[] {
  if (m.image) return [`    ${kind} ${m.mime} ${m.op === 'modified' ? 'changed' : m.op}: ${imageText(m.image.a)} → ${imageText(m.image.b)}`];
  const head = `    ${kind}${kind.startsWith('stream') || kind === 'error' ? '' : ` ${m.mime}`} ${m.op}`;
  return [head, ...(m.text ? textHunks(m.text, style, '    ') : [])];
}

function imageText(i: ImageInfo | undefined): string {
  if (!i) return 'none';
  const size = i.width !== undefined ? `${i.width}×${i.height} px, ` : '';
  return `${size}${formatBytes(i.bytes)}${i.problem ? ` (${i.problem})` : ''}`;
}

export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 ** 2).toFixed(1)} MB`;
}

export function textHunks(d: TextDiff, style: Style, indent: string): string[] {
  const out: string[] = [];
  for (const h of toHunks(d)) {
    out.push(paint(style, 'cyan', `${indent}@@ -${h.aStart},${h.aLines} +${h.bStart},${h.bLines} @@`));
    for (const l of h.lines) out.push(indent + lineText(l, style));
  }
  if (d.omitted) out.push(paint(style, 'dim', `${indent}… ${d.omitted} more changed lines not shown (too large to align)`));
  return out;
}

function lineText(l: DiffLine, style: Style): string {
  if (l.op === ' ') return ` ${l.text}`;
  const color = l.op === '-' ? 'red' : 'green';
  if (!style.color || !l.words) return paint(style, color, `${l.op}${l.text}`);
  // Unchanged words in the line's colour, changed words inverted.
  return paint(style, color, l.op) + l.words.map((w) => (w.op === '=' ? paint(style, color, w.text) : paint(style, color, paint(style, 'inverse', w.text)))).join('');
}

function short(v: unknown): string {
  if (v === undefined) return '(none)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

export function renderRunDiff(d: RunCodeDiff, models: Map<string, { a: NbModel; b: NbModel }>, style: Style, options: DiffOptions): string {
  const out: string[] = [paint(style, 'bold', `runs ${d.a.id} (${d.a.name}) → ${d.b.id} (${d.b.name})`)];
  out.push('', paint(style, 'bold', `parameters: ${d.params.length} differ, ${d.identicalParams} identical`));
  const w = Math.max(0, ...d.params.map((p) => p.key.length), ...d.metrics.map((m) => m.key.length));
  for (const p of d.params) out.push(`  ${p.key.padEnd(w)}  ${p.a ?? '(unset)'} → ${p.b ?? '(unset)'}`);
  if (d.metrics.length) {
    out.push('', paint(style, 'bold', 'metrics (last values):'));
    for (const m of d.metrics) {
      const delta = m.a !== null && m.b !== null ? m.b - m.a : null;
      const tail = delta === null ? '' : delta === 0 ? paint(style, 'dim', '  (same)') : `  (${delta > 0 ? '+' : ''}${formatNumber(delta)})`;
      out.push(`  ${m.key.padEnd(w)}  ${m.a === null ? '—' : formatNumber(m.a)} → ${m.b === null ? '—' : formatNumber(m.b)}${tail}`);
    }
  }
  out.push('', paint(style, 'bold', 'code:'));
  for (const f of d.files) {
    const name = f.pathB ? `${f.path} → ${f.pathB}` : f.path;
    out.push(`  ${f.kind} ${name}: ${f.op}${f.notebook && f.op !== 'unchanged' ? ` (${summaryLine(f.notebook.summary)})` : ''}${f.problem ? ` — ${f.problem}` : ''}`);
    if (f.op === 'unchanged') continue;
    const m = models.get(f.path);
    if (f.notebook && m) {
      const body = renderNotebookDiff(f.notebook, m.a, m.b, { a: `${d.a.id}:${f.path}`, b: `${d.b.id}:${f.pathB ?? f.path}` }, style, options);
      out.push(...body.split('\n').slice(3).map((l) => (l ? `    ${l}` : l)));
    } else if (f.text) out.push(...textHunks(f.text, style, '    '));
  }
  return out.join('\n');
}
