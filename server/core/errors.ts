/**
 * One error type for every failure a user should read. `message` is the one line shown in a
 * toast or on stderr; `cause` keeps the underlying error for the log.
 */
export type LabbookErrorCode =
  | 'NOT_A_STORE'
  | 'NEWER_SCHEMA'
  | 'NOT_WRITABLE'
  | 'STORE_CORRUPT'
  | 'STORE_BUSY'
  | 'NO_STORE'
  | 'RUN_NOT_FOUND'
  | 'AMBIGUOUS_RUN'
  | 'BLOB_NOT_FOUND'
  | 'BAD_ARGUMENT'
  | 'BAD_NOTEBOOK'
  | 'NOT_FOUND'
  | 'GIT_FAILED'
  | 'CELL_SYNTAX'
  | 'OUTPUT_EXISTS'
  | 'BAD_DATA'
  | 'BAD_MODEL'
  | 'GATE_REFUSED';

export class LabbookError extends Error {
  readonly code: LabbookErrorCode;
  constructor(code: LabbookErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabbookError';
    this.code = code;
  }

  /**
   * By shape, not by class: dist/training.js carries its own copy of this class, and its errors
   * must still be Labbook errors (codes, exit statuses) to the server and the CLI.
   */
  static override [Symbol.hasInstance](v: unknown): boolean {
    return v instanceof Error && v.name === 'LabbookError' && typeof (v as { code?: unknown }).code === 'string';
  }
}

export function isLabbookError(e: unknown): e is LabbookError {
  return e instanceof LabbookError;
}

/** The errno-style code of a Node system error, if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
