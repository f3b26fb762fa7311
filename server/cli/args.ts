/**
 * A small, strict argument parser: known flags only, `--flag value` and `--flag=value`,
 * `--` ends options. Bad usage is a UsageError (exit code 2).
 */
export class UsageError extends Error {}

export interface FlagSpec {
  /** Takes a value (`--limit 10`) rather than being a switch (`--json`). */
  value?: boolean;
  alias?: string;
}

export interface Parsed {
  /** The last value of each flag given. */
  flags: Map<string, string | true>;
  /** Every value of each value-taking flag, in order (for repeatable ones like `-p`). */
  all: Map<string, string[]>;
  positionals: string[];
  /** Everything after a bare `--`. */
  rest: string[];
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): Parsed {
  const aliases = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.alias) aliases.set(s.alias, name);
  const flags = new Map<string, string | true>();
  const all = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return { flags, all, positionals, rest: argv.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const raw = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : aliases.get(a.slice(1)) ?? '';
    const name = aliases.get(raw) ?? raw;
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option '${a}'`);
    if (s.value) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`option '--${name}' needs a value`);
      flags.set(name, v);
      all.set(name, [...(all.get(name) ?? []), v]);
    } else {
      if (eq > 0) throw new UsageError(`option '--${name}' takes no value`);
      flags.set(name, true);
    }
  }
  return { flags, all, positionals, rest: [] };
}

export function intFlag(p: Parsed, name: string, min: number): number | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} needs an integer ≥ ${min}, got '${v}'`);
  return n;
}

export function choiceFlag<T extends string>(p: Parsed, name: string, choices: readonly T[]): T | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  if (v === true || !choices.includes(v as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got '${v}'`);
  return v as T;
}
