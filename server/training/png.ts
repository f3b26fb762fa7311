/**
 * A PNG decoder for training images (PNG spec, W3C 2003): chunks with CRCs checked, IDAT inflated
 * with node's zlib, the five scanline filters undone, every colour type (gray, RGB, palette,
 * gray+alpha, RGBA) at every bit depth the spec allows (1/2/4/8/16). Interlaced (Adam7) images are
 * refused. Alpha, and tRNS transparency, is composited on black: a transparent pixel reads as 0.
 * Everything else a decoder may meet (gamma, colour profiles, text) is ignored.
 */
import * as zlib from 'zlib';

/** Larger images are refused before anything is inflated. */
const MAX_PIXELS = 64e6;

export interface Image {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB). */
  channels: 1 | 3;
  /** height × width × channels values in [0, 1], row-major. */
  data: Float32Array;
}

export class PngError extends Error {}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Samples per pixel of each colour type; and the bit depths the spec allows for it. */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

export function isPng(buf: Buffer): boolean {
  return buf.length >= 8 && buf.subarray(0, 8).equals(SIGNATURE);
}

export function decodePng(buf: Buffer): Image {
  if (!isPng(buf)) throw new PngError('not a PNG file (its first bytes are not the PNG signature)');
  let at = 8;
  let header: { width: number; height: number; depth: number; type: number } | null = null;
  let palette: Buffer | null = null;
  let transparency: Buffer | null = null;
  const idat: Buffer[] = [];
  let ended = false;
  while (at < buf.length && !ended) {
    if (at + 12 > buf.length) throw new PngError(`cut short inside a chunk header at byte ${at}`);
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > buf.length) throw new PngError(`cut short: chunk ${type} announces ${length} bytes, ${buf.length - at - 12} are there`);
    const data = buf.subarray(at + 8, at + 8 + length);
    if (zlib.crc32(buf.subarray(at + 4, at + 8 + length)) !== buf.readUInt32BE(at + 8 + length)) throw new PngError(`chunk ${type} at byte ${at} fails its CRC check (the file is damaged)`);
    at += 12 + length;
    if (!header && type !== 'IHDR') throw new PngError('the first chunk is not IHDR');
    switch (type) {
      case 'IHDR': {
        if (length !== 13) throw new PngError('IHDR has the wrong length');
        header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8], type: data[9] };
        if (header.width === 0 || header.height === 0) throw new PngError('the image has no pixels (width or height 0)');
        if (!(header.type in SAMPLES)) throw new PngError(`colour type ${header.type} does not exist in PNG`);
        if (!DEPTHS[header.type].includes(header.depth)) throw new PngError(`bit depth ${header.depth} is not allowed for colour type ${header.type}`);
        if (data[10] !== 0 || data[11] !== 0) throw new PngError('unknown compression or filter method');
        if (data[12] === 1) throw new PngError('interlaced (Adam7) PNGs are not supported: save the image without interlacing');
        if (data[12] !== 0) throw new PngError(`unknown interlace method ${data[12]}`);
        break;
      }
      case 'PLTE':
        palette = data;
        break;
      case 'tRNS':
        transparency = data;
        break;
      case 'IDAT':
        idat.push(data);
        break;
      case 'IEND':
        ended = true;
        break;
      default:
        // Ancillary chunks (lower-case first letter) may be skipped; a critical one we do not know may not.
        if ((type.charCodeAt(0) & 0x20) === 0) throw new PngError(`unknown critical chunk ${type}`);
    }
  }
  if (!header) throw new PngError('no IHDR chunk');
  if (!ended) throw new PngError('cut short: no IEND chunk');
  if (idat.length === 0) throw new PngError('no image data (IDAT)');
  if (header.type === 3 && !palette) throw new PngError('a palette image without a PLTE chunk');
  const { width, height, depth, type } = header;
  const samples = SAMPLES[type];
  const stride = Math.ceil((width * samples * depth) / 8);
  if (width * height > MAX_PIXELS) throw new PngError(`${width}×${height} pixels is more than a training image can be (${MAX_PIXELS / 1e6} megapixels)`);
  let raw: Buffer;
  try {
    // Never inflate past what the header announces: a few KB can otherwise expand to gigabytes.
    raw = zlib.inflateSync(Buffer.concat(idat), { maxOutputLength: height * (stride + 1) + 1 });
  } catch (e) {
    const big = e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new PngError(big ? `image data inflates past the ${width}×${height} pixels its header announces (the file is damaged or hostile)` : `image data does not decompress (${(e as Error).message})`);
  }
  if (raw.length < height * (stride + 1)) throw new PngError(`image data cut short: ${raw.length} bytes where ${height} rows of ${stride + 1} are needed`);
  const rows = unfilter(raw, height, stride, Math.max(1, (samples * depth) / 8));
  return toImage(rows, width, height, depth, type, stride, palette, transparency);
}

/** Undoes the per-row filters (None, Sub, Up, Average, Paeth) in place; returns the bare rows. */
function unfilter(raw: Buffer, height: number, stride: number, bpp: number): Buffer {
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[row + i - bpp] : 0;
      const b = y > 0 ? out[prev + i] : 0;
      const c = y > 0 && i >= bpp ? out[prev + i - bpp] : 0;
      let p: number;
      switch (filter) {
        case 0:
          p = 0;
          break;
        case 1:
          p = a;
          break;
        case 2:
          p = b;
          break;
        case 3:
          p = (a + b) >> 1;
          break;
        case 4: {
          const q = a + b - c;
          const pa = Math.abs(q - a);
          const pb = Math.abs(q - b);
          const pc = Math.abs(q - c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new PngError(`row ${y} has filter type ${filter}; PNG defines 0 to 4 (the file is damaged)`);
      }
      out[row + i] = (raw[src + i] + p) & 0xff;
    }
  }
  return out;
}

function toImage(rows: Buffer, width: number, height: number, depth: number, type: number, stride: number, palette: Buffer | null, trns: Buffer | null): Image {
  const samples = SAMPLES[type];
  const max = 2 ** depth - 1;
  const sample = (y: number, x: number, s: number): number => {
    const k = x * samples + s;
    const row = y * stride;
    if (depth === 8) return rows[row + k];
    if (depth === 16) return rows.readUInt16BE(row + 2 * k);
    const bit = k * depth;
    return (rows[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
  };
  const gray = type === 0 || type === 4;
  const channels = gray ? 1 : 3;
  const data = new Float32Array(width * height * channels);
  // tRNS: alpha per palette entry, or one fully transparent gray / RGB value.
  const key = trns && type === 0 && trns.length >= 2 ? [trns.readUInt16BE(0)] : trns && type === 2 && trns.length >= 6 ? [trns.readUInt16BE(0), trns.readUInt16BE(2), trns.readUInt16BE(4)] : null;
  const entries = palette ? palette.length / 3 : 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      if (type === 3) {
        const i = sample(y, x, 0);
        if (i >= entries) throw new PngError(`pixel (${x}, ${y}) uses palette entry ${i}; the palette has ${entries}`);
        const alpha = trns && i < trns.length ? trns[i] / 255 : 1;
        for (let c = 0; c < 3; c++) data[o + c] = (palette![3 * i + c] / 255) * alpha;
        continue;
      }
      let alpha = type === 4 || type === 6 ? sample(y, x, samples - 1) / max : 1;
      if (key && key.every((v, c) => sample(y, x, c) === v)) alpha = 0;
      for (let c = 0; c < channels; c++) data[o + c] = (sample(y, x, c) / max) * alpha;
    }
  }
  return { width, height, channels, data };
}

/** True when every pixel's red, green and blue agree (a gray image stored as colour). */
export function looksGray(img: Image): boolean {
  if (img.channels === 1) return true;
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
  return true;
}

/** The image with `channels` channels: gray repeated into RGB, or RGB to gray by luma (ITU-R 601). */
export function withChannels(img: Image, channels: 1 | 3): Float32Array {
  if (img.channels === channels) return img.data;
  const n = img.width * img.height;
  const out = new Float32Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = img.data[i];
  } else {
    const d = img.data;
    // A gray image stored as RGB keeps its exact values.
    for (let i = 0; i < n; i++) out[i] = d[3 * i] === d[3 * i + 1] && d[3 * i] === d[3 * i + 2] ? d[3 * i] : 0.299 * d[3 * i] + 0.587 * d[3 * i + 1] + 0.114 * d[3 * i + 2];
  }
  return out;
}
