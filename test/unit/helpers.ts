import { type ChildProcess, spawn, spawnSync } from 'child_process';
import { type MessageConnection, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The repository root (tests run from out/test/unit/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const SERVER = path.join(ROOT, 'dist', 'server.js');
export const FIXTURES = path.join(ROOT, 'out', 'test', 'fixtures');

/** Real data sets of this machine (RECIPES.md); tests that need one skip without it. */
export const DIGITS_CSV = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';
export const MNIST_DIR = process.env.LABBOOK_MNIST_DIR ?? path.resolve(ROOT, '..', 'shared', 'data', 'mnist');
export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

export function tempWorkspace(prefix = 'labbook-unit-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export function runCli(args: string[], opts: { cwd?: string; uid?: number } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: opts.cwd, uid: opts.uid, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function seedWorkspace(ws: string, args: string[] = []): string[] {
  const r = spawnSync(process.execPath, [path.join(FIXTURES, 'seed.js'), ws, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`seed failed: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

/** Starts the writer fixture; resolves with its handle and a way to await output lines. */
export function startWriter(args: string[]) {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'writer.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d) => {
    stdout += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    /** Resolves once `test(stdout)` holds (checked on every chunk of output). */
    until(test: (out: string) => boolean): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (test(stdout)) resolve();
          else if (child.exitCode !== null) reject(new Error(`writer exited (${child.exitCode}) before: ${stderr}`));
          else waiters.push(check);
        };
        check();
      });
    },
  };
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The server bundle over JSON-RPC stdio, initialized for `workspace` (extra init options merged). */
export interface Server {
  proc: ChildProcess;
  conn: MessageConnection;
  logs: string[];
  stop(): Promise<void>;
}

export async function startServer(workspace: string | null, extra: Record<string, unknown> = {}): Promise<Server> {
  const proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const logs: string[] = [];
  conn.onNotification('window/logMessage', (p: { message: string }) => {
    logs.push(p.message);
  });
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { workspace, watchIntervalMs: 50, ...extra } });
  conn.sendNotification('initialized', {});
  return {
    proc,
    conn,
    logs,
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      await conn.sendRequest('shutdown');
      conn.sendNotification('exit');
      await exited;
      conn.dispose();
    },
  };
}
