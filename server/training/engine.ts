/**
 * The TensorFlow.js engine and its backend ladder: tfjs-node-gpu (CUDA) → tfjs-node → tfjs on
 * wasm (SIMD, with our conv gradients) → tfjs on cpu. tfjs-node(-gpu) are optional dependencies
 * loaded at run time when installed; they bring their own copy of tfjs, so everything that
 * builds models takes the `tf` of the chosen engine rather than importing one.
 */
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import * as tfBundled from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { preferGpuMemoryGrowth } from './gpuEnv';
import { registerWasmConvGradients } from './wasmKernels';

export type Tf = typeof tfBundled;
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface Engine {
  tf: Tf;
  backend: BackendName;
  /** Why this backend: what was tried before it and how it failed. */
  reason: string;
  /** The GPU's name, when training runs on one. */
  gpu?: string;
}

/** Where the wasm binaries are: dist/wasm beside the bundle, else node_modules. */
function wasmDir(): string | null {
  const candidates = [path.join(__dirname, 'wasm')];
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    candidates.push(path.join(dir, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
    if (path.dirname(dir) === dir) break;
  }
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'tfjs-backend-wasm-simd.wasm')));
  return found ? found + path.sep : null;
}

/**
 * A run-time `require` (esbuild does not bundle it), for packages that may not be installed: from
 * where Labbook is, then from each folder in `from` (the workspace, where a user runs
 * `npm install @tensorflow/tfjs-node-gpu` for their project).
 */
export function optionalRequire(name: string, from: string[]): unknown {
  let first: unknown;
  for (const base of [__filename, ...from.map((d) => path.join(d, 'package.json'))]) {
    try {
      return createRequire(base)(name);
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}

async function tryNode(gpu: boolean, from: string[]): Promise<Engine | string> {
  const pkg = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  if (gpu) preferGpuMemoryGrowth();
  let tf: Tf;
  try {
    tf = optionalRequire(pkg, from) as Tf;
  } catch (e) {
    return `${pkg} is not installed (${String((e as Error).message).split('\n')[0]})`;
  }
  await tf.ready();
  const backend: BackendName = gpu ? 'tensorflow-gpu' : 'tensorflow';
  if (!gpu) return { tf, backend, reason: `${pkg} loaded` };
  // tfjs-node-gpu falls back to CPU silently when CUDA is missing: ask TensorFlow for a GPU device.
  const gpuName = cudaDeviceName(tf);
  if (!gpuName) return `${pkg} loaded but TensorFlow sees no CUDA GPU`;
  return { tf, backend, reason: `${pkg} on ${gpuName}`, gpu: gpuName };
}

/** The name of the first CUDA device TensorFlow registered, from tfjs-node's binding, if any. */
function cudaDeviceName(tf: Tf): string | null {
  const binding = (tf as unknown as { backend(): { binding?: { isUsingGpuDevice?: () => boolean } } }).backend().binding;
  if (binding?.isUsingGpuDevice && !binding.isUsingGpuDevice()) return null;
  try {
    const out = require('child_process').execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 }) as string;
    return out.split('\n')[0].trim() || null;
  } catch {
    return binding?.isUsingGpuDevice?.() ? 'CUDA GPU' : null;
  }
}

async function tryBundled(name: 'wasm' | 'cpu'): Promise<Engine | string> {
  const tf = tfBundled;
  if (name === 'wasm') {
    const dir = wasmDir();
    if (!dir) return 'tfjs-backend-wasm binaries not found (dist/wasm or node_modules)';
    setWasmPaths(dir);
  }
  try {
    if (!(await tf.setBackend(name))) return `tfjs backend '${name}' failed to initialise`;
    await tf.ready();
  } catch (e) {
    return `tfjs backend '${name}' failed: ${(e as Error).message}`;
  }
  if (name === 'wasm') registerWasmConvGradients(tf);
  return { tf, backend: name, reason: '' };
}

let cached: Promise<Engine> | undefined;
let cachedFor: string | undefined;

/**
 * The first backend of the ladder that works (or `prefer`, when given and it works). tfjs keeps
 * one global backend per process, so the engine is chosen once per process and backend.
 */
export function loadEngine(prefer?: BackendName, searchFrom: string[] = []): Promise<Engine> {
  const key = prefer ?? 'auto';
  if (cached && cachedFor === key) return cached;
  cachedFor = key;
  cached = (async () => {
    const ladder: BackendName[] = prefer ? [prefer, ...BACKENDS.filter((b) => b !== prefer)] : [...BACKENDS];
    const skipped: string[] = [];
    for (const b of ladder) {
      const r = b === 'tensorflow-gpu' ? await tryNode(true, searchFrom) : b === 'tensorflow' ? await tryNode(false, searchFrom) : await tryBundled(b);
      if (typeof r !== 'string') {
        r.tf.enableProdMode();
        const why = b === 'wasm' ? 'tfjs wasm backend (SIMD, Labbook conv gradients)' : b === 'cpu' ? 'tfjs pure-JS cpu backend' : r.reason;
        return { ...r, reason: skipped.length ? `${why}; skipped: ${skipped.join('; ')}` : why };
      }
      skipped.push(r);
    }
    throw new Error(`no TensorFlow.js backend works: ${skipped.join('; ')}`);
  })();
  return cached;
}
