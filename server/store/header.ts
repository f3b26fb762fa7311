/**
 * Looks at a store file before SQLite touches it, so that a file that is not ours is refused
 * without a single byte written (opening a foreign file read-write could switch its journal
 * mode or create -wal/-shm files beside it).
 */
import * as fs from 'fs';
import { LabbookError, errnoCode } from '../core/errors';

/** 'LBBK': written to PRAGMA application_id when a store is created. */
export const LABBOOK_APPLICATION_ID = 0x4c42424b;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export type HeaderVerdict =
  | { kind: 'missing' }
  | { kind: 'empty' }
  | { kind: 'labbook'; userVersion: number }
  /** A SQLite file whose header carries no application id: ours only if it has no tables. */
  | { kind: 'sqlite-unmarked' };

export function inspectStoreFile(file: string): HeaderVerdict {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { kind: 'missing' };
    throw new LabbookError('NOT_WRITABLE', `Cannot read the Labbook store at ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw notAStore(file, 'it is a directory');
    if (st.size === 0) return { kind: 'empty' };
    const header = Buffer.alloc(100);
    const n = fs.readSync(fd, header, 0, 100, 0);
    if (n < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) {
      throw notAStore(file, 'it is not a SQLite database');
    }
    const appId = header.readUInt32BE(68);
    if (appId === LABBOOK_APPLICATION_ID) return { kind: 'labbook', userVersion: header.readUInt32BE(60) };
    if (appId !== 0) throw notAStore(file, `it is a SQLite database of another application (id 0x${appId.toString(16)})`);
    return { kind: 'sqlite-unmarked' };
  } finally {
    fs.closeSync(fd);
  }
}

export function notAStore(file: string, why: string): LabbookError {
  return new LabbookError(
    'NOT_A_STORE',
    `${file} is not a Labbook store (${why}). Labbook left it untouched; move it away to start a new store.`,
  );
}
