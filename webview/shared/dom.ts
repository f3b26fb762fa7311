/** Small DOM helpers shared by the webviews (no framework: the pages are simple and must load fast). */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function button(label: string, onClick: () => void, cls = 'btn', title?: string): HTMLButtonElement {
  const b = el('button', cls, label);
  b.type = 'button';
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

export function select(label: string, options: { value: string; label: string }[], value: string, onChange: (v: string) => void, cls = 'ctl'): HTMLLabelElement {
  const wrap = el('label', cls);
  wrap.append(el('span', 'ctl-label', label));
  const s = el('select');
  for (const o of options) {
    const opt = el('option', undefined, o.label);
    opt.value = o.value;
    if (o.value === value) opt.selected = true;
    s.append(opt);
  }
  s.addEventListener('change', () => onChange(s.value));
  wrap.append(s);
  return wrap;
}

export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void, cls = 'ctl'): HTMLLabelElement {
  const wrap = el('label', cls);
  const c = el('input');
  c.type = 'checkbox';
  c.checked = checked;
  c.addEventListener('change', () => onChange(c.checked));
  wrap.append(c, el('span', 'ctl-label', label));
  return wrap;
}

export function section(title: string, id: string, actions: HTMLElement[] = []): { root: HTMLElement; body: HTMLElement } {
  const root = el('section', 'card');
  root.id = id;
  const head = el('header', 'card-head');
  head.append(el('h2', 'card-title', title));
  const act = el('div', 'card-actions');
  act.append(...actions);
  head.append(act);
  const body = el('div', 'card-body');
  root.append(head, body);
  return { root, body };
}

/** CSV with RFC 4180 quoting. */
export function toCsv(rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cell = (v: string | number | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * A chart canvas as a PNG data URL on the theme's background (charts are drawn on a transparent
 * canvas, which an image viewer would show on white or a checkerboard).
 */
export function pngOnThemeBackground(canvas: HTMLCanvasElement): string {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor || '#1e1e1e';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return out.toDataURL('image/png');
}
