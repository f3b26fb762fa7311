/**
 * Outputs compared by what a reader sees: consecutive stream chunks merged, ANSI colour codes
 * stripped from tracebacks, execution counts and output metadata left out, each MIME type
 * compared on its own — text as a line diff, images as same/changed with their pixel sizes.
 */
import type { ImageInfo, OutputChangeOf, ViewOutput } from '../protocol/diffDto';
import type { NbOutput } from './model';

export type { ImageInfo, ViewOutput };
import { type TextDiff, diffText } from './textDiff';

export interface MimeChange {
  mime: string;
  op: 'added' | 'removed' | 'modified';
  /** Text MIME types (and stream / error text): the line diff. */
  text?: TextDiff;
  /** Image MIME types: what each side holds. */
  image?: { a?: ImageInfo; b?: ImageInfo };
}

export type OutputChange = OutputChangeOf<MimeChange>;

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

export const stripAnsi = (s: string) => (s.includes('\u001b') ? s.replace(ANSI, '') : s);

/** normalizeOutputs' answers per parsed cell: the engine and the view model both ask for them. */
const normalized = new WeakMap<NbOutput[], ViewOutput[]>();

/**
 * Merges consecutive stream outputs of the same stream and maps every output to kind + MIME data.
 * Computed once per outputs array (a parsed notebook does not change); callers must not mutate it.
 */
export function normalizeOutputs(outputs: NbOutput[]): ViewOutput[] {
  const known = normalized.get(outputs);
  if (known) return known;
  const out: ViewOutput[] = [];
  for (const o of outputs) {
    if (o.type === 'stream') {
      const kind = `stream:${o.name ?? 'stdout'}`;
      const last = out[out.length - 1];
      if (last && last.kind === kind) last.data['text/plain'] += o.text ?? '';
      else out.push({ kind, data: { 'text/plain': o.text ?? '' } });
    } else if (o.type === 'error') {
      const tb = (o.traceback ?? []).map(stripAnsi).join('\n');
      out.push({ kind: 'error', data: { 'text/plain': tb || `${o.ename}: ${o.evalue}` } });
    } else {
      out.push({ kind: o.type === 'update_display_data' ? 'display_data' : o.type, data: { ...(o.data ?? {}) } });
    }
  }
  normalized.set(outputs, out);
  return out;
}

const isImage = (mime: string) => mime.startsWith('image/') && mime !== 'image/svg+xml';

/** The order a reader's eye takes: images, then plain text, then rich text forms. */
function mimeRank(mime: string): number {
  if (isImage(mime)) return 0;
  if (mime === 'image/svg+xml') return 1;
  if (mime === 'text/plain') return 2;
  if (mime === 'text/markdown' || mime === 'text/latex') return 3;
  if (mime === 'text/html') return 4;
  return 5;
}

/** The key outputs are aligned on: same kind and same set of MIME types. */
const outputKey = (o: ViewOutput) => (o.kind.startsWith('stream') || o.kind === 'error' ? o.kind : `${o.kind}|${Object.keys(o.data).sort().join(',')}`);

/**
 * The changes between two cells' outputs. Outputs are aligned by key (kind + MIME types) in
 * order; aligned outputs whose content differs are `modified`.
 */
export function diffOutputs(a: ViewOutput[], b: ViewOutput[]): OutputChange[] {
  const changes: OutputChange[] = [];
  const ak = a.map(outputKey);
  const bk = b.map(outputKey);
  // Outputs per cell are few: a quadratic LCS is fine and keeps this free of edge cases.
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = ak[i] === bk[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && ak[i] === bk[j]) {
      const mimes = diffMimes(a[i].data, b[j].data);
      if (mimes.length > 0) changes.push({ op: 'modified', a: i, b: j, kind: a[i].kind, mimes });
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      changes.push({ op: 'added', a: null, b: j, kind: b[j].kind });
      j++;
    } else {
      changes.push({ op: 'removed', a: i, b: null, kind: a[i].kind });
      i++;
    }
  }
  return changes;
}

function diffMimes(a: Record<string, string>, b: Record<string, string>): MimeChange[] {
  const mimes = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort((x, y) => mimeRank(x) - mimeRank(y) || x.localeCompare(y));
  const out: MimeChange[] = [];
  for (const mime of mimes) {
    const x = a[mime];
    const y = b[mime];
    if (x === y) continue;
    const op = x === undefined ? 'added' : y === undefined ? 'removed' : 'modified';
    if (isImage(mime)) out.push({ mime, op, image: { a: x === undefined ? undefined : imageInfo(mime, x), b: y === undefined ? undefined : imageInfo(mime, y) } });
    else out.push({ mime, op, text: diffText(x ?? '', y ?? '') });
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/** Size in bytes and pixels of a base64 image, read from its header only (PNG, GIF, JPEG). */
export function imageInfo(mime: string, base64: string): ImageInfo {
  if (!BASE64.test(base64)) {
    return { mime, bytes: Math.floor((base64.length * 3) / 4), problem: 'the image data is not valid base64' };
  }
  const bytes = Math.floor((base64.replace(/\s/g, '').replace(/=+$/, '').length * 3) / 4);
  const info: ImageInfo = { mime, bytes };
  // 33 bytes hold a PNG's IHDR and a GIF's logical screen; JPEG needs a scan for its frame header.
  const head = Buffer.from(base64.slice(0, mime === 'image/jpeg' ? base64.length : 64), 'base64');
  if (mime === 'image/png') {
    if (head.length >= 24 && head.readUInt32BE(0) === 0x89504e47 && head.toString('latin1', 12, 16) === 'IHDR') {
      info.width = head.readUInt32BE(16);
      info.height = head.readUInt32BE(20);
    } else info.problem = 'the data is not a PNG image';
  } else if (mime === 'image/gif') {
    if (head.length >= 10 && head.toString('latin1', 0, 3) === 'GIF') {
      info.width = head.readUInt16LE(6);
      info.height = head.readUInt16LE(8);
    } else info.problem = 'the data is not a GIF image';
  } else if (mime === 'image/jpeg') {
    const size = jpegSize(head);
    if (size) Object.assign(info, size);
    else info.problem = 'the data is not a JPEG image';
  }
  return info;
}

function jpegSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let p = 2;
  while (p + 9 < buf.length) {
    if (buf[p] !== 0xff) return null;
    const marker = buf[p + 1];
    const len = buf.readUInt16BE(p + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(p + 5), width: buf.readUInt16BE(p + 7) };
    }
    p += 2 + len;
  }
  return null;
}
