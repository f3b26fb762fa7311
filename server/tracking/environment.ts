/**
 * What a run ran on: OS, CPU, memory, GPU, git state (with the uncommitted diff as a blob) and
 * the Python interpreter with its installed packages. Everything here runs in parallel with the
 * user's process; the interpreter's package list is cached until its site folders change.
 */
import { execFile } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { EnvironmentDto } from '../protocol/dto';
import type { Store } from '../store/db';
import { LABBOOK_VERSION } from '../version';

function run(cmd: string, args: string[], cwd?: string, timeoutMs = 15_000): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', windowsHide: true }, (err, stdout, stderr) => {
      resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

let gpuOnce: Promise<string | null> | undefined;

/** NVIDIA GPUs as "name (memory, driver)" lines, or null without nvidia-smi. Asked once per process. */
export function detectGpu(): Promise<string | null> {
  gpuOnce ??= run('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], undefined, 10_000).then((r) => {
    if (!r.ok) return null;
    const lines = r.stdout.trim().split('\n').filter(Boolean);
    return lines.length ? lines.map((l) => l.split(',').map((s) => s.trim())).map(([n, m, d]) => `${n} (${m}, driver ${d})`).join('; ') : null;
  });
  return gpuOnce;
}

function osDescription(): string {
  let distro = '';
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux, or no os-release
  }
  return `${distro ? `${distro}; ` : ''}${os.type()} ${os.release()} ${os.arch()}`;
}

export async function captureSystem(): Promise<Partial<EnvironmentDto>> {
  const cpus = os.cpus();
  return {
    os: osDescription(),
    cpu: cpus.length ? `${cpus[0].model.trim()} × ${cpus.length}` : os.arch(),
    memoryBytes: os.totalmem(),
    gpu: await detectGpu(),
    labbookVersion: LABBOOK_VERSION,
  };
}

/** Commit, branch, dirty flag and uncommitted diff (a blob) of the workspace's git repository. */
export async function captureGit(store: Store, workspace: string): Promise<Partial<EnvironmentDto>> {
  const head = await run('git', ['rev-parse', 'HEAD'], workspace);
  if (!head.ok) return { gitCommit: null, gitBranch: null, gitDirty: null, gitDiffBlob: null };
  const [branch, status, diff, untracked] = await Promise.all([
    run('git', ['rev-parse', '--abbrev-ref', 'HEAD'], workspace),
    run('git', ['status', '--porcelain', '--untracked-files=normal'], workspace),
    run('git', ['diff', 'HEAD', '--no-color', '--no-ext-diff'], workspace),
    run('git', ['ls-files', '--others', '--exclude-standard'], workspace),
  ]);
  const dirty = status.stdout.trim().length > 0;
  const untrackedFiles = untracked.stdout.split('\n').filter(Boolean);
  return {
    gitCommit: head.stdout.trim(),
    gitBranch: branch.ok ? branch.stdout.trim() : null,
    gitDirty: dirty,
    gitDiffBlob: diff.stdout ? store.putBlob(diff.stdout) : null,
    extra: untrackedFiles.length ? { untrackedFiles: untrackedFiles.slice(0, 500), untrackedCount: untrackedFiles.length } : {},
  };
}

interface ProbeResult {
  executable: string;
  version: string;
  implementation?: string;
  platform?: string;
  packages: Record<string, string>;
  site_dirs: string[];
}

interface ProbeCache {
  interpreter: string;
  interpreterMtimeMs: number;
  siteMtimes: Record<string, number>;
  result: ProbeResult;
}

function mtime(p: string): number {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * The interpreter's version and packages, from `labbook_probe.py` run by that interpreter.
 * Cached in `.labbook/cache/` until the interpreter or one of its site folders changes
 * (installing or removing a package changes its site folder).
 */
export async function probePython(store: Store, python: string, pythonDir: string): Promise<ProbeResult | { error: string }> {
  const resolved = resolveExecutable(python);
  const cacheFile = path.join(store.paths.dir, 'cache', `python-${crypto.createHash('sha1').update(resolved ?? python).digest('hex').slice(0, 16)}.json`);
  try {
    const c = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as ProbeCache;
    const fresh = resolved && c.interpreter === resolved && c.interpreterMtimeMs === mtime(resolved) && Object.entries(c.siteMtimes).every(([d, m]) => mtime(d) === m);
    if (fresh) return c.result;
  } catch {
    // no cache yet
  }
  const r = await run(python, [path.join(pythonDir, 'labbook_probe.py')]);
  if (!r.ok) return { error: (r.stderr.trim().split('\n').pop() ?? '') || `could not run ${python}` };
  let result: ProbeResult;
  try {
    result = JSON.parse(r.stdout) as ProbeResult;
  } catch {
    return { error: `unexpected output from ${python} labbook_probe.py` };
  }
  if (resolved) {
    const cache: ProbeCache = {
      interpreter: resolved,
      interpreterMtimeMs: mtime(resolved),
      siteMtimes: Object.fromEntries(result.site_dirs.map((d) => [d, mtime(d)])),
      result,
    };
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    fs.writeFileSync(cacheFile, JSON.stringify(cache));
  }
  return result;
}

export async function capturePython(store: Store, python: string, pythonDir: string): Promise<Partial<EnvironmentDto>> {
  const p = await probePython(store, python, pythonDir);
  if ('error' in p) return { python, extra: { pythonProbeError: p.error } };
  return {
    python: p.executable,
    pythonVersion: p.version,
    packagesBlob: store.putBlob(JSON.stringify(sortKeys(p.packages))),
    extra: { pythonImplementation: p.implementation, pythonPlatform: p.platform },
  };
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** The real path of a command (as PATH would find it), or null. */
export function resolveExecutable(cmd: string): string | null {
  const candidates = cmd.includes(path.sep) ? [path.resolve(cmd)] : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, cmd));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return fs.realpathSync(c);
    } catch {
      // next
    }
  }
  return null;
}
