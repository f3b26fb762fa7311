import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { describe, it } from 'node:test';
import { PngError, decodePng, looksGray, withChannels } from '../../server/training/png';
import { tempWorkspace } from './helpers';
import { chunk, encodePng } from './pngWriter';

const close = (a: ArrayLike<number>, b: number[], what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

/** Seeded pseudo-random samples (an LCG), so every filter has something to predict, ties included. */
function noise(n: number, max: number, seed = 7): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 16) % (max + 1);
  });
}

function refusesPng(buf: Buffer, message: RegExp): void {
  assert.throws(() => decodePng(buf), (e: unknown) => e instanceof PngError && message.test(e.message));
}

describe('PNG decoder', () => {
  it('decodes gray at every bit depth, with every filter type', () => {
    for (const depth of [1, 2, 4, 8, 16] as const) {
      const max = 2 ** depth - 1;
      const samples = noise(37 * 29, max);
      for (const filter of [0, 1, 2, 3, 4, 'cycle'] as const) {
        const img = decodePng(encodePng({ width: 37, height: 29, type: 0, depth, samples, filter }));
        assert.deepEqual([img.width, img.height, img.channels], [37, 29, 1]);
        close(img.data, samples.map((v) => v / max), `gray ${depth}-bit filter ${filter}`);
      }
    }
  });

  it('decodes RGB and RGBA (alpha composited on black) at 8 and 16 bits', () => {
    for (const depth of [8, 16] as const) {
      const max = 2 ** depth - 1;
      const rgb = noise(5 * 4 * 3, max, 3);
      close(decodePng(encodePng({ width: 5, height: 4, type: 2, depth, samples: rgb })).data, rgb.map((v) => v / max), `rgb ${depth}`);
      const rgba = noise(5 * 4 * 4, max, 5);
      const img = decodePng(encodePng({ width: 5, height: 4, type: 6, depth, samples: rgba }));
      assert.equal(img.channels, 3);
      const want: number[] = [];
      for (let p = 0; p < 20; p++) for (let c = 0; c < 3; c++) want.push((rgba[4 * p + c] / max) * (rgba[4 * p + 3] / max));
      close(img.data, want, `rgba ${depth}`);
      const ga = noise(5 * 4 * 2, max, 9);
      const g = decodePng(encodePng({ width: 5, height: 4, type: 4, depth, samples: ga }));
      assert.equal(g.channels, 1);
      close(g.data, Array.from({ length: 20 }, (_, p) => (ga[2 * p] / max) * (ga[2 * p + 1] / max)), `gray+alpha ${depth}`);
    }
  });

  it('decodes palette images at 1/2/4/8 bits, with tRNS alpha per entry', () => {
    const palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];
    for (const depth of [2, 4, 8] as const) {
      const samples = noise(9 * 3, 3, depth);
      const img = decodePng(encodePng({ width: 9, height: 3, type: 3, depth, samples, palette, trns: Buffer.from([255, 128]) }));
      const alpha = [1, 128 / 255, 1, 1];
      close(img.data, samples.flatMap((i) => [0, 1, 2].map((c) => (palette[3 * i + c] / 255) * alpha[i])), `palette ${depth}`);
    }
    const one = decodePng(encodePng({ width: 10, height: 2, type: 3, depth: 1, samples: noise(20, 1), palette: [0, 0, 0, 200, 200, 200] }));
    close(one.data, noise(20, 1).flatMap((i) => [i, i, i].map((v) => (v * 200) / 255)), 'palette 1-bit');
    assert.equal(looksGray(one), true, 'a palette of grays is gray');
  });

  it('treats the tRNS key colour of a gray or RGB image as transparent', () => {
    const img = decodePng(encodePng({ width: 3, height: 1, type: 2, samples: [1, 2, 3, 4, 5, 6, 1, 2, 3], trns: Buffer.from([0, 1, 0, 2, 0, 3]) }));
    close(img.data, [0, 0, 0, 4 / 255, 5 / 255, 6 / 255, 0, 0, 0], 'rgb key');
  });

  it('converts channels: gray to RGB by repetition, RGB to gray by luma (exact for gray stored as RGB)', () => {
    const rgb = decodePng(encodePng({ width: 2, height: 1, type: 2, samples: [51, 51, 51, 255, 0, 0] }));
    assert.equal(looksGray(rgb), false);
    close(withChannels(rgb, 1), [0.2, 0.299], 'to gray');
    const gray = decodePng(encodePng({ width: 2, height: 1, type: 0, samples: [0, 255] }));
    close(withChannels(gray, 3), [0, 0, 0, 1, 1, 1], 'to rgb');
  });

  it('refuses what it cannot read, saying why', () => {
    const good = encodePng({ width: 4, height: 4, type: 0, samples: noise(16, 255) });
    refusesPng(Buffer.from('GIF89a........'), /not a PNG file/);
    refusesPng(encodePng({ width: 4, height: 4, type: 0, samples: noise(16, 255), interlace: true }), /interlaced \(Adam7\) PNGs are not supported/);
    refusesPng(good.subarray(0, good.length - 20), /cut short/);
    const flipped = Buffer.from(good);
    flipped[40] ^= 0xff;
    refusesPng(flipped, /fails its CRC check/);
    refusesPng(encodePng({ width: 4, height: 4, type: 2, depth: 4, samples: noise(48, 15) }), /bit depth 4 is not allowed for colour type 2/);
    refusesPng(encodePng({ width: 4, height: 4, type: 0, samples: noise(16, 255), filter: 7 }), /row 0 has filter type 7/);
  });

  it('refuses a decompression bomb without inflating it, and images too large to train on', () => {
    const png = (width: number, height: number, idat: Buffer) => {
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(width, 0);
      ihdr.writeUInt32BE(height, 4);
      ihdr[8] = 8; // 8-bit gray
      return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
    };
    // 8×8 pixels announced, 200 MB of zeros inside (~200 KB deflated).
    const bomb = png(8, 8, zlib.deflateSync(Buffer.alloc(200 * 1024 * 1024)));
    assert.ok(bomb.length < 1024 * 1024);
    const before = process.memoryUsage().rss;
    refusesPng(bomb, /inflates past the 8×8 pixels its header announces/);
    assert.ok(process.memoryUsage().rss - before < 100 * 1024 * 1024, 'the bomb was not inflated');
    refusesPng(png(100000, 100000, zlib.deflateSync(Buffer.alloc(10))), /100000×100000 pixels is more than a training image can be/);
  });

  const pil = spawnSync('/usr/bin/python3', ['-c', 'import PIL, numpy'], { stdio: 'ignore' }).status === 0;
  it('agrees with Pillow-written PNGs of every mode', { skip: !pil && 'no /usr/bin/python3 with PIL and numpy' }, () => {
    const dir = tempWorkspace();
    // Pillow chooses its own filters (adaptive) and compression: an encoder that is not ours.
    const script = `
import json, sys, numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(1)
out = {}
rgb = rng.integers(0, 256, (6, 11, 3), dtype=np.uint8)
rgba = rng.integers(0, 256, (6, 11, 4), dtype=np.uint8)
gray = rng.integers(0, 256, (6, 11), dtype=np.uint8)
def save(name, img, expected, **kw):
    img.save(f"{d}/{name}.png", **kw)
    out[name] = [float(v) for v in np.asarray(expected, dtype=np.float64).ravel()]
save("L", Image.fromarray(gray, "L"), gray / 255)
save("RGB", Image.fromarray(rgb, "RGB"), rgb / 255, optimize=True)
save("RGBA", Image.fromarray(rgba, "RGBA"), rgba[..., :3] / 255 * (rgba[..., 3:] / 255))
save("LA", Image.fromarray(np.dstack([gray, gray[::-1]]), "LA"), gray / 255 * (gray[::-1] / 255))
g16 = (gray.astype(np.uint16) * 257 + 3)
save("I16", Image.fromarray(g16.astype(np.uint16)), g16 / 65535)
bits = gray > 127
save("1", Image.fromarray(bits), bits.astype(float))
p = Image.fromarray(rgb, "RGB").quantize(colors=7)
save("P", p, np.asarray(p.convert("RGB")) / 255)
json.dump(out, open(f"{d}/expected.json", "w"))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, number[]>;
    assert.deepEqual(Object.keys(expected).sort(), ['1', 'I16', 'L', 'LA', 'P', 'RGB', 'RGBA']);
    for (const [name, want] of Object.entries(expected)) {
      const img = decodePng(fs.readFileSync(path.join(dir, `${name}.png`)));
      assert.deepEqual([img.width, img.height], [11, 6], name);
      close(img.data, want, `Pillow ${name}`);
    }
  });
});
