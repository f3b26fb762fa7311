/**
 * Parameters of a script run, read from its command line the way argparse users write them,
 * plus config files named there (JSON, YAML, TOML — flattened as `a.b.c`) and `-p` overrides.
 * Precedence: config file < command line < override.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { LabbookError } from '../core/errors';
import type { ParamSource } from '../protocol/dto';

export interface ParamValue {
  value: string;
  source: ParamSource;
}

const CONFIG_EXT = /\.(json|ya?ml|toml)$/i;

/** `--batch-size` → `batch_size`, as argparse names its destinations. */
export function paramKey(option: string): string {
  return option.replace(/^-+/, '').replace(/-/g, '_');
}

function isOptionLike(a: string): boolean {
  return a.startsWith('-') && a !== '-' && !/^-\d*\.?\d+(e[-+]?\d+)?$/i.test(a);
}

/** Parameters spelled on a command line (the script's own arguments, after the script). */
export function paramsFromArgs(args: readonly string[]): { params: Map<string, string>; configFiles: string[] } {
  const params = new Map<string, string>();
  const configFiles: string[] = [];
  const noteConfig = (v: string) => {
    if (CONFIG_EXT.test(v)) configFiles.push(v);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      args.slice(i + 1).forEach(noteConfig);
      break;
    }
    if (!isOptionLike(a)) {
      noteConfig(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      params.set(paramKey(a.slice(0, eq)), a.slice(eq + 1));
      noteConfig(a.slice(eq + 1));
    } else if (i + 1 < args.length && !isOptionLike(args[i + 1])) {
      params.set(paramKey(a), args[i + 1]);
      noteConfig(args[++i]);
    } else {
      params.set(paramKey(a), 'true');
    }
  }
  return { params, configFiles };
}

/** Reads a JSON/YAML/TOML file into flat `a.b.c` keys; lists stay JSON text. */
export function paramsFromConfigFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LabbookError('BAD_ARGUMENT', `Cannot read the config file ${file}: ${(e as Error).message}`, { cause: e });
  }
  let data: unknown;
  try {
    const ext = path.extname(file).toLowerCase();
    data = ext === '.json' ? JSON.parse(text) : ext === '.toml' ? parseToml(text) : parseYaml(text);
  } catch (e) {
    throw new LabbookError('BAD_ARGUMENT', `The config file ${file} does not parse: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const out = new Map<string, string>();
  flatten(data, '', out);
  return out;
}

function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) flatten(child, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  if (!prefix) return; // a bare scalar or list at the top: nothing to name it by
  out.set(prefix, typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v));
}

/**
 * All parameters of a script run. Config files are looked up relative to `cwd`; one that does
 * not exist is skipped (the script will complain itself if it needs it).
 */
export function collectParams(scriptArgs: readonly string[], overrides: ReadonlyMap<string, string>, cwd: string): { params: Map<string, ParamValue>; configFiles: string[] } {
  const { params: cli, configFiles } = paramsFromArgs(scriptArgs);
  const all = new Map<string, ParamValue>();
  const found: string[] = [];
  for (const f of configFiles) {
    const abs = path.resolve(cwd, f);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) continue;
    found.push(abs);
    for (const [k, v] of paramsFromConfigFile(abs)) all.set(k, { value: v, source: 'config' });
  }
  for (const [k, v] of cli) all.set(k, { value: v, source: 'cli' });
  for (const [k, v] of overrides) all.set(k, { value: v, source: 'override' });
  return { params: all, configFiles: found };
}

/**
 * Applies `-p k=v` overrides to a script's arguments: replaces the value of `--k`/`--k=…` when
 * present, else appends `--k v`. The run records (and runs) the resulting command.
 */
export function applyOverrides(scriptArgs: readonly string[], overrides: ReadonlyMap<string, string>): string[] {
  const out = [...scriptArgs];
  for (const [key, value] of overrides) {
    let done = false;
    for (let i = 0; i < out.length && !done; i++) {
      const a = out[i];
      if (!isOptionLike(a)) continue;
      const eq = a.indexOf('=');
      const name = paramKey(eq > 0 ? a.slice(0, eq) : a);
      if (name !== key) continue;
      if (eq > 0) out[i] = `${a.slice(0, eq)}=${value}`;
      else if (i + 1 < out.length && !isOptionLike(out[i + 1])) out[i + 1] = value;
      else out.splice(i + 1, 0, value);
      done = true;
    }
    if (!done) out.push(`--${key}`, value);
  }
  return out;
}

/** Parses `k=v` (the value may contain '='). */
export function parseOverride(spec: string): [string, string] {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new LabbookError('BAD_ARGUMENT', `-p needs key=value, got '${spec}'`);
  return [spec.slice(0, eq).trim(), spec.slice(eq + 1)];
}
