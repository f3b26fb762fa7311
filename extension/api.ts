/** What `activate` returns: a small surface for other extensions and for Labbook's own integration tests. */
import type * as vscode from 'vscode';
import type { ServerInfo } from '../server/protocol/requests';
import type { ServerState } from './client/serverClient';
import type { RunsTreeProvider } from './views/runsTree';
import type { CompareViewProvider } from './views/compareView';
import type { CompareService } from './panels/comparePanel';
import type { ConfusionPanels } from './panels/confusionPanel';
import type { LivePanels } from './panels/livePanel';
import type { RunCommands } from './commands/tracking';
import type { SessionRecorder } from './notebook/sessionRecorder';
import type { DiffCommands } from './commands/diff';
import type { DiffPanels } from './panels/diffPanel';
import type { ModelCommands } from './commands/models';
import type { TrainingCommands } from './commands/training';

export interface LabbookApi {
  /** Milliseconds `activate` itself took (the server starts after it returns). */
  readonly activationMs: number;
  readonly server: {
    readonly state: ServerState;
    readonly onDidChangeState: vscode.Event<ServerState>;
    readonly pid: number | undefined;
    readonly lastError: string | undefined;
    info(): Promise<ServerInfo>;
  };
  readonly runsTree: RunsTreeProvider;
  readonly compareView: CompareViewProvider;
  /** The Compare pages (side view and editor tabs): what they were sent and drew. */
  readonly compare: CompareService;
  readonly confusion: ConfusionPanels;
  readonly live: LivePanels;
  /** Runs started from VS Code (Run Script / Run Notebook with Tracking). */
  readonly runs: RunCommands;
  /** Live capture of notebooks run in the editor, and their hidden-state diagnostics. */
  readonly sessions: SessionRecorder;
  /** The diff commands (callable with their arguments) and the open diff panels. */
  readonly diff: DiffCommands;
  readonly diffPanels: DiffPanels;
  /** Training jobs started from VS Code: their progress and the status-bar item's text. */
  readonly training: TrainingCommands;
  /** The model commands' Quick Picks and deployment decisions. */
  readonly models: ModelCommands;
}
