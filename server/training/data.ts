/**
 * Training data: IDX image/label files (MNIST, Fashion-MNIST; gzipped or not), CSV files with
 * a label column (sklearn's 8×8 digits) and folders of PNG images, one subfolder per class. Everything becomes one `Dataset` of float features in
 * [0, 1] and integer class indexes; bad files are refused with a message naming file and place.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { LabbookError, describeError } from '../core/errors';
import type { TrainConfig } from './config';
import { type Image, PngError, decodePng, looksGray, withChannels } from './png';

export interface Dataset {
  /** n × features values, row-major, scaled to [0, 1]. */
  x: Float32Array;
  /** n class indexes into `labels`. */
  y: Int32Array;
  n: number;
  /** The shape of one example: [height, width, channels] for images, [features] for tables. */
  shape: number[];
  /** Class names, in index order. */
  labels: string[];
  /** Raw value that maps to 1.0 (255 for IDX bytes; the largest CSV value). */
  scale: number;
  /** Files read (for hashing as run inputs). */
  files: string[];
}

/** The data a training run uses: a train split and a held-out test split never trained on. */
export interface DataSplits {
  train: Dataset;
  test: Dataset;
  /** How the test split was obtained, for the run's params. */
  testSource: 'file' | 'held-out';
  format: 'idx' | 'csv' | 'images';
}

function bad(file: string, what: string): LabbookError {
  return new LabbookError('BAD_DATA', `${file}: ${what}`);
}

export function readMaybeGzip(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new LabbookError('NOT_FOUND', `cannot read ${file}: ${describeError(e)}`, { cause: e });
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return zlib.gunzipSync(raw);
    } catch (e) {
      throw bad(file, `looks gzipped but does not decompress (${describeError(e)})`);
    }
  }
  return raw;
}

/** IDX: magic 0x0000 TT DD (TT 0x08 = unsigned bytes, DD = dimensions), DD big-endian sizes, data. */
function readIdx(file: string, dims: number): { sizes: number[]; data: Uint8Array } {
  const buf = readMaybeGzip(file);
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw bad(file, `not an IDX file (magic ${buf.subarray(0, 4).toString('hex') || 'missing'}, expected 0000080${dims})`);
  }
  if (buf[2] !== 0x08) throw bad(file, `IDX element type 0x${buf[2].toString(16)} is not supported (only unsigned bytes, 0x08)`);
  if (buf[3] !== dims) {
    throw bad(file, `IDX file has ${buf[3]} dimension(s) where ${dims === 1 ? 'labels need 1' : `images need ${dims}`} (magic 0000080${buf[3]}, expected 0000080${dims})`);
  }
  const header = 4 + 4 * dims;
  if (buf.length < header) throw bad(file, 'IDX header is cut short');
  const sizes = Array.from({ length: dims }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const expected = sizes.reduce((a, b) => a * b, 1);
  if (buf.length - header < expected) {
    throw bad(file, `IDX data is cut short: ${buf.length - header} bytes where ${sizes.join('×')} = ${expected} were announced`);
  }
  return { sizes, data: new Uint8Array(buf.buffer, buf.byteOffset + header, expected) };
}

/** One images file and its labels file as a dataset; the two counts must agree. */
export function readIdxPair(imagesFile: string, labelsFile: string): Dataset {
  const img = readIdx(imagesFile, 3);
  const lab = readIdx(labelsFile, 1);
  const [n, h, w] = img.sizes;
  if (lab.sizes[0] !== n) {
    throw new LabbookError('BAD_DATA', `${path.basename(imagesFile)} has ${n} images but ${path.basename(labelsFile)} has ${lab.sizes[0]} labels: they must be the same set`);
  }
  const x = new Float32Array(n * h * w);
  for (let i = 0; i < x.length; i++) x[i] = img.data[i] / 255;
  const y = Int32Array.from(lab.data);
  const classes = Math.max(...lab.data) + 1;
  return { x, y, n, shape: [h, w, 1], labels: Array.from({ length: classes }, (_, i) => String(i)), scale: 255, files: [imagesFile, labelsFile] };
}

function findIdx(dir: string, names: string[], kind: 'images' | 'labels', split: 'train' | 't10k'): string | undefined {
  const re = new RegExp(`^${split}-${kind}[-.]idx${kind === 'images' ? 3 : 1}-ubyte(\\.gz)?$`);
  const name = names.find((n) => re.test(n));
  return name && path.join(dir, name);
}

export interface CsvOptions {
  /**
   * Name or 0-based index of the label column; default a column named `label`/`class`/`target`/`y`,
   * else the last. `null`: no label column (inputs to predict on).
   */
  labelColumn?: string | number | null;
}

/** A CSV file of numeric features and one label column (header optional). */
export function readCsv(file: string, options: CsvOptions = {}): Dataset {
  const text = readMaybeGzip(file).toString('utf8');
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw bad(file, 'the file is empty');
  const first = lines[0].split(',').map((s) => s.trim());
  const hasHeader = first.some((c) => c !== '' && !Number.isFinite(Number(c)));
  const header = hasHeader ? first : null;
  const width = first.length;
  const lc = options.labelColumn;
  if (width < 2 && lc !== null) throw bad(file, 'a CSV needs at least one feature column and a label column');
  let labelCol = lc === null ? -1 : width - 1;
  if (typeof lc === 'number') labelCol = lc;
  else if (typeof lc === 'string') {
    if (!header || !header.includes(lc)) throw bad(file, `no column named '${lc}'${header ? ` (columns: ${header.slice(0, 8).join(', ')}${header.length > 8 ? ', …' : ''})` : ' (the file has no header row)'}`);
    labelCol = header.indexOf(lc);
  } else if (header) {
    const named = header.findIndex((h) => ['label', 'class', 'target', 'y'].includes(h.toLowerCase()));
    if (named >= 0) labelCol = named;
  }
  if (lc !== null && (labelCol < 0 || labelCol >= width)) throw bad(file, `label column ${labelCol} is outside the ${width} columns`);
  const rows = lines.slice(hasHeader ? 1 : 0);
  const n = rows.length;
  if (n === 0) throw bad(file, 'the file has a header but no rows');
  const features = labelCol >= 0 ? width - 1 : width;
  const x = new Float32Array(n * features);
  const rawLabels: string[] = new Array(n);
  let max = 0;
  for (let r = 0; r < n; r++) {
    const lineNo = r + (hasHeader ? 2 : 1);
    const cells = rows[r].split(',');
    if (cells.length !== width) throw bad(file, `line ${lineNo} has ${cells.length} columns, expected ${width}`);
    let f = 0;
    for (let c = 0; c < width; c++) {
      const cell = cells[c].trim();
      if (c === labelCol) {
        rawLabels[r] = cell;
        continue;
      }
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        const col = header ? `'${header[c]}' (column ${c + 1})` : `column ${c + 1}`;
        throw bad(file, `line ${lineNo}, ${col}: '${cell.slice(0, 40)}' is not a number (every column but the label must be numeric)`);
      }
      x[r * features + f++] = v;
      if (Math.abs(v) > max) max = Math.abs(v);
    }
  }
  const scale = max > 0 ? max : 1;
  for (let i = 0; i < x.length; i++) x[i] /= scale;
  const { labels, y } = labelCol >= 0 ? encodeLabels(rawLabels) : { labels: [], y: new Int32Array(n) };
  return { x, y, n, shape: [features], labels, scale, files: [file] };
}

/** Class names sorted numerically when they are all numbers (so digit '2' is class 2), else by text. */
function encodeLabels(raw: string[]): { labels: string[]; y: Int32Array } {
  const distinct = [...new Set(raw)];
  const numeric = distinct.every((l) => l !== '' && Number.isFinite(Number(l)));
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  const index = new Map(distinct.map((l, i) => [l, i]));
  return { labels: distinct, y: Int32Array.from(raw, (l) => index.get(l)!) };
}

/** The examples at `indexes`, in that order. */
export function subset(d: Dataset, indexes: ArrayLike<number>): Dataset {
  const f = d.x.length / d.n;
  const x = new Float32Array(indexes.length * f);
  const y = new Int32Array(indexes.length);
  for (let i = 0; i < indexes.length; i++) {
    const k = indexes[i];
    x.set(d.x.subarray(k * f, (k + 1) * f), i * f);
    y[i] = d.y[k];
  }
  return { ...d, x, y, n: indexes.length };
}

/** Mulberry32: a small seeded generator, so splits and shuffles repeat for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffledIndexes(n: number, rand: () => number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

/** Splits off a stratified-by-shuffle test fraction; the order within each split is the file's. */
export function holdOut(d: Dataset, fraction: number, seed: number): { train: Dataset; test: Dataset } {
  const idx = shuffledIndexes(d.n, seededRandom(seed));
  const nTest = Math.max(1, Math.round(d.n * fraction));
  const test = Int32Array.from(idx.subarray(0, nTest)).sort();
  const train = Int32Array.from(idx.subarray(nTest)).sort();
  return { train: subset(d, train), test: subset(d, test) };
}

/** Reads one PNG file, naming the file in any refusal. */
export function readPng(file: string): Image {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new LabbookError('NOT_FOUND', `cannot read ${file}: ${describeError(e)}`, { cause: e });
  }
  try {
    return decodePng(buf);
  } catch (e) {
    if (e instanceof PngError) throw bad(file, e.message);
    throw e;
  }
}

/** Subfolders of `dir` (hidden ones skipped), sorted: the class names of an image folder. */
function subfolders(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

interface ImageFile {
  file: string;
  label: string;
  image: Image;
}

/** The PNG files of every class folder under `dir`; anything else in a class folder is refused. */
function readClassFolders(dir: string): ImageFile[] {
  const classes = subfolders(dir);
  if (classes.length === 0) throw new LabbookError('BAD_DATA', `${dir} has no class subfolders: put the PNG images of each class in a subfolder named after it`);
  const out: ImageFile[] = [];
  for (const label of classes) {
    const folder = path.join(dir, label);
    const entries = fs.readdirSync(folder, { withFileTypes: true }).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let count = 0;
    for (const e of entries) {
      const file = path.join(folder, e.name);
      if (e.isDirectory()) throw bad(file, 'a folder inside a class folder: images go directly in their class folder');
      if (!/\.png$/i.test(e.name)) throw bad(file, 'not a .png file: image folders hold PNG images only (one subfolder per class)');
      out.push({ file, label, image: readPng(file) });
      count++;
    }
    if (count === 0) throw new LabbookError('BAD_DATA', `class folder ${folder} has no PNG images`);
  }
  return out;
}

/**
 * Image sets as datasets sharing one size and one channel count: gray (1 channel) when every image
 * is gray, else RGB. Labels are the first set's class names; a later set (the test folder) may not
 * bring a class the first lacks.
 */
function imageDatasets(sets: ImageFile[][], dirs: string[]): Dataset[] {
  const first = sets[0][0];
  const size = (i: Image) => `${i.width}×${i.height}`;
  for (const set of sets) {
    for (const f of set) {
      if (f.image.width !== first.image.width || f.image.height !== first.image.height) {
        throw bad(f.file, `is ${size(f.image)} but ${first.file} is ${size(first.image)}: all images must have the same size (Labbook does not resize)`);
      }
    }
  }
  const channels: 1 | 3 = sets.every((set) => set.every((f) => looksGray(f.image))) ? 1 : 3;
  const labels = [...new Set(sets[0].map((f) => f.label))];
  const index = new Map(labels.map((l, i) => [l, i]));
  const { width, height } = first.image;
  const features = width * height * channels;
  return sets.map((set, s) => {
    const extra = set.find((f) => !index.has(f.label));
    if (extra) throw new LabbookError('BAD_DATA', `${path.join(dirs[s], extra.label)}: class '${extra.label}' is not among the training classes (${labels.join(', ')})`);
    const x = new Float32Array(set.length * features);
    set.forEach((f, i) => x.set(withChannels(f.image, channels), i * features));
    return { x, y: Int32Array.from(set, (f) => index.get(f.label)!), n: set.length, shape: [height, width, channels], labels, scale: 255, files: set.map((f) => f.file) };
  });
}

/** A folder of class subfolders of PNG images as one dataset. */
export function readImageFolder(dir: string): Dataset {
  return imageDatasets([readClassFolders(dir)], [dir])[0];
}

/** DIR/train/<class>/… and DIR/test/<class>/…: explicit splits (the test folder read as the test split). */
function isSplitImageFolder(dir: string, names: string[]): boolean {
  return names.includes('train') && names.includes('test') && subfolders(path.join(dir, 'train')).length > 0 && subfolders(path.join(dir, 'test')).length > 0;
}

export interface LoadOptions extends CsvOptions {
  /** Fraction held out as the test split when the data has no test file (default 0.2). */
  testFraction?: number;
  seed?: number;
}

/**
 * Loads `--data PATH`: a folder with IDX files (train-* and t10k-*; with only one of the two, a
 * test split is held out of it), an IDX images file (its labels file found beside it), a CSV, or
 * a folder of PNG images with one subfolder per class (or train/<class>/ and test/<class>/).
 */
export function loadData(dataPath: string, options: LoadOptions = {}): DataSplits {
  const p = path.resolve(dataPath);
  if (!fs.existsSync(p)) throw new LabbookError('NOT_FOUND', `no data at ${p}`);
  const fraction = options.testFraction ?? 0.2;
  const seed = options.seed ?? 42;
  if (fs.statSync(p).isDirectory()) {
    const names = fs.readdirSync(p).sort();
    const pair = (split: 'train' | 't10k') => {
      const images = findIdx(p, names, 'images', split);
      const labels = findIdx(p, names, 'labels', split);
      if (images && !labels) throw new LabbookError('BAD_DATA', `${p} has ${path.basename(images)} but no ${split}-labels-idx1-ubyte[.gz] beside it`);
      return images && labels ? readIdxPair(images, labels) : null;
    };
    const train = pair('train');
    const test = pair('t10k');
    if (train && test) return { train, test, testSource: 'file', format: 'idx' };
    const only = train ?? test;
    if (only) return { ...holdOut(only, fraction, seed), testSource: 'held-out', format: 'idx' };
    const csv = names.filter((n) => /\.csv(\.gz)?$/.test(n));
    if (csv.length === 1) return loadData(path.join(p, csv[0]), options);
    const folders = subfolders(p);
    if (isSplitImageFolder(p, folders)) {
      const dirs = [path.join(p, 'train'), path.join(p, 'test')];
      const [train, test] = imageDatasets(dirs.map(readClassFolders), dirs);
      return { train, test, testSource: 'file', format: 'images' };
    }
    if (folders.length > 0) return { ...holdOut(readImageFolder(p), fraction, seed), testSource: 'held-out', format: 'images' };
    throw new LabbookError('BAD_DATA', `${p} has no IDX files (train-images-idx3-ubyte[.gz], t10k-…), not exactly one CSV file and no class subfolders of PNG images`);
  }
  if (/\.csv(\.gz)?$/i.test(p)) return { ...holdOut(readCsv(p, options), fraction, seed), testSource: 'held-out', format: 'csv' };
  if (/images[-.]idx3-ubyte(\.gz)?$/.test(p)) {
    const labels = p.replace(/images([-.])idx3/, 'labels$1idx1');
    if (!fs.existsSync(labels)) throw new LabbookError('BAD_DATA', `no labels file ${path.basename(labels)} beside ${path.basename(p)}`);
    return { ...holdOut(readIdxPair(p, labels), fraction, seed), testSource: 'held-out', format: 'idx' };
  }
  throw new LabbookError('BAD_DATA', `${p}: give a folder of IDX files, an *-images-idx3-ubyte[.gz] file or a .csv[.gz] file`);
}

/** Reads and checks the data of a config; callers do this before opening the store, so bad data records nothing. */
export function loadTrainingData(cfg: TrainConfig): DataSplits {
  return loadData(cfg.data, { testFraction: cfg.testFraction, seed: cfg.seed, labelColumn: cfg.labelColumn });
}
