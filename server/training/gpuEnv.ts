/** GPU settings that must reach TensorFlow's native code before it loads (no tfjs import here). */

/**
 * TensorFlow reserves nearly all GPU memory when it starts unless told to grow as needed; Labbook
 * shares the GPU with the user's notebooks, so it asks for growth unless the user set the
 * variable. Only the main thread's environment reaches native code: the server sets it before it
 * starts a training worker, the CLI in engine.ts.
 */
export function preferGpuMemoryGrowth(): void {
  process.env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
}
