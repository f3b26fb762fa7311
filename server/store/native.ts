/**
 * Where better-sqlite3's compiled addon lives. Bundles in dist/ carry a copy in dist/native/
 * (made by the build, with abi.json naming the Node ABI it was built for); when running from
 * sources or tests, better-sqlite3 finds its own build in node_modules.
 */
import * as fs from 'fs';
import * as path from 'path';

export const NATIVE_DIR = 'native';
export const NATIVE_ADDON = 'better_sqlite3.node';

let cached: string | undefined | null = null;

export function nativeBindingPath(): string | undefined {
  if (cached !== null) return cached;
  const candidates = [process.env.LABBOOK_NATIVE_BINDING, path.join(__dirname, NATIVE_DIR, NATIVE_ADDON)];
  cached = candidates.find((c): c is string => !!c && fs.existsSync(c));
  return cached;
}
