/**
 * The Labbook background server: a vscode-languageserver process, the only writer of the
 * store on behalf of VS Code. Started by the extension over stdio; never prints to stdout
 * (that is the protocol channel), logs through connection.console.
 */
import { ResponseError, createConnection, ProposedFeatures, TextDocumentSyncKind } from 'vscode-languageserver/node';
import * as path from 'path';
import { LabbookError, describeError } from './core/errors';
import { StoreHandle } from './core/storeHandle';
import { diffView } from './handlers/diff';
import { getRun, listRuns } from './handlers/runs';
import * as views from './handlers/views';
import { SessionManager } from './handlers/sessions';
import { RunManager } from './handlers/tracking';
import { ExtractHandler } from './handlers/extract';
import { TrainingJobs } from './handlers/training';
import {
  DeployModelRequest,
  DeploymentsRequest,
  DriftRequest,
  EvaluateModelRequest,
  ListModelsRequest,
  PredictFilesRequest,
  PredictRequest,
  RollbackRequest,
  TrainCancelRequest,
  TrainEndedNotification,
  TrainJobsRequest,
  TrainProgressNotification,
  TrainStartRequest,
} from './protocol/training';
import {
  DiffRequest,
  CellExecutedRequest,
  CheckCellsRequest,
  EndSessionRequest,
  ExtractPreviewRequest,
  ExtractWriteRequest,
  ExtractVerifyRequest,
  SaveSnapshotRequest,
  CancelRunRequest,
  type RunEndedParams,
  RunEndedNotification,
  type RunOutputParams,
  RunOutputNotification,
  StartRunRequest,
  WorkspaceTrustedNotification,
  GetRunRequest,
  type LabbookErrorData,
  type LabbookInitializationOptions,
  ListRunsRequest,
  RunsChangedNotification,
  ServerInfoRequest,
  CompareRunsRequest,
  DeleteRunRequest,
  EvaluatedRunsRequest,
  EvaluationRequest,
  LiveRunRequest,
  ShowRunRequest,
  TagRunRequest,
} from './protocol/requests';
import { LABBOOK_VERSION } from './version';

/** JSON-RPC's range for implementation-defined server errors. */
const LABBOOK_ERROR = -32001;

const connection = createConnection(ProposedFeatures.all);
const log = connection.console;
// Anything a library prints must not corrupt the protocol stream on stdout.
console.log = (...a: unknown[]) => log.log(a.map(String).join(' '));
console.info = console.log;
console.warn = (...a: unknown[]) => log.warn(a.map(String).join(' '));
console.error = (...a: unknown[]) => log.error(a.map(String).join(' '));

let handle = new StoreHandle(null);
let runs = new RunManager(handle, trackingEvents());
let sessions = new SessionManager(handle);
let training = newTraining();

function newTraining(): TrainingJobs {
  return new TrainingJobs(handle, () => runs.trusted, {
    progress: (p) => void connection.sendNotification(TrainProgressNotification, p),
    ended: (p) => void connection.sendNotification(TrainEndedNotification, p),
    changed: () => void connection.sendNotification(RunsChangedNotification, { reason: 'external-write' }),
    log: (m) => log.info(m),
  });
}

function trackingEvents() {
  return {
    output: (p: RunOutputParams) => void connection.sendNotification(RunOutputNotification, p),
    ended: (p: RunEndedParams) => {
      void connection.sendNotification(RunEndedNotification, p);
      void connection.sendNotification(RunsChangedNotification, { reason: 'external-write' });
    },
    log: (m: string) => log.error(m),
  };
}

/** A failure as the client gets it: Labbook errors as they are, anything else logged with its stack. */
function toResponseError(e: unknown): ResponseError<LabbookErrorData> {
  if (e instanceof LabbookError) return new ResponseError<LabbookErrorData>(LABBOOK_ERROR, e.message, { code: e.code });
  log.error(`${describeError(e)}\n${(e as Error)?.stack ?? ''}`);
  return new ResponseError<LabbookErrorData>(LABBOOK_ERROR, `Internal error: ${describeError(e)} (details in the Labbook log)`, { code: 'INTERNAL' });
}

function guarded<P, R>(fn: (p: P) => R): (p: P) => R | ResponseError<LabbookErrorData> {
  return (p: P) => {
    try {
      return fn(p);
    } catch (e) {
      return toResponseError(e);
    }
  };
}

connection.onInitialize((params) => {
  const options = (params.initializationOptions ?? {}) as LabbookInitializationOptions;
  const workspace = options.workspace ? path.resolve(options.workspace) : null;
  handle = new StoreHandle(workspace);
  runs = new RunManager(handle, trackingEvents());
  runs.trusted = options.trusted ?? false;
  sessions = new SessionManager(handle);
  training = newTraining();
  log.info(`Labbook server ${LABBOOK_VERSION} on Node ${process.version} (ABI ${process.versions.modules}, ${process.execPath}), pid ${process.pid}`);
  log.info(workspace ? `workspace ${workspace}` : 'no workspace folder open: nothing to track');
  try {
    const store = handle.get();
    if (store) {
      const crashed = store.recoverCrashedRuns();
      if (crashed.length) log.warn(`marked ${crashed.length} run(s) whose process is gone as crashed: ${crashed.join(', ')}`);
    }
  } catch (e) {
    // The store stays unusable until fixed; every request answers with the same clear reason.
    log.error(describeError(e));
  }
  handle.watch(options.watchIntervalMs ?? 1000, (reason) => {
    void connection.sendNotification(RunsChangedNotification, { reason });
  }, (e) => log.error(`watching the store: ${describeError(e)}`));
  return {
    capabilities: { textDocumentSync: TextDocumentSyncKind.None },
    serverInfo: { name: 'labbook', version: LABBOOK_VERSION },
  };
});

connection.onRequest(ServerInfoRequest, guarded(() => ({
  store: handle.info(),
  runtime: {
    node: process.version,
    abi: process.versions.modules,
    execPath: process.execPath,
    pid: process.pid,
    serverVersion: LABBOOK_VERSION,
  },
})));
connection.onRequest(ListRunsRequest, guarded((p) => listRuns(handle, p ?? {})));
connection.onRequest(GetRunRequest, guarded((p) => getRun(handle, p)));
connection.onRequest(DiffRequest, guarded((p) => diffView(handle, p)));
connection.onRequest(StartRunRequest, async (p) => {
  try {
    const r = await runs.start(p);
    void connection.sendNotification(RunsChangedNotification, { reason: 'external-write' });
    return r;
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(CancelRunRequest, guarded((p) => runs.cancel(p.runId) || training.cancel(p.runId)));
connection.onRequest(TrainStartRequest, guarded((p) => training.start(p)));
connection.onRequest(TrainCancelRequest, guarded((p) => training.cancel(p.jobId)));
connection.onRequest(TrainJobsRequest, guarded(() => training.jobs()));
connection.onRequest(ListModelsRequest, guarded(() => training.models()));
connection.onRequest(PredictRequest, async (p) => {
  try {
    return await training.predict(p);
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(EvaluateModelRequest, async (p) => {
  try {
    return await training.evaluate(p);
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(PredictFilesRequest, async (p) => {
  try {
    return await training.predictFiles(p);
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(DeployModelRequest, async (p) => {
  try {
    return await training.deploy(p);
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(RollbackRequest, async () => {
  try {
    return await training.rollback();
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(DeploymentsRequest, guarded(() => training.deployments()));
connection.onRequest(DriftRequest, async (p) => {
  try {
    return await training.drift(p);
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(CellExecutedRequest, guarded((p) => {
  const r = sessions.executed(p);
  void connection.sendNotification(RunsChangedNotification, { reason: 'external-write' });
  return r;
}));
connection.onRequest(SaveSnapshotRequest, guarded((p) => sessions.snapshot(p.notebook)));
connection.onRequest(EndSessionRequest, guarded((p) => sessions.end(p.notebook)));
connection.onRequest(CheckCellsRequest, async (p) => {
  try {
    return await sessions.check(p);
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(CompareRunsRequest, guarded((p) => views.compare(handle, p)));
connection.onRequest(ShowRunRequest, guarded((p) => views.showRun(handle, p)));
connection.onRequest(EvaluationRequest, guarded((p) => views.evaluation(handle, p)));
connection.onRequest(EvaluatedRunsRequest, guarded(() => views.evaluations(handle)));
connection.onRequest(LiveRunRequest, guarded((p) => views.live(handle, p, (id) => runs.isActive(id) || training.isActive(id))));
connection.onRequest(TagRunRequest, guarded((p) => {
  const tags = views.tagRun(handle, p);
  void connection.sendNotification(RunsChangedNotification, { reason: 'external-write' });
  return tags;
}));
connection.onRequest(DeleteRunRequest, guarded((p) => {
  const r = views.deleteRun(handle, p);
  void connection.sendNotification(RunsChangedNotification, { reason: 'external-write' });
  return r;
}));
// handle and runs are replaced on initialize: read them when a request comes.
const extract = new ExtractHandler(() => runs.trusted, () => handle);
connection.onRequest(ExtractPreviewRequest, async (p) => {
  try {
    return await extract.preview(p);
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(ExtractWriteRequest, async (p) => {
  try {
    return await extract.write(p);
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onRequest(ExtractVerifyRequest, async (p) => {
  try {
    const r = await extract.verify(p);
    void connection.sendNotification(RunsChangedNotification, { reason: 'external-write' });
    return r;
  } catch (e) {
    return toResponseError(e);
  }
});
connection.onNotification(WorkspaceTrustedNotification, () => {
  runs.trusted = true;
});

connection.onShutdown(async () => {
  log.info('shutdown: stopping runs in progress, closing the store');
  // Stopped runs still record how they ended before the store closes.
  await Promise.all([runs.cancelAll(5000), training.cancelAll(5000)]);
  try {
    sessions.endAll();
  } catch (e) {
    log.error(`ending notebook sessions: ${describeError(e)}`);
  }
  handle.close();
});
process.on('exit', () => handle.close());

connection.listen();
