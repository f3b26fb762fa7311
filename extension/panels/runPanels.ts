/**
 * Editor-tab webviews with one tab per run (the Confusion-matrix and Live views): the serializer
 * that restores them after a reload, show-or-reveal, and disposal. A subclass attaches its page
 * to a panel and keeps what it needs per run in the entry it stores in `panels`.
 */
import * as vscode from 'vscode';

export abstract class RunPanels<Entry extends { panel: vscode.WebviewPanel }> implements vscode.Disposable {
  protected readonly panels = new Map<string, Entry>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly viewType: string,
    private readonly title: (runId: string) => string,
    protected readonly extensionUri: vscode.Uri,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const id = (state as { runId?: string } | undefined)?.runId;
          if (id) this.open(panel, id);
          else panel.dispose();
        },
      }),
    );
  }

  /** Opens (or reveals) the view for a run. */
  show(runId: string): void {
    const open = this.panels.get(runId);
    if (open) {
      open.panel.reveal();
      return;
    }
    this.open(vscode.window.createWebviewPanel(this.viewType, this.title(runId), vscode.ViewColumn.Active, { enableScripts: true }), runId);
  }

  dispose(): void {
    for (const e of this.panels.values()) e.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }

  /** Puts the run's page into `panel` and its entry into `panels` (removed when the panel closes). */
  protected abstract attach(panel: vscode.WebviewPanel, runId: string): void;

  private open(panel: vscode.WebviewPanel, runId: string): void {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'labbook.svg');
    this.attach(panel, runId);
  }
}
