/**
 * Reads Jupyter notebooks strictly into a small model the diff works on. nbformat 4.0–4.5 (and
 * later 4.x minors, read as 4.5 with a warning); nbformat 3 is upgraded in memory. Anything else
 * — broken JSON, binary files, JSON that is not a notebook — is refused with a message that says
 * where and why. Pure functions: no file system, no VS Code.
 */
import { LabbookError } from '../core/errors';
import { locateJsonError } from '../core/jsonPosition';

import type { CellType } from '../protocol/diffDto';

export type { CellType };

export interface NbOutput {
  /** nbformat output_type (v3 names are mapped to v4's). */
  type: 'stream' | 'execute_result' | 'display_data' | 'error' | 'update_display_data' | string;
  /** stream only: stdout / stderr. */
  name?: string;
  /** stream only. */
  text?: string;
  /** execute_result / display_data: MIME type → content (text joined; base64 for binary images). */
  data?: Record<string, string>;
  /** error only. */
  ename?: string;
  evalue?: string;
  traceback?: string[];
  metadata?: Record<string, unknown>;
  executionCount?: number | null;
}

export interface NbCell {
  index: number;
  id?: string;
  type: CellType;
  source: string;
  executionCount: number | null;
  outputs: NbOutput[];
  metadata: Record<string, unknown>;
  /** markdown/raw attachments (name → MIME → base64). */
  attachments?: Record<string, Record<string, string>>;
}

export interface NbModel {
  nbformat: number;
  nbformatMinor: number;
  metadata: Record<string, unknown>;
  cells: NbCell[];
  /** Things the reader accepted but the user may want to know (upgrades, unknown fields). */
  warnings: string[];
}

const bad = (label: string, why: string) => new LabbookError('BAD_NOTEBOOK', `${label}: ${why}`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** nbformat "multiline strings" are a string or a list of strings to be joined. */
function multiline(v: unknown, label: string, what: string): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v.join('');
  if (v === undefined || v === null) return '';
  throw bad(label, `${what} is neither text nor a list of text lines`);
}

/** Parses notebook text (the file's bytes as UTF-8) into the model, or throws BAD_NOTEBOOK. */
export function parseNotebook(text: string, label: string): NbModel {
  if (text.length === 0) throw bad(label, 'the file is empty, not a notebook');
  const probe = text.slice(0, 8192);
  // A NUL or a run of replacement characters means bytes that were not UTF-8 text.
  if (probe.includes('\u0000') || (probe.match(/\uFFFD/g)?.length ?? 0) > 8) throw bad(label, 'this is a binary file, not a notebook (.ipynb files are JSON text)');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const at = locateJsonError(text);
    const where = at ? `line ${at.line}, column ${at.column}: ${at.reason}` : (e as Error).message;
    throw bad(label, `not valid notebook JSON (${where})${at && at.offset >= text.length - 1 ? ' — the file looks truncated' : ''}`);
  }
  if (!isObject(data)) throw bad(label, 'the JSON is not an object, so this is not a notebook');
  const nbformat = data.nbformat;
  if (typeof nbformat !== 'number') {
    throw bad(label, "not a Jupyter notebook (the JSON has no 'nbformat' number)");
  }
  if (nbformat === 3) return upgradeV3(data, label);
  if (nbformat !== 4) {
    throw bad(label, `nbformat ${nbformat} is not supported (Labbook reads nbformat 3 and 4; open and save it in a current Jupyter)`);
  }
  const minor = typeof data.nbformat_minor === 'number' ? data.nbformat_minor : 0;
  const warnings: string[] = [];
  if (minor > 5) warnings.push(`${label} is nbformat 4.${minor}, newer than 4.5: read as 4.5`);
  if (!Array.isArray(data.cells)) throw bad(label, "not a Jupyter notebook (nbformat 4 without a 'cells' list)");
  const cells = data.cells.map((c, i) => readCellV4(c, i, label));
  return { nbformat: 4, nbformatMinor: minor, metadata: isObject(data.metadata) ? data.metadata : {}, cells, warnings };
}

function cellType(v: unknown, i: number, label: string): CellType {
  if (v === 'code' || v === 'markdown' || v === 'raw') return v;
  throw bad(label, `cell ${i + 1} has an unknown cell_type ${JSON.stringify(v)}`);
}

function readCellV4(c: unknown, i: number, label: string): NbCell {
  if (!isObject(c)) throw bad(label, `cell ${i + 1} is not an object`);
  const type = cellType(c.cell_type, i, label);
  const outputs = type === 'code' && Array.isArray(c.outputs) ? c.outputs.map((o, k) => readOutput(o, `${label}: cell ${i + 1}, output ${k + 1}`)) : [];
  return {
    index: i,
    id: typeof c.id === 'string' && c.id.length > 0 ? c.id : undefined,
    type,
    source: multiline(c.source, label, `cell ${i + 1}'s source`),
    executionCount: typeof c.execution_count === 'number' ? c.execution_count : null,
    outputs,
    metadata: isObject(c.metadata) ? c.metadata : {},
    attachments: isObject(c.attachments) ? readAttachments(c.attachments) : undefined,
  };
}

function readAttachments(a: Record<string, unknown>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [name, bundle] of Object.entries(a)) {
    if (!isObject(bundle)) continue;
    out[name] = {};
    for (const [mime, v] of Object.entries(bundle)) out[name][mime] = typeof v === 'string' ? v : Array.isArray(v) ? v.join('') : JSON.stringify(v);
  }
  return out;
}

/** A MIME bundle's values as text: JSON values (application/json, widget state) are serialized. */
function mimeBundle(v: unknown, where: string): Record<string, string> {
  if (!isObject(v)) throw new LabbookError('BAD_NOTEBOOK', `${where}: 'data' is not a MIME bundle`);
  const out: Record<string, string> = {};
  for (const [mime, value] of Object.entries(v)) {
    if (typeof value === 'string') out[mime] = value;
    else if (Array.isArray(value) && value.every((s) => typeof s === 'string') && !mime.endsWith('json')) out[mime] = value.join('');
    else out[mime] = JSON.stringify(value, null, 1);
  }
  return out;
}

function readOutput(o: unknown, where: string): NbOutput {
  if (!isObject(o)) throw new LabbookError('BAD_NOTEBOOK', `${where} is not an object`);
  const type = typeof o.output_type === 'string' ? o.output_type : 'unknown';
  const out: NbOutput = { type, metadata: isObject(o.metadata) ? o.metadata : undefined };
  if (type === 'stream') {
    out.name = typeof o.name === 'string' ? o.name : 'stdout';
    out.text = multiline(o.text, where, 'the stream text');
  } else if (type === 'execute_result' || type === 'display_data' || type === 'update_display_data') {
    out.data = o.data === undefined ? {} : mimeBundle(o.data, where);
    if (type === 'execute_result') out.executionCount = typeof o.execution_count === 'number' ? o.execution_count : null;
  } else if (type === 'error') {
    out.ename = String(o.ename ?? '');
    out.evalue = String(o.evalue ?? '');
    out.traceback = Array.isArray(o.traceback) ? o.traceback.map(String) : [];
  }
  return out;
}

// ---- nbformat 3 -----------------------------------------------------------------------------

const V3_MIME: Record<string, string> = {
  text: 'text/plain',
  html: 'text/html',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpeg: 'image/jpeg',
  latex: 'text/latex',
  json: 'application/json',
  javascript: 'application/javascript',
  markdown: 'text/markdown',
  pdf: 'application/pdf',
};

/** nbformat 3 → the v4 model, in memory (the way Jupyter's own upgrade maps the fields). */
function upgradeV3(data: Record<string, unknown>, label: string): NbModel {
  const sheets = Array.isArray(data.worksheets) ? data.worksheets : [];
  const raw = sheets.flatMap((w) => (isObject(w) && Array.isArray(w.cells) ? w.cells : []));
  const cells: NbCell[] = raw.map((c, i) => {
    if (!isObject(c)) throw bad(label, `cell ${i + 1} is not an object`);
    const base = { index: i, metadata: isObject(c.metadata) ? c.metadata : {}, executionCount: null, outputs: [] as NbOutput[] };
    if (c.cell_type === 'heading') {
      const level = typeof c.level === 'number' ? Math.min(Math.max(c.level, 1), 6) : 1;
      return { ...base, type: 'markdown', source: `${'#'.repeat(level)} ${multiline(c.source, label, `cell ${i + 1}'s source`)}` };
    }
    if (c.cell_type === 'code') {
      const outputs = Array.isArray(c.outputs) ? c.outputs.map((o, k) => readOutputV3(o, `${label}: cell ${i + 1}, output ${k + 1}`)) : [];
      return {
        ...base,
        type: 'code',
        source: multiline(c.input, label, `cell ${i + 1}'s input`),
        executionCount: typeof c.prompt_number === 'number' ? c.prompt_number : null,
        outputs,
      };
    }
    const type = c.cell_type === 'markdown' ? 'markdown' : c.cell_type === 'raw' ? 'raw' : cellType(c.cell_type, i, label);
    return { ...base, type, source: multiline(c.source, label, `cell ${i + 1}'s source`) };
  });
  const metadata = isObject(data.metadata) ? data.metadata : {};
  return { nbformat: 4, nbformatMinor: 0, metadata, cells, warnings: [`${label} is nbformat 3: upgraded to nbformat 4 in memory for the diff`] };
}

function readOutputV3(o: unknown, where: string): NbOutput {
  if (!isObject(o)) throw new LabbookError('BAD_NOTEBOOK', `${where} is not an object`);
  const kind = o.output_type;
  if (kind === 'stream') return { type: 'stream', name: typeof o.stream === 'string' ? o.stream : 'stdout', text: multiline(o.text, where, 'the stream text') };
  if (kind === 'pyerr') return { type: 'error', ename: String(o.ename ?? ''), evalue: String(o.evalue ?? ''), traceback: Array.isArray(o.traceback) ? o.traceback.map(String) : [] };
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    const mime = V3_MIME[k] ?? (k.includes('/') ? k : undefined);
    if (mime) data[mime] = typeof v === 'string' ? v : Array.isArray(v) ? v.join('') : JSON.stringify(v);
  }
  if (kind === 'pyout') return { type: 'execute_result', data, executionCount: typeof o.prompt_number === 'number' ? o.prompt_number : null };
  return { type: 'display_data', data };
}
