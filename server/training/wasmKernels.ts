/**
 * Convolution and max-pool gradients for the wasm backend. tfjs-backend-wasm has no Conv2DBackpropFilter (so a
 * CNN cannot train on it) and a slow Conv2DBackpropInput. Both gradients are convolutions
 * themselves, so they are computed here with wasm's own fast Conv2D (XNNPACK), Transpose, Reverse
 * and Slice kernels, composed the way backends compose kernels: TensorInfos in and out, every
 * intermediate freed with `disposeData`.
 */
import type * as tfType from '@tensorflow/tfjs';

type Tf = typeof tfType;
type Info = tfType.TensorInfo;
type Attrs = Record<string, unknown>;
/** What these kernels use of tfjs-backend-wasm's backend object. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(t: Info): Float32Array | Int32Array | Uint8Array;
  disposeData(id: object): void;
}

const registered = new WeakSet<object>();

export function registerWasmConvGradients(tf: Tf): void {
  if (registered.has(tf)) return;
  registered.add(tf);
  const kernel = (name: string) => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
    return k.kernelFunc as (args: { inputs: Record<string, Info>; backend: unknown; attrs?: Attrs }) => Info;
  };
  const conv2d = kernel('Conv2D');
  const transpose = kernel('Transpose');
  const reverse = kernel('Reverse');
  const slice = kernel('Slice');
  const stockBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc;

  /**
   * dW[kh,kw,ci,co] = Σ_b,oh,ow x[b, oh·s + kh − pad, ow·s + kw − pad, ci] · dy[b,oh,ow,co]:
   * a convolution of x (channels as batch, batch as channels) with dy as the filter, the forward
   * strides becoming dilations.
   */
  const backpropFilter = ({ inputs, backend, attrs }: { inputs: Record<string, Info>; backend: unknown; attrs?: Attrs }): Info => {
    const { x, dy } = inputs as { x: Info; dy: Info };
    const a = attrs as { strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number]; dataFormat?: string };
    if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only (got ${a.dataFormat})`);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    const free = (t: Info) => (backend as { disposeData(id: object): void }).disposeData(t.dataId);
    const xT = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
    const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
    const full = conv2d({
      inputs: { x: xT, filter: dyT },
      backend,
      attrs: { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth] },
    });
    free(xT);
    free(dyT);
    const [kh, kw, ci, co] = a.filterShape;
    const cut = full.shape[1] === kh && full.shape[2] === kw ? full : slice({ inputs: { x: full }, backend, attrs: { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] } });
    if (cut !== full) free(full);
    const out = transpose({ inputs: { x: cut }, backend, attrs: { perm: [1, 2, 0, 3] } });
    free(cut);
    return out;
  };

  /**
   * With stride 1, dx = a valid convolution of dy padded by (k − 1 − pad) before and the rest
   * after, with the filter rotated 180° and its in/out channels swapped. Strided convolutions keep
   * the stock kernel (they would need dy dilated with zeros first).
   */
  const backpropInput = (args: { inputs: Record<string, Info>; backend: unknown; attrs?: Attrs }): Info => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: Info; filter: Info };
    const a = attrs as { strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number]; dataFormat?: string };
    const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode);
    if (info.strideHeight !== 1 || info.strideWidth !== 1 || (a.dataFormat && a.dataFormat !== 'NHWC')) {
      if (!stockBackpropInput) throw new Error('Conv2DBackpropInput: strided convolutions are not supported on wasm');
      return stockBackpropInput(args as Parameters<typeof stockBackpropInput>[0]) as Info;
    }
    const free = (t: Info) => (backend as { disposeData(id: object): void }).disposeData(t.dataId);
    const [kh, kw] = filter.shape;
    const [, h, w] = a.inputShape;
    const { top, left } = info.padInfo;
    const rotated = reverse({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } });
    const swapped = transpose({ inputs: { x: rotated }, backend, attrs: { perm: [0, 1, 3, 2] } });
    free(rotated);
    const padBefore = [kh - 1 - top, kw - 1 - left];
    const padAfter = [h - info.outHeight + top, w - info.outWidth + left];
    const out = conv2d({
      inputs: { x: dy, filter: swapped },
      backend,
      attrs: { strides: [1, 1], pad: [[0, 0], [padBefore[0], padAfter[0]], [padBefore[1], padAfter[1]], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] },
    });
    free(swapped);
    return out;
  };

  /**
   * Max-pool gradient for non-overlapping windows (pool size = stride, no padding — every CNN
   * here): each window's values side by side, ArgMax picks the first maximum (as the cpu
   * backend does), OneHot × dy routes the gradient there. Other pools keep the stock kernel.
   */
  const reshape = kernel('Reshape');
  const argMax = kernel('ArgMax');
  const oneHot = kernel('OneHot');
  const multiply = kernel('Multiply');
  const padV2 = kernel('PadV2');
  const cast = kernel('Cast');
  const stockMaxPoolGrad = tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc;
  const maxPoolGrad = (args: { inputs: Record<string, Info>; backend: unknown; attrs?: Attrs }): Info => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs as { dy: Info; input: Info };
    const a = attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    if (info.filterHeight !== info.strideHeight || info.filterWidth !== info.strideWidth || top || bottom || left || right) {
      if (!stockMaxPoolGrad) throw new Error('MaxPoolGrad: only non-overlapping pools are supported on wasm');
      return stockMaxPoolGrad(args as Parameters<typeof stockMaxPoolGrad>[0]) as Info;
    }
    const free = (t: Info) => (backend as { disposeData(id: object): void }).disposeData(t.dataId);
    const [b, h, w, c] = input.shape;
    const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
    const k = kh * kw;
    const fits = oh * kh === h && ow * kw === w;
    const x = fits ? input : slice({ inputs: { x: input }, backend, attrs: { begin: [0, 0, 0, 0], size: [b, oh * kh, ow * kw, c] } });
    const windows = reshape({ inputs: { x }, backend, attrs: { shape: [b, oh, kh, ow, kw, c] } });
    if (x !== input) free(x);
    const grouped = transpose({ inputs: { x: windows }, backend, attrs: { perm: [0, 1, 3, 5, 2, 4] } });
    free(windows);
    const flat = reshape({ inputs: { x: grouped }, backend, attrs: { shape: [b, oh, ow, c, k] } });
    free(grouped);
    const where = argMax({ inputs: { x: flat }, backend, attrs: { axis: 4 } });
    free(flat);
    const hot = oneHot({ inputs: { indices: where }, backend, attrs: { depth: k, onValue: 1, offValue: 0, dtype: 'int32' } });
    free(where);
    const mask = cast({ inputs: { x: hot }, backend, attrs: { dtype: 'float32' } });
    free(hot);
    const dy5 = reshape({ inputs: { x: dy }, backend, attrs: { shape: [b, oh, ow, c, 1] } });
    const routed = multiply({ inputs: { a: mask, b: dy5 }, backend });
    free(mask);
    free(dy5);
    const routed6 = reshape({ inputs: { x: routed }, backend, attrs: { shape: [b, oh, ow, c, kh, kw] } });
    free(routed);
    const back = transpose({ inputs: { x: routed6 }, backend, attrs: { perm: [0, 1, 4, 2, 5, 3] } });
    free(routed6);
    const dx = reshape({ inputs: { x: back }, backend, attrs: { shape: [b, oh * kh, ow * kw, c] } });
    free(back);
    if (fits) return dx;
    const padded = padV2({ inputs: { x: dx }, backend, attrs: { paddings: [[0, 0], [0, h - oh * kh], [0, w - ow * kw], [0, 0]], constantValue: 0 } });
    free(dx);
    return padded;
  };

  /**
   * The same gradient written as one pass over the wasm heap: for every window the first maximum
   * of the input receives dy. A tenth of the time of the composed version above, which stays for
   * pools whose windows do not tile the input exactly.
   */
  const maxPoolGradDirect = (args: { inputs: Record<string, Info>; backend: unknown; attrs?: Attrs }): Info => {
    const { inputs, attrs } = args;
    const backend = args.backend as WasmBackend;
    const { dy, input } = inputs as { dy: Info; input: Info };
    const a = attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    if (info.filterHeight !== info.strideHeight || info.filterWidth !== info.strideWidth || top || bottom || left || right || input.dtype !== 'float32') return maxPoolGrad(args);
    const [b, h, w, c] = input.shape;
    const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
    const out = backend.makeOutput(input.shape, 'float32');
    // Views are taken after the allocation: a grown heap detaches older ones.
    const x = backend.typedArrayFromHeap(input) as Float32Array;
    const g = backend.typedArrayFromHeap(dy) as Float32Array;
    const dx = backend.typedArrayFromHeap(out) as Float32Array;
    maxPoolGradPass(x, g, dx, [b, h, w, c], [kh, kw], [oh, ow]);
    return out;
  };

  /**
   * Matrix products with a transposed operand: wasm's BatchMatMul only reaches XNNPACK's fast
   * path without transposes (with them it runs a plain loop, 10–15× slower on the gradients of a
   * dense layer). The operand is transposed first, then the stock kernel runs without the flag.
   */
  const wrapTransposes = (name: string) => {
    const stock = tf.getKernel(name, 'wasm')?.kernelFunc as ((args: { inputs: Record<string, Info>; backend: unknown; attrs?: Attrs }) => Info) | undefined;
    if (!stock) return;
    const flip = (t: Info, backend: unknown) => {
      const r = t.shape.length;
      const perm = [...Array(r - 2).keys(), r - 1, r - 2];
      return transpose({ inputs: { x: t }, backend, attrs: { perm } });
    };
    const wrapped = (args: { inputs: Record<string, Info>; backend: unknown; attrs?: Attrs }): Info => {
      const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
      if (!attrs.transposeA && !attrs.transposeB) return stock(args);
      const { backend } = args;
      const free = (t: Info) => (backend as { disposeData(id: object): void }).disposeData(t.dataId);
      const a = attrs.transposeA ? flip(args.inputs.a, backend) : args.inputs.a;
      const b = attrs.transposeB ? flip(args.inputs.b, backend) : args.inputs.b;
      const out = stock({ ...args, inputs: { ...args.inputs, a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      if (a !== args.inputs.a) free(a);
      if (b !== args.inputs.b) free(b);
      return out;
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: wrapped as never });
  };
  wrapTransposes('BatchMatMul');
  wrapTransposes('_FusedMatMul');

  if (stockMaxPoolGrad !== undefined) tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGradDirect as never });
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: backpropFilter as never });
  if (stockBackpropInput !== undefined) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: backpropInput as never });
}

/**
 * One pass of the max-pool gradient for windows that tile the input (pool size = stride, no
 * padding): each window's dy goes to its first maximum, as tfjs's cpu backend does. Windows whose
 * maximum is not above `floor` pass nothing (floor 0 applies the gradient of a ReLU below the
 * pool); `sums` receives what passed, summed per channel (the bias gradient of the layer below).
 * Rows and columns the windows do not cover get 0.
 */
export function maxPoolGradPass(x: Float32Array, dy: Float32Array, dx: Float32Array, [n, h, w, c]: number[], [kh, kw]: number[], [oh, ow]: number[], floor = -Infinity, sums?: Float64Array): void {
  dx.fill(0);
  const row = w * c;
  let gi = 0;
  for (let e = 0; e < n; e++) {
    for (let i = 0; i < oh; i++) {
      const top = (e * h + i * kh) * row;
      for (let j = 0; j < ow; j++) {
        const corner = top + j * kw * c;
        for (let ch = 0; ch < c; ch++, gi++) {
          let best = corner + ch;
          let value = x[best];
          if (kh === 2 && kw === 2) {
            // The CNNs' 2×2 pools, unrolled.
            const a1 = best + c;
            const a2 = best + row;
            const a3 = a2 + c;
            if (x[a1] > value) {
              value = x[a1];
              best = a1;
            }
            if (x[a2] > value) {
              value = x[a2];
              best = a2;
            }
            if (x[a3] > value) {
              value = x[a3];
              best = a3;
            }
          } else {
            for (let u = 0; u < kh; u++) {
              for (let v = 0; v < kw; v++) {
                const at = corner + u * row + v * c + ch;
                if (x[at] > value) {
                  value = x[at];
                  best = at;
                }
              }
            }
          }
          if (value > floor) {
            dx[best] = dy[gi];
            if (sums) sums[ch] += dy[gi];
          }
        }
      }
    }
  }
}
