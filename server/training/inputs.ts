/**
 * The data files of a training run as its inputs, each with its SHA-256. An image folder can hold
 * tens of thousands of files: past `MANIFEST_OVER` files the run records one input instead, the
 * folder, whose hash is that of a manifest (`sha256  relative/path` per file, sorted by path, the
 * format of `sha256sum`), and the manifest itself as the artifact `data-manifest.sha256`.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Store } from '../store/db';
import { hashFile } from '../tracking/hashing';

export const MANIFEST_OVER = 200;

/** The deepest folder holding every file. */
function commonFolder(files: string[]): string {
  let root = path.dirname(files[0]);
  while (!files.every((f) => f.startsWith(root.endsWith(path.sep) ? root : root + path.sep))) {
    const up = path.dirname(root);
    if (up === root) break;
    root = up;
  }
  return root;
}

/** Records the files as the run's inputs; returns path → SHA-256 as kept in the model card. */
export async function recordDataInputs(store: Store, run: string, files: string[]): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  if (files.length <= MANIFEST_OVER) {
    for (const file of files) {
      const h = await hashFile(store, file);
      hashes[file] = h.sha256;
      store.addInput(run, { path: file, size: h.size, mtimeMs: h.mtimeMs, sha256: h.sha256, declared: true });
    }
    return hashes;
  }
  const root = commonFolder(files);
  const lines: string[] = [];
  let size = 0;
  let mtimeMs = 0;
  // Such files are small (images): read and hashed directly, which for 70,000 of them takes about
  // a second where the store's per-file hash cache (a lookup and a write each) takes 20.
  for (const file of [...files].sort()) {
    const st = fs.statSync(file);
    const sha = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    lines.push(`${sha}  ${path.relative(root, file).split(path.sep).join('/')}`);
    size += st.size;
    mtimeMs = Math.max(mtimeMs, st.mtimeMs);
  }
  const manifest = `${lines.join('\n')}\n`;
  const sha256 = crypto.createHash('sha256').update(manifest).digest('hex');
  store.addInput(run, { path: root, size, mtimeMs, sha256, declared: true });
  store.addContentArtifact(run, 'data-manifest.sha256', manifest, 'manifest');
  hashes[root] = sha256;
  return hashes;
}
