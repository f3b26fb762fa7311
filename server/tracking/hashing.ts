/**
 * SHA-256 of data files, streamed in large chunks (a 10 GB file never sits in memory), with a
 * cache keyed by path + size + mtime + inode so an unchanged file is not read again.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Store } from '../store/db';

const CHUNK = 4 * 1024 * 1024;

export interface FileHash {
  size: number;
  mtimeMs: number;
  sha256: string;
  /** True when the cache answered and the file was not read. */
  cached: boolean;
}

/** Reads a file once, feeding every chunk to `sink` too (for copies); returns its SHA-256 and size. */
async function streamFile(file: string, sink?: (chunk: Buffer) => void): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  const fh = await fs.promises.open(file, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  let size = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      sink?.(chunk);
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), size };
}

export async function sha256File(file: string): Promise<string> {
  return (await streamFile(file)).sha256;
}

/**
 * Hashes a file, using the store's cache when its identity is unchanged. A file that changes
 * while it is read is hashed again (once); its second reading is what is recorded.
 */
export async function hashFile(store: Store, file: string): Promise<FileHash> {
  for (let attempt = 0; ; attempt++) {
    const before = await fs.promises.stat(file, { bigint: true });
    const size = Number(before.size);
    const cached = store.cachedHash(file, size, before.mtimeNs, before.ino);
    if (cached) return { size, mtimeMs: Number(before.mtimeMs), sha256: cached, cached: true };
    const { sha256 } = await streamFile(file);
    const after = await fs.promises.stat(file, { bigint: true });
    if (after.mtimeNs === before.mtimeNs && after.size === before.size) {
      store.putCachedHash(file, size, before.mtimeNs, before.ino, sha256);
      return { size, mtimeMs: Number(before.mtimeMs), sha256, cached: false };
    }
    if (attempt >= 1) return { size: Number(after.size), mtimeMs: Number(after.mtimeMs), sha256, cached: false };
  }
}

/**
 * Copies a file into the content-addressed blob folder while hashing it (one read), unless the
 * same content is there already. Returns its hash and size.
 */
export async function storeFileBlob(store: Store, file: string): Promise<{ sha256: string; size: number }> {
  const tmp = path.join(store.paths.blobs, `.incoming-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  await fs.promises.mkdir(store.paths.blobs, { recursive: true });
  const out = fs.openSync(tmp, 'w');
  try {
    const r = await streamFile(file, (chunk) => fs.writeSync(out, chunk));
    fs.closeSync(out);
    const target = store.blobPath(r.sha256);
    if (fs.existsSync(target)) fs.rmSync(tmp);
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.renameSync(tmp, target);
    }
    store.registerBlob(r.sha256, r.size);
    return r;
  } catch (e) {
    try {
      fs.closeSync(out);
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
