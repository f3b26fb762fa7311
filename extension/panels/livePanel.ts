/**
 * The Live training view (an editor tab) for one running run: polls the server for new metric
 * points every half second while the run goes (and at once when the server says runs changed),
 * sends only what is new, and stops when the run has ended. Cancel stops a run this server
 * started.
 */
import * as vscode from 'vscode';
import { CancelRunRequest, LiveRunRequest } from '../../server/protocol/requests';
import type { HostToLive, LiveToHost } from '../../webview/protocol/messages';
import type { ServerClient } from '../client/serverClient';
import { ViewIds } from '../commands/ids';
import type { Log } from '../util/log';
import { RunPanels } from './runPanels';
import { WebviewHost } from './webviewHost';

const POLL_MS = 500;

interface Live {
  panel: vscode.WebviewPanel;
  host: WebviewHost<HostToLive, LiveToHost>;
  since: Record<string, number>;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
  ended: boolean;
  started: boolean;
}

export class LivePanels extends RunPanels<Live> {
  private readonly renderedEmitter = new vscode.EventEmitter<{ runId: string; points: number }>();
  readonly onDidRender = this.renderedEmitter.event;

  constructor(
    extensionUri: vscode.Uri,
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {
    super(ViewIds.livePanel, (runId) => `Live · ${runId}`, extensionUri);
  }

  /** The server said runs changed: poll the open views now instead of at their next tick. */
  runsChanged(): void {
    for (const [id, l] of this.panels) if (!l.ended) void this.poll(id, l);
  }

  override dispose(): void {
    super.dispose();
    this.renderedEmitter.dispose();
  }

  protected attach(panel: vscode.WebviewPanel, runId: string): void {
    const live: Live = { panel, since: {}, timer: undefined, busy: false, ended: false, started: false, host: undefined as unknown as Live['host'] };
    live.host = new WebviewHost<HostToLive, LiveToHost>(panel.webview, this.extensionUri, { bundle: 'live', title: 'Live training', onMessage: (m) => this.onMessage(runId, live, m) }, this.log);
    this.panels.set(runId, live);
    live.timer = setInterval(() => {
      if (panel.visible && !live.ended) void this.poll(runId, live);
    }, POLL_MS);
    panel.onDidDispose(() => {
      clearInterval(live.timer);
      live.host.dispose();
      this.panels.delete(runId);
    });
    void this.poll(runId, live);
  }

  private async poll(runId: string, l: Live): Promise<void> {
    if (l.busy) return;
    l.busy = true;
    try {
      const data = await this.client.request(LiveRunRequest, { id: runId, since: l.since });
      for (const s of data.series) if (s.steps.length) l.since[s.key] = s.steps[s.steps.length - 1];
      l.host.post(l.started ? { type: 'live/append', data } : { type: 'live/reset', data }, false);
      l.started = true;
      l.panel.title = `Live · ${data.run.name}`;
      if (data.run.status !== 'running') {
        l.ended = true;
        clearInterval(l.timer);
      }
    } catch (e) {
      l.host.post({ type: 'live/error', message: e instanceof Error ? e.message : String(e) });
      l.ended = true;
      clearInterval(l.timer);
    } finally {
      l.busy = false;
    }
  }

  private onMessage(runId: string, l: Live, m: LiveToHost): void {
    switch (m.type) {
      case 'live/ready':
        // A reloaded page has lost its points: start over with everything.
        if (l.started) {
          l.since = {};
          l.started = false;
          void this.poll(runId, l);
        }
        break;
      case 'live/cancel':
        void this.client.request(CancelRunRequest, { runId: m.id }).then((stopped) => {
          if (!stopped) void vscode.window.showWarningMessage(`Labbook: run ${m.id} was not started from this VS Code window, so it cannot be stopped here; stop its process where it runs.`);
        });
        break;
      case 'live/rendered':
        this.renderedEmitter.fire({ runId: m.runId, points: m.points });
        break;
      default:
        this.log.warn(`live view of ${runId} sent an unknown message: ${JSON.stringify(m)}`);
    }
  }
}
