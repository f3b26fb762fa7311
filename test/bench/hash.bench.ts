/**
 * npm run bench:hash — Labbook's streamed SHA-256 of a 1 GiB file against `sha256sum` on the
 * same file in the same run (alternated, 3 rounds, medians), then the re-hash of the unchanged
 * file (answered from the cache by size + mtime + inode). Last line: one JSON object.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Store } from '../../server/store/db';
import { hashFile } from '../../server/tracking/hashing';

const SIZE = Number(process.env.BENCH_HASH_BYTES ?? 1024 ** 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-bench-hash-'));
  const file = path.join(dir, 'data.bin');
  const block = crypto.randomBytes(16 * 1024 * 1024);
  const fd = fs.openSync(file, 'w');
  for (let written = 0; written < SIZE; written += block.length) fs.writeSync(fd, block, 0, Math.min(block.length, SIZE - written));
  fs.closeSync(fd);
  console.log(`hash bench: ${(SIZE / 1024 ** 3).toFixed(2)} GiB file (in the page cache for both tools)`);
  const ours: number[] = [];
  const theirs: number[] = [];
  let digest = '';
  for (let round = 0; round < 3; round++) {
    const t0 = now();
    const r = spawnSync('sha256sum', [file], { encoding: 'utf8' });
    theirs.push(now() - t0);
    const ref = r.stdout.split(' ')[0];
    const ws = fs.mkdtempSync(path.join(dir, 'ws-'));
    const store = Store.open(ws, { create: true })!;
    const t1 = now();
    const h = await hashFile(store, file);
    ours.push(now() - t1);
    store.close();
    if (h.sha256 !== ref) throw new Error(`hash mismatch: ${h.sha256} vs sha256sum ${ref}`);
    digest = ref;
    console.log(`  round ${round + 1}: sha256sum ${theirs[round].toFixed(0)} ms · labbook ${ours[round].toFixed(0)} ms`);
  }
  const ws = fs.mkdtempSync(path.join(dir, 'ws-'));
  const store = Store.open(ws, { create: true })!;
  await hashFile(store, file);
  const cached: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = now();
    const h = await hashFile(store, file);
    cached.push(now() - t);
    if (!h.cached || h.sha256 !== digest) throw new Error('re-hash did not come from the cache');
  }
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const ratio = median(theirs) / median(ours);
  const mbps = SIZE / 1024 ** 2 / (median(ours) / 1000);
  console.log(`labbook ${median(ours).toFixed(0)} ms (${mbps.toFixed(0)} MiB/s) vs sha256sum ${median(theirs).toFixed(0)} ms: ${ratio.toFixed(2)}× its speed; goal ≥ 0.8×: ${ratio >= 0.8 ? 'met' : 'MISSED'}`);
  console.log(`re-hash of the unchanged file: ${median(cached).toFixed(2)} ms (cache); goal ~0: ${median(cached) < 5 ? 'met' : 'MISSED'}`);
  console.log(JSON.stringify({ bench: 'hash', bytes: SIZE, labbook_ms: Math.round(median(ours)), sha256sum_ms: Math.round(median(theirs)), speed_ratio_to_sha256sum: Number(ratio.toFixed(3)), mib_per_s: Math.round(mbps), rehash_cached_ms: Number(median(cached).toFixed(3)) }));
}

void main();
