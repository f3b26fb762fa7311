/**
 * Starts, watches and restarts the background server through vscode-languageclient, and is the
 * one door for requests to it. When the server cannot run, every caller gets the same clear
 * reason ("see the log") instead of a stack.
 */
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  type Executable,
  LanguageClient,
  type LanguageClientOptions,
  type NotificationType,
  type RequestType,
  type RequestType0,
  ResponseError,
  RevealOutputChannelOn,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import type { LabbookInitializationOptions } from '../../server/protocol/requests';
import { serverRuntimeSetting } from '../util/config';
import { DisposableStore } from '../util/dispose';
import type { Log } from '../util/log';
import { type AddonAbi, type ResolvedRuntime, RuntimeError, resolveRuntime } from './runtime';

export type ServerState = 'stopped' | 'starting' | 'running' | 'failed';

export class ServerNotRunningError extends Error {
  constructor(detail?: string) {
    super(`The Labbook server is not running${detail ? ` (${detail})` : ''} — see the log (Labbook: Show Log), then Labbook: Restart Server.`);
  }
}

const RESTART_WINDOW_MS = 3 * 60_000;
const MAX_RESTARTS = 4;

export class ServerClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private _state: ServerState = 'stopped';
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  /** Handlers that must be attached to each new client (they go with it on restart). */
  private readonly notificationHandlers: Array<(c: LanguageClient) => vscode.Disposable> = [];
  private perClient = new DisposableStore();
  private crashes: number[] = [];
  private starting: Promise<void> | undefined;
  lastError: string | undefined;
  runtime: ResolvedRuntime | undefined;

  constructor(
    private readonly extensionPath: string,
    readonly workspace: string | null,
    private readonly log: Log,
  ) {}

  get state(): ServerState {
    return this._state;
  }

  private getState(): ServerState {
    return this._state;
  }

  /** The server's process id while it runs (for diagnostics and tests). */
  get pid(): number | undefined {
    return serverProcess(this.client)?.pid;
  }

  /** Starts the server unless a client exists already (running, or restarting itself after a crash). */
  start(): Promise<void> {
    if (this.client) return this.ready().then(() => undefined);
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Waits while the server is starting or restarting; true when it runs. Never starts one. */
  async ready(): Promise<boolean> {
    if (this._state !== 'starting') return this._state === 'running';
    await new Promise<void>((resolve) => {
      const sub = this.onDidChangeState((s) => {
        if (s === 'starting') return;
        sub.dispose();
        resolve();
      });
    });
    return this.getState() === 'running';
  }

  async restart(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.stop();
    this.crashes = [];
    await this.start();
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.perClient.dispose();
    this.perClient = new DisposableStore();
    if (c) {
      const proc = serverProcess(c);
      try {
        await c.stop(5000);
      } catch (e) {
        this.log.error('stopping the server', e);
      }
      await c.dispose().catch(() => undefined);
      // stop() returns once the exit notification is sent; wait for the process itself so the
      // store is closed when we return (and never leave it behind).
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 3000);
          proc.once('exit', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        if (!(await exited)) {
          this.log.warn(`the server (pid ${proc.pid}) did not exit in 3 s; killing it`);
          proc.kill('SIGKILL');
        }
      }
    }
    this.setState('stopped');
  }

  onNotification<P>(type: NotificationType<P>, handler: (p: P) => void): void {
    const attach = (c: LanguageClient) => c.onNotification(type, handler);
    this.notificationHandlers.push(attach);
    if (this.client && this._state === 'running') this.perClient.add(attach(this.client));
  }

  /** Sends a notification if the server runs (dropped otherwise: the next start sends fresh state). */
  async notify<P>(type: NotificationType<P>, params: P): Promise<void> {
    if (this.client && this._state === 'running') await this.client.sendNotification(type, params as never);
  }

  async request<R, E>(type: RequestType0<R, E>): Promise<R>;
  async request<P, R, E>(type: RequestType<P, R, E>, params: P): Promise<R>;
  async request<P, R, E>(type: RequestType<P, R, E> | RequestType0<R, E>, params?: P): Promise<R> {
    await this.ready();
    const c = this.client;
    if (!c || this._state !== 'running') throw new ServerNotRunningError(this.lastError ? 'it failed to start' : undefined);
    try {
      return params === undefined ? await c.sendRequest(type as RequestType0<R, E>) : await c.sendRequest(type as RequestType<P, R, E>, params as never);
    } catch (e) {
      // Labbook errors arrive as ResponseErrors whose message is already meant for users.
      if (e instanceof ResponseError) throw new Error(e.message);
      throw e;
    }
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }

  private setState(s: ServerState): void {
    if (this._state === s) return;
    this._state = s;
    this.stateEmitter.fire(s);
  }

  private async doStart(): Promise<void> {
    this.setState('starting');
    this.lastError = undefined;
    const dist = path.join(this.extensionPath, 'dist');
    const addon = path.join(dist, 'native', 'better_sqlite3.node');
    try {
      const runtime = await resolveRuntime({
        setting: serverRuntimeSetting(),
        addon,
        addonAbi: readAbi(path.join(dist, 'native', 'abi.json')),
        vscodeRuntime: process.execPath,
      });
      this.runtime = runtime;
      for (const n of runtime.notes) this.log.info(`server runtime: ${n}`);

      const run: Executable = {
        command: runtime.command,
        args: [path.join(dist, 'server.js')], // languageclient appends --stdio
        transport: TransportKind.stdio,
        options: { env: { ...process.env, ...runtime.env } },
      };
      const serverOptions: ServerOptions = { run, debug: run };
      const initializationOptions: LabbookInitializationOptions = { workspace: this.workspace, trusted: vscode.workspace.isTrusted };
      const clientOptions: LanguageClientOptions = {
        documentSelector: [],
        outputChannel: this.log.channel,
        traceOutputChannel: this.log.channel,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        initializationOptions,
        initializationFailedHandler: (error) => {
          this.log.error('the server failed to initialize', error);
          return false;
        },
        errorHandler: {
          error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
          closed: () => this.onServerClosed(),
        },
      };
      const client = new LanguageClient('labbook', 'Labbook', serverOptions, clientOptions);
      this.client = client;
      this.perClient.add(client.onDidChangeState((e) => {
        // State 1 = Stopped, 2 = Running (vscode-languageclient's State enum).
        if (e.newState === 2) this.setState('running');
        else if (e.newState === 1 && this._state === 'running' && this.client === client) this.setState('starting');
      }));
      await client.start();
      for (const attach of this.notificationHandlers) this.perClient.add(attach(client));
      this.setState('running');
      this.log.info(`server started (pid ${this.pid ?? '?'})`);
    } catch (e) {
      const message = e instanceof RuntimeError || e instanceof Error ? e.message : String(e);
      if (e instanceof RuntimeError) for (const n of e.notes) this.log.warn(`server runtime: ${n}`);
      this.log.error('the Labbook server failed to start', e instanceof RuntimeError ? undefined : e);
      this.lastError = message;
      const c = this.client;
      this.client = undefined;
      await c?.dispose().catch(() => undefined);
      this.setState('failed');
      void this.explainFailure(message);
    }
  }

  private onServerClosed() {
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < RESTART_WINDOW_MS).concat(now);
    if (this.crashes.length <= MAX_RESTARTS) {
      this.log.warn(`the server stopped unexpectedly; restarting (${this.crashes.length} of ${MAX_RESTARTS} in 3 minutes)`);
      this.setState('starting');
      return { action: CloseAction.Restart, handled: true };
    }
    this.lastError = `it stopped ${this.crashes.length} times in 3 minutes`;
    this.setState('failed');
    void this.explainFailure(`The Labbook server stopped ${this.crashes.length} times in 3 minutes and was not restarted again.`);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private async explainFailure(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Show Log');
    if (choice === 'Show Log') this.log.show();
    if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'labbook.server.runtime');
  }
}

/** vscode-languageclient keeps the spawned process private; reading it is the only way to its pid and exit. */
function serverProcess(c: LanguageClient | undefined): ChildProcess | undefined {
  return (c as unknown as { _serverProcess?: ChildProcess } | undefined)?._serverProcess;
}

function readAbi(file: string): AddonAbi | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as AddonAbi;
  } catch {
    return undefined;
  }
}
