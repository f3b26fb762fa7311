/**
 * CLI twins of the views' commands: `compare`, `tag`, `delete`, `confusion`. Same core modules
 * as the server (server/views/), so the terminal and the panels say the same thing.
 */
import { LabbookError } from '../core/errors';
import { formatNumber } from '../core/format';
import type { CompareData } from '../protocol/views';
import { Store } from '../store/db';
import { compareRuns } from '../views/compare';
import { readEvaluation } from '../views/evaluation';
import { type FlagSpec, type Parsed, UsageError, intFlag } from './args';

interface Ctx {
  workspace: string;
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
}

function open(ctx: Ctx, write: boolean): Store {
  const store = Store.open(ctx.workspace, { create: false });
  if (!store) throw new LabbookError('NO_STORE', `${ctx.workspace} has no Labbook store (.labbook/): there are no runs to ${write ? 'change' : 'read'}.`);
  return store;
}

function columns(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}

/** What differs between the compared runs: parameters, data files, packages. */
export function differences(d: CompareData): { params: string[]; inputs: string[]; packages: string[] } {
  const differs = (vals: (string | null | undefined)[]) => new Set(vals.map((v) => v ?? '\u0000')).size > 1;
  const keys = [...new Set(d.runs.flatMap((r) => Object.keys(r.params)))].sort();
  const paths = [...new Set(d.runs.flatMap((r) => r.inputs.map((i) => i.path)))].sort();
  const pkgs = [...new Set(d.runs.flatMap((r) => Object.keys(r.environment?.packages ?? {})))].sort();
  return {
    params: keys.filter((k) => differs(d.runs.map((r) => r.params[k]))),
    inputs: paths.filter((p) => differs(d.runs.map((r) => r.inputs.find((i) => i.path === p)?.sha256))),
    packages: pkgs.filter((p) => differs(d.runs.map((r) => r.environment?.packages[p]))),
  };
}

export const VIEW_COMMANDS: Record<string, { flags: Record<string, FlagSpec>; run: (ctx: Ctx, p: Parsed) => void }> = {
  compare: {
    flags: { all: {} },
    run(ctx, p) {
      if (p.positionals.length < 2) throw new UsageError(`'compare' needs two or more RUNs (got ${p.positionals.length})`);
      const store = open(ctx, false);
      try {
        const d = compareRuns(store, { ids: p.positionals, maxPoints: 100 });
        const diff = differences(d);
        if (ctx.json) {
          const runs = d.runs.map(({ series: _series, ...r }) => r);
          ctx.out(JSON.stringify({ runs, directions: d.directions, differences: diff }));
          return;
        }
        const head = ['', ...d.runs.map((r) => `${r.name} (${r.id})`)];
        const keys = p.flags.has('all') ? [...new Set(d.runs.flatMap((r) => Object.keys(r.params)))].sort() : diff.params;
        ctx.out(`Parameters (${diff.params.length} differ${p.flags.has('all') ? '' : '; --all for every one'}):`);
        ctx.out(keys.length ? columns([head, ...keys.map((k) => [`${diff.params.includes(k) ? '*' : ' '} ${k}`, ...d.runs.map((r) => r.params[k] ?? '—')])]) : '  none differ');
        const metrics = [...new Set(d.runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
        ctx.out('\nMetrics (last / best):');
        ctx.out(
          metrics.length
            ? columns([head, ...metrics.map((k) => [`${k} ${d.directions[k] === 'min' ? '↓' : '↑'}`, ...d.runs.map((r) => {
                const m = r.metrics.find((x) => x.key === k);
                return m ? `${formatNumber(m.last)} / ${formatNumber(m.best)}` : '—';
              })])])
            : '  none recorded',
        );
        if (diff.inputs.length || diff.packages.length) {
          ctx.out('\nChanged between the runs:');
          for (const i of diff.inputs) ctx.out(`  data ${i}: ${d.runs.map((r) => r.inputs.find((x) => x.path === i)?.sha256?.slice(0, 12) ?? '—').join(' → ')}`);
          for (const k of diff.packages) ctx.out(`  package ${k}: ${d.runs.map((r) => r.environment?.packages[k] ?? '—').join(' → ')}`);
        }
      } finally {
        store.close();
      }
    },
  },
  tag: {
    flags: { remove: { value: true, alias: 'r' } },
    run(ctx, p) {
      const [ref, ...add] = p.positionals;
      const remove = p.all.get('remove') ?? [];
      if (!ref || add.length + remove.length === 0) throw new UsageError("'tag' needs a RUN and tags to add (or -r TAG to remove)");
      for (const t of [...add, ...remove]) if (!/^[^\s,]{1,64}$/.test(t)) throw new UsageError(`'${t}' is not a tag: use 1–64 characters without spaces or commas`);
      const store = open(ctx, true);
      try {
        for (const t of add) store.addTag(ref, t);
        for (const t of remove) store.removeTag(ref, t);
        const run = store.getRun(ref);
        ctx.out(ctx.json ? JSON.stringify({ id: run.id, tags: run.tags }) : `${run.id} (${run.name}): ${run.tags.join(' ') || 'no tags'}`);
      } finally {
        store.close();
      }
    },
  },
  delete: {
    flags: { yes: { alias: 'y' } },
    run(ctx, p) {
      if (p.positionals.length === 0) throw new UsageError("'delete' needs one or more RUNs");
      const store = open(ctx, true);
      try {
        const runs = p.positionals.map((ref) => store.getRun(ref));
        if (!p.flags.has('yes')) {
          for (const r of runs) ctx.err(`labbook: would delete run ${r.id} (${r.name}, ${r.status}, ${r.metrics.reduce((a, m) => a + m.count, 0)} metric points)`);
          throw new LabbookError('BAD_ARGUMENT', 'nothing deleted: add --yes to delete (child runs and files in the workspace are kept)');
        }
        const deleted = runs.map((r) => store.deleteRun(r.id));
        if (ctx.json) ctx.out(JSON.stringify({ deleted }));
        else for (const d of deleted) ctx.out(`deleted run ${d.id} (${d.name})${d.keptChildren.length ? `; kept its child runs ${d.keptChildren.join(', ')}` : ''}`);
      } finally {
        store.close();
      }
    },
  },
  confusion: {
    flags: { epoch: { value: true }, normalized: {} },
    run(ctx, p) {
      if (p.positionals.length !== 1) throw new UsageError(`'confusion' needs exactly one RUN (got ${p.positionals.length})`);
      const store = open(ctx, false);
      try {
        const ev = readEvaluation(store, p.positionals[0]);
        for (const w of ev.warnings) ctx.err(`labbook: warning: ${w}`);
        if (ctx.json) {
          ctx.out(JSON.stringify(ev));
          return;
        }
        const want = intFlag(p, 'epoch', 0);
        const epoch = want === undefined ? ev.epochs[ev.epochs.length - 1] : ev.epochs.find((e) => e.epoch === want);
        if (!epoch) throw new LabbookError('BAD_ARGUMENT', `run ${ev.runId} has no epoch ${want} (epochs: ${ev.epochs.map((e) => e.epoch).join(', ')})`);
        const norm = p.flags.has('normalized');
        ctx.out(`${ev.runName} (${ev.runId}) · epoch ${epoch.epoch} of ${ev.epochs.map((e) => e.epoch).join(', ')} · accuracy ${epoch.accuracy === null ? '—' : (epoch.accuracy * 100).toFixed(2) + '%'} · rows actual, columns predicted${norm ? ' (% of row)' : ''}`);
        const rows = [['', ...ev.labels, 'precision', 'recall', 'F1']];
        epoch.matrix.forEach((row, i) => {
          const sum = row.reduce((a, b) => a + b, 0);
          const c = epoch.perClass[i];
          const f = (v: number | null) => (v === null ? '—' : v.toFixed(3));
          rows.push([ev.labels[i], ...row.map((v) => (norm ? (sum ? ((100 * v) / sum).toFixed(1) : '0') : String(v))), f(c.precision), f(c.recall), f(c.f1)]);
        });
        ctx.out(columns(rows));
      } finally {
        store.close();
      }
    },
  },
};
