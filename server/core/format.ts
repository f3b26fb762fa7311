/** Human formatting shared by the CLI and the extension's views, so both say the same thing. */

export function formatDuration(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** The first 12 hex digits of a content hash, or 'missing' for a file that is gone. */
export function shortHash(h: string | null): string {
  return h ? h.slice(0, 12) : 'missing';
}

export function formatNumber(v: number | null): string {
  if (v === null) return 'NaN';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
}

/** How long ago an ISO time was: "just now", "5m ago", "3h ago", "2d ago", then the date. */
export function formatAge(iso: string, now = Date.now()): string {
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))}m ago`;
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`;
  if (s < 30 * 86_400) return `${Math.round(s / 86_400)}d ago`;
  return iso.slice(0, 10);
}
