/**
 * Colours from VS Code's theme (CSS variables VS Code sets on the page), so charts follow light,
 * dark and high-contrast themes. Fallbacks are used outside VS Code (browser tests).
 */

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim() || getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** One colour per run, in a stable order. */
export function palette(): string[] {
  return [
    cssVar('--vscode-charts-blue', '#3794ff'),
    cssVar('--vscode-charts-orange', '#d18616'),
    cssVar('--vscode-charts-green', '#89d185'),
    cssVar('--vscode-charts-red', '#f14c4c'),
    cssVar('--vscode-charts-purple', '#b180d7'),
    cssVar('--vscode-charts-yellow', '#cca700'),
    '#4ec9b0',
    '#ce9178',
    '#9cdcfe',
    '#c586c0',
  ];
}

export function colorAt(i: number): string {
  const p = palette();
  return p[i % p.length];
}

export function foreground(): string {
  return cssVar('--vscode-foreground', '#cccccc');
}

export function muted(): string {
  return cssVar('--vscode-descriptionForeground', '#9d9d9d');
}

export function gridColor(): string {
  return cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.25)'));
}

export function background(): string {
  return cssVar('--vscode-editor-background', cssVar('--vscode-sideBar-background', '#1e1e1e'));
}

export function fontFamily(): string {
  return cssVar('--vscode-font-family', 'system-ui, sans-serif');
}

/** Parses #rgb, #rrggbb, rgb() and rgba() into [r, g, b]; unknown forms give mid grey. */
export function rgb(color: string): [number, number, number] {
  const c = color.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(c);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as [number, number, number];
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(c);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16)) as [number, number, number];
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(c);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return [128, 128, 128];
}

export function withAlpha(color: string, alpha: number): string {
  const [r, g, b] = rgb(color);
  return `rgba(${r}, ${g}, ${b}, ${Math.max(0, Math.min(1, alpha)).toFixed(3)})`;
}
