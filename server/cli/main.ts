/**
 * `labbook` — the command-line twin of the extension. Same core modules as the server, no VS Code.
 * Exit codes: 0 success, 1 handled failure (one line on stderr), 2 bad usage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError, describeError } from '../core/errors';
import { RUN_SORT_KEYS, RUN_STATUSES } from '../protocol/dto';
import { Store } from '../store/db';
import { SCHEMA_VERSION } from '../store/migrations';
import { LABBOOK_VERSION } from '../version';
import { type FlagSpec, type Parsed, UsageError, choiceFlag, intFlag, parseArgs } from './args';
import { type Style, runDetail, runsTable } from './format';

const HELP = `labbook ${LABBOOK_VERSION} — track, compare and reproduce runs of notebooks and scripts

Usage: labbook [--workspace DIR] <command> [options]

Commands:
  runs                 list the runs of the workspace, newest first
      --limit N        at most N runs (default 50; with --json 1000)
      --sort KEY       started | name | status | duration (default started)
      --asc            oldest / smallest first
      --status S       only runs that are running | finished | failed | crashed
      --all            include child runs (pipeline steps)
  show RUN             everything recorded about one run
                       RUN is a run id, a unique id prefix, or a run name (newest wins)

Options:
  --workspace DIR      the workspace whose .labbook/ store to use (default: current directory)
  --json               machine-readable output on stdout
  -h, --help           this help
  -V, --version        the version

Exit codes: 0 success · 1 failure (reason on stderr) · 2 bad usage.
`;

const GLOBAL: Record<string, FlagSpec> = {
  workspace: { value: true, alias: 'C' },
  json: {},
  help: { alias: 'h' },
  version: { alias: 'V' },
};

interface Context {
  workspace: string;
  json: boolean;
  style: Style;
  out: (s: string) => void;
}

const COMMANDS: Record<string, { flags: Record<string, FlagSpec>; run: (ctx: Context, p: Parsed) => void }> = {
  runs: {
    flags: { limit: { value: true }, sort: { value: true }, asc: {}, status: { value: true }, all: {} },
    run(ctx, p) {
      if (p.positionals.length > 0) throw new UsageError(`'runs' takes no arguments (got '${p.positionals[0]}')`);
      const limit = intFlag(p, 'limit', 1) ?? (ctx.json ? 1000 : 50);
      const sort = choiceFlag(p, 'sort', RUN_SORT_KEYS);
      const status = choiceFlag(p, 'status', RUN_STATUSES);
      const store = openForReading(ctx.workspace);
      if (!store) {
        if (ctx.json) ctx.out(JSON.stringify({ runs: [], total: 0 }));
        else ctx.out(`No runs yet: ${ctx.workspace} has no Labbook store (.labbook/).`);
        return;
      }
      try {
        const page = store.listRuns({ limit, sort, order: p.flags.has('asc') ? 'asc' : 'desc', status, topLevel: !p.flags.has('all') });
        if (ctx.json) {
          ctx.out(JSON.stringify({ runs: page.runs, total: page.total }));
        } else if (page.total === 0) {
          ctx.out(status ? `No ${status} runs.` : 'No runs yet.');
        } else {
          ctx.out(runsTable(page.runs, ctx.style));
          if (page.total > page.runs.length) ctx.out(`… ${page.total - page.runs.length} more (use --limit)`);
        }
      } finally {
        store.close();
      }
    },
  },
  show: {
    flags: {},
    run(ctx, p) {
      if (p.positionals.length !== 1) throw new UsageError(`'show' needs exactly one RUN (got ${p.positionals.length})`);
      const store = openForReading(ctx.workspace);
      if (!store) throw new LabbookError('NO_STORE', `${ctx.workspace} has no Labbook store (.labbook/), so there is no run '${p.positionals[0]}'.`);
      try {
        const run = store.getRun(p.positionals[0]);
        ctx.out(ctx.json ? JSON.stringify({ run }) : runDetail(run, ctx.style));
      } finally {
        store.close();
      }
    },
  },
};

function openForReading(workspace: string): Store | null {
  const store = Store.open(workspace, { create: false });
  if (store) {
    try {
      store.recoverCrashedRuns();
    } catch (e) {
      // A read-only store can still be listed; its stale statuses are fixed by the next writer.
      if (!(e instanceof LabbookError && e.code === 'NOT_WRITABLE')) throw e;
    }
  }
  return store;
}

export function main(argv: readonly string[], io = { stdout: process.stdout, stderr: process.stderr }): number {
  const verbIndex = findVerb(argv);
  const verb = verbIndex >= 0 ? argv[verbIndex] : undefined;
  try {
    const command = verb ? COMMANDS[verb] : undefined;
    if (verb && !command) throw new UsageError(`unknown command '${verb}'`);
    const p = parseArgs(verbIndex >= 0 ? [...argv.slice(0, verbIndex), ...argv.slice(verbIndex + 1)] : argv, { ...GLOBAL, ...command?.flags });
    if (p.flags.has('help')) {
      io.stdout.write(HELP);
      return 0;
    }
    if (p.flags.has('version')) {
      io.stdout.write(`labbook ${LABBOOK_VERSION} (store schema v${SCHEMA_VERSION}, node ${process.version})\n`);
      return 0;
    }
    if (!command) throw new UsageError('no command given');
    const ws = path.resolve(String(p.flags.get('workspace') ?? process.cwd()));
    if (!fs.existsSync(ws) || !fs.statSync(ws).isDirectory()) throw new LabbookError('BAD_ARGUMENT', `workspace ${ws} is not a directory`);
    const style = { color: !!(io.stdout as NodeJS.WriteStream).isTTY && !process.env.NO_COLOR && !p.flags.has('json') };
    command.run({ workspace: ws, json: p.flags.has('json'), style, out: (s) => io.stdout.write(s + '\n') }, p);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`labbook: ${e.message}\nRun 'labbook --help' for usage.\n`);
      return 2;
    }
    if (e instanceof LabbookError) {
      io.stderr.write(`labbook: ${e.message}\n`);
      return 1;
    }
    io.stderr.write(`labbook: unexpected error: ${describeError(e)}${process.env.LABBOOK_DEBUG ? `\n${(e as Error)?.stack}` : ' (set LABBOOK_DEBUG=1 for a stack trace)'}\n`);
    return 1;
  }
}

/** The first argument that is not an option or an option's value. */
function findVerb(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return -1;
    if (a === '--workspace' || a === '-C') {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return i;
  }
  return -1;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
