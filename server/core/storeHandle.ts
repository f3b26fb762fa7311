/**
 * The server's view of one workspace's store: opened lazily (Labbook never creates
 * `.labbook/` just because a folder was opened), reopened when it appears, and watched for
 * commits by other processes (a `labbook run` in a terminal) so views refresh on their own.
 */
import * as fs from 'fs';
import { LabbookError, describeError } from './errors';
import { Store, storePaths } from '../store/db';
import type { StoreInfo } from '../protocol/dto';

export type StoreChange = 'external-write' | 'store-created';

export class StoreHandle {
  private store: Store | null = null;
  private lastVersion = -1;
  private lastWrites = -1;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly workspace: string | null) {}

  /** The open store, or null when the workspace has none yet. Throws a refusal (not ours, newer). */
  get(): Store | null {
    // After shutdown a late request must not reopen the store the server just closed.
    if (this.closed) throw new LabbookError('NO_STORE', 'The Labbook server is shutting down.');
    if (!this.workspace) return null;
    if (this.store?.isOpen) return this.store;
    this.store = Store.open(this.workspace, { create: false });
    if (this.store) {
      this.lastVersion = this.store.dataVersion();
      this.lastWrites = this.store.writeCount;
    }
    return this.store;
  }

  /** The store, created if the workspace has none yet (for commands that record something). */
  getOrCreate(): Store {
    const existing = this.get();
    if (existing) return existing;
    if (!this.workspace) throw new LabbookError('NO_STORE', 'Open a folder first: Labbook keeps its runs in the workspace.');
    this.store = Store.open(this.workspace, { create: true })!;
    this.lastVersion = this.store.dataVersion();
    this.lastWrites = this.store.writeCount;
    return this.store;
  }

  info(): StoreInfo {
    const paths = this.workspace ? storePaths(this.workspace) : null;
    const empty: StoreInfo = {
      workspace: paths?.workspace ?? '',
      storePath: paths?.db ?? '',
      exists: false,
      schemaVersion: null,
      runCount: 0,
      sizeBytes: 0,
      problem: paths ? null : 'No folder is open.',
    };
    try {
      const store = this.get();
      return store ? store.info() : empty;
    } catch (e) {
      return { ...empty, exists: !!paths && fs.existsSync(paths.db), problem: describeError(e) };
    }
  }

  /**
   * Polls for commits — by other processes (a CLI run) and by this one (runs started from VS
   * Code log metrics here too) — and calls back when something changed.
   */
  watch(intervalMs: number, onChange: (why: StoreChange) => void, onError: (e: unknown) => void): void {
    this.unwatch();
    this.timer = setInterval(() => {
      try {
        const wasOpen = !!this.store?.isOpen;
        const store = this.get();
        if (!store) return;
        const v = store.dataVersion();
        const w = store.writeCount;
        if (!wasOpen) onChange('store-created');
        else if (v !== this.lastVersion || w !== this.lastWrites) onChange('external-write');
        this.lastVersion = v;
        this.lastWrites = w;
      } catch (e) {
        if (!(e instanceof LabbookError)) onError(e);
      }
    }, intervalMs);
    this.timer.unref();
  }

  unwatch(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    this.unwatch();
    this.store?.close();
    this.store = null;
  }
}
