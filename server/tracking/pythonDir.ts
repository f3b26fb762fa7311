/**
 * Where Labbook's Python side lives: `dist/python/` in a build (copied there by the build),
 * `server/tracking/python/` when running from sources or test bundles.
 */
import * as fs from 'fs';
import * as path from 'path';

let cached: string | undefined;

export function pythonDir(): string {
  if (cached) return cached;
  const candidates = [
    process.env.LABBOOK_PYTHON_DIR,
    path.join(__dirname, 'python'),
    path.resolve(__dirname, '..', 'python'),
    path.resolve(__dirname, '..', '..', '..', 'server', 'tracking', 'python'),
    path.resolve(__dirname, '..', '..', 'server', 'tracking', 'python'),
  ];
  cached = candidates.find((c): c is string => !!c && fs.existsSync(path.join(c, 'labbook', '__init__.py')));
  if (!cached) throw new Error(`Labbook's Python files are missing (looked in ${candidates.filter(Boolean).join(', ')})`);
  return cached;
}
