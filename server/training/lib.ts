/**
 * Everything that needs TensorFlow.js, as one module: the build ships it as dist/training.js, which
 * the server, the CLI and the training worker load only when they train, evaluate or predict (an
 * esbuild plugin in scripts/build.mjs turns imports of this file into `require('./training.js')`).
 * `labbook --version` or a diff then neither reads nor compiles tfjs's ~4 MB. Test bundles
 * include it like any other module.
 */
export { train } from './train';
export * from './lifecycle';
