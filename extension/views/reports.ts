/**
 * Read-only text documents for results a command produces (predictions, evaluations, drift checks,
 * deployment history): `labbook-report:` URIs whose content this provider keeps, so closing one
 * never asks to save it and the same report opened twice shows the same text.
 */
import * as vscode from 'vscode';

export const REPORT_SCHEME = 'labbook-report';

export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, this);
  private seq = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? 'This report is gone: it is kept only while VS Code runs. Run its command again.\n';
  }

  /** Opens a new report titled `title` (its tab name) and returns its editor. */
  async open(title: string, text: string): Promise<vscode.TextEditor> {
    // The counter keeps two reports of the same title apart; the title stays readable in the tab.
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${++this.seq}/${title.replace(/[\\/:*?"<>|]/g, '_')}` });
    this.contents.set(uri.toString(), text);
    const doc = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(doc, { preview: false });
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
    this.contents.clear();
  }
}

/** Columns padded to their widest cell (plain text: no Markdown renderer needed). */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}
