/** Terminal rendering for the CLI: tables, durations, colour (off when not a TTY or NO_COLOR). */
import { formatDuration, formatNumber } from '../core/format';
import type { RunDetail, RunStatus, RunSummary } from '../protocol/dto';

export interface Style {
  color: boolean;
}

const CODES = { red: 31, green: 32, yellow: 33, magenta: 35, cyan: 36, dim: 2, bold: 1, inverse: 7 } as const;
export function paint(style: Style, c: keyof typeof CODES, s: string): string {
  return style.color ? `\x1b[${CODES[c]}m${s}\x1b[0m` : s;
}

const STATUS_COLOR: Record<RunStatus, keyof typeof CODES> = { running: 'yellow', finished: 'green', failed: 'red', crashed: 'magenta' };

export function formatTime(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function table(rows: string[][], style: Style, colorCol?: (row: number) => keyof typeof CODES | undefined): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => visible(r[c]).length)));
  return rows
    .map((r, i) =>
      r
        .map((cell, c) => {
          const padded = c === r.length - 1 ? cell : cell + ' '.repeat(widths[c] - visible(cell).length);
          if (i === 0) return paint(style, 'bold', padded);
          const color = c === 3 ? colorCol?.(i) : undefined;
          return color ? paint(style, color, padded) : padded;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function visible(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

export function runsTable(runs: RunSummary[], style: Style): string {
  const rows = [['ID', 'NAME', 'KIND', 'STATUS', 'STARTED', 'DURATION']];
  for (const r of runs) {
    const status = r.status === 'failed' && r.exitCode !== null ? `failed (${r.exitCode})` : r.status;
    rows.push([r.id, r.name, r.kind, status, formatTime(r.startedAt), formatDuration(r.durationS)]);
  }
  return table(rows, style, (i) => STATUS_COLOR[runs[i - 1].status]);
}

export function runDetail(r: RunDetail, style: Style): string {
  const out: string[] = [];
  const status = paint(style, STATUS_COLOR[r.status], r.status + (r.exitCode !== null ? ` (exit ${r.exitCode})` : ''));
  out.push(`${paint(style, 'bold', `Run ${r.id}`)}  ${r.name}`);
  out.push(`  kind      ${r.kind}${r.experiment ? `   experiment ${r.experiment}` : ''}`);
  out.push(`  status    ${status}`);
  out.push(`  started   ${formatTime(r.startedAt)}   duration ${formatDuration(r.durationS)}${r.endedAt ? '' : ' so far'}`);
  if (r.command) out.push(`  command   ${r.command}`);
  if (r.cwd) out.push(`  cwd       ${r.cwd}`);
  if (r.parentId) out.push(`  parent    ${r.parentId}`);
  if (r.params.length) {
    out.push('', paint(style, 'bold', 'Parameters'));
    const w = Math.max(...r.params.map((p) => p.key.length));
    for (const p of r.params) out.push(`  ${p.key.padEnd(w)}  ${p.value}  ${paint(style, 'dim', `(${p.source})`)}`);
  }
  if (r.metrics.length) {
    out.push('', paint(style, 'bold', 'Metrics') + paint(style, 'dim', '  (last @step · min · max · points)'));
    const w = Math.max(...r.metrics.map((m) => m.key.length));
    for (const m of r.metrics) {
      out.push(`  ${m.key.padEnd(w)}  ${formatNumber(m.last)} @${m.lastStep} · ${formatNumber(m.min)} · ${formatNumber(m.max)} · ${m.count}`);
    }
  }
  if (r.inputs.length) {
    out.push('', paint(style, 'bold', 'Inputs'));
    for (const i of r.inputs) out.push(i.sha256 ? `  ${i.path}  ${i.sha256.slice(0, 12)}  ${i.size} B${i.declared ? '  (declared)' : ''}` : `  ${i.path}  unhashable: ${i.error ?? 'unknown'}`);
  }
  if (r.environment) {
    const e = r.environment;
    out.push('', paint(style, 'bold', 'Environment'));
    if (e.python) out.push(`  python    ${e.pythonVersion ?? ''} ${e.python}`);
    if (e.os) out.push(`  os        ${e.os}`);
    if (e.gpu) out.push(`  gpu       ${e.gpu}`);
    if (e.gitCommit) out.push(`  git       ${e.gitCommit.slice(0, 12)}${e.gitBranch ? ` (${e.gitBranch})` : ''}${e.gitDirty ? ' + uncommitted changes' : ''}`);
  }
  if (r.artifacts.length) {
    out.push('', paint(style, 'bold', 'Artifacts'));
    for (const a of r.artifacts) out.push(`  ${a.path}${a.size !== null ? `  ${a.size} B` : ''}`);
  }
  if (r.children.length) {
    out.push('', paint(style, 'bold', 'Child runs'));
    out.push(runsTable(r.children, style).split('\n').map((l) => `  ${l}`).join('\n'));
  }
  return out.join('\n');
}
