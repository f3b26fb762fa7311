/**
 * Chooses the Node runtime for the background server. better-sqlite3 is a native addon built
 * for one Node ABI, so the runtime must be one that can load it: the setting if given, else the
 * first `node` on PATH, else VS Code's own runtime. Each candidate is probed by loading the
 * bundled addon in it (a few tens of ms); the log says which won and why the others lost.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export type RuntimeOrigin = 'setting' | 'path' | 'vscode';

export interface Candidate {
  command: string;
  origin: RuntimeOrigin;
  /** Extra environment (VS Code's Electron needs ELECTRON_RUN_AS_NODE to behave as Node). */
  env: Record<string, string>;
}

export interface ProbeResult {
  version?: string;
  abi?: string;
  loaded: boolean;
  error?: string;
}

export interface ResolvedRuntime extends Candidate {
  version: string;
  abi: string;
  /** One line per candidate tried, for the log. */
  notes: string[];
}

export interface AddonAbi {
  modules: string;
  node: string;
}

export class RuntimeError extends Error {
  constructor(message: string, readonly notes: string[]) {
    super(message);
  }
}

export type Probe = (c: Candidate, addon: string) => Promise<ProbeResult>;

const MIN_NODE_MAJOR = 20;
const PROBE_SCRIPT =
  "const r={version:process.version,abi:process.versions.modules,loaded:false};" +
  "try{process.dlopen({exports:{}},process.env.LABBOOK_PROBE_ADDON);r.loaded=true}catch(e){r.error=String(e&&e.message||e).split('\\n')[0]}" +
  'process.stdout.write(JSON.stringify(r))';

export const probeRuntime: Probe = (c, addon) =>
  new Promise((resolve) => {
    execFile(
      c.command,
      ['-e', PROBE_SCRIPT],
      { env: { ...process.env, ...c.env, LABBOOK_PROBE_ADDON: addon }, timeout: 15_000, windowsHide: true },
      (err, stdout) => {
        try {
          resolve(JSON.parse(String(stdout)) as ProbeResult);
        } catch {
          resolve({ loaded: false, error: err ? err.message.split('\n')[0] : `unexpected output: ${String(stdout).slice(0, 200)}` });
        }
      },
    );
  });

export function findOnPath(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, process.platform === 'win32' ? `${name}.exe` : name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function candidates(setting: string, pathEnv: string | undefined, vscodeRuntime: string): Candidate[] {
  if (setting) return [{ command: setting, origin: 'setting', env: {} }];
  const out: Candidate[] = [];
  const onPath = findOnPath('node', pathEnv);
  if (onPath) out.push({ command: onPath, origin: 'path', env: {} });
  out.push({ command: vscodeRuntime, origin: 'vscode', env: { ELECTRON_RUN_AS_NODE: '1' } });
  return out;
}

const ORIGIN_LABEL: Record<RuntimeOrigin, string> = {
  setting: 'labbook.server.runtime',
  path: 'node on PATH',
  vscode: "VS Code's own runtime",
};

export async function resolveRuntime(opts: {
  setting: string;
  addon: string;
  addonAbi: AddonAbi | undefined;
  pathEnv?: string;
  vscodeRuntime: string;
  probe?: Probe;
}): Promise<ResolvedRuntime> {
  const probe = opts.probe ?? probeRuntime;
  const notes: string[] = [];
  const built = opts.addonAbi ? `Node ABI ${opts.addonAbi.modules} (${opts.addonAbi.node})` : 'an unknown Node ABI';
  for (const c of candidates(opts.setting, opts.pathEnv ?? process.env.PATH, opts.vscodeRuntime)) {
    const label = `${ORIGIN_LABEL[c.origin]} (${c.command})`;
    if (c.origin === 'setting' && !fs.existsSync(c.command)) {
      notes.push(`${label}: no such file`);
      continue;
    }
    const r = await probe(c, opts.addon);
    const major = r.version ? Number(/^v(\d+)/.exec(r.version)?.[1] ?? 0) : 0;
    if (!r.version) notes.push(`${label}: did not run as Node (${r.error ?? 'no output'})`);
    else if (major < MIN_NODE_MAJOR) notes.push(`${label}: Node ${r.version} is older than ${MIN_NODE_MAJOR}`);
    else if (!r.loaded) notes.push(`${label}: Node ${r.version} (ABI ${r.abi}) cannot load the SQLite addon built for ${built}: ${r.error ?? 'unknown error'}`);
    else {
      notes.push(`${label}: Node ${r.version} (ABI ${r.abi}) loads the SQLite addon built for ${built} — chosen`);
      return { ...c, version: r.version, abi: r.abi ?? '', notes };
    }
  }
  const wantMajor = opts.addonAbi ? opts.addonAbi.node.replace(/^v/, '').replace(/\..*/, '') : String(MIN_NODE_MAJOR);
  const fix = opts.setting
    ? `Fix: point the setting labbook.server.runtime at a Node ${wantMajor} executable, or clear it to let Labbook search.`
    : `Fix: install Node ${wantMajor} on PATH, or set labbook.server.runtime to its path.`;
  throw new RuntimeError(`Labbook's server cannot start: no usable Node runtime (its SQLite addon needs ${built}). ${fix}`, notes);
}
