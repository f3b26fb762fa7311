/**
 * The machine-readable form of one run (`labbook show RUN --json`): params as a map, full
 * metric series, environment with the package list expanded, paths relative to the workspace.
 */
import type { ExecutionDto, RunDetail } from '../protocol/dto';
import type { Store } from '../store/db';

export interface RunJson {
  id: string;
  name: string;
  kind: string;
  status: string;
  exitCode: number | null;
  experiment: string | null;
  startedAt: string;
  endedAt: string | null;
  durationS: number;
  command: string | null;
  cwd: string | null;
  parentId: string | null;
  params: Record<string, string>;
  paramSources: Record<string, string>;
  metrics: Record<string, { step: number; value: number | null }[]>;
  inputs: { path: string; size: number | null; sha256: string | null; declared: boolean; error?: string }[];
  artifacts: { path: string; sha256: string | null; size: number | null; kind: string }[];
  environment: {
    python: { version: string | null; executable: string | null } | null;
    packages: Record<string, string>;
    os: string | null;
    cpu: string | null;
    memoryBytes: number | null;
    gpu: string | null;
    git: { commit: string | null; branch: string | null; dirty: boolean | null; diffSha256: string | null };
    labbookVersion: string | null;
    extra: Record<string, unknown>;
  } | null;
  code: { path: string; kind: string; sha256: string }[];
  tags: string[];
  children: string[];
  /** Session runs: cells executed in VS Code's notebook editor, in order. */
  executions?: ExecutionDto[];
}

export function runJson(store: Store, run: RunDetail): RunJson {
  const metrics: RunJson['metrics'] = {};
  for (const s of store.metricSeries(run.id)) metrics[s.key] = s.steps.map((step, i) => ({ step, value: s.values[i] }));
  const e = run.environment;
  let packages: Record<string, string> = {};
  if (e?.packagesBlob) {
    try {
      packages = JSON.parse(store.readBlob(e.packagesBlob).toString('utf8')) as Record<string, string>;
    } catch {
      packages = {};
    }
  }
  return {
    id: run.id,
    name: run.name,
    kind: run.kind,
    status: run.status,
    exitCode: run.exitCode,
    experiment: run.experiment,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationS: run.durationS,
    command: run.command,
    cwd: run.cwd,
    parentId: run.parentId,
    params: Object.fromEntries(run.params.map((p) => [p.key, p.value])),
    paramSources: Object.fromEntries(run.params.map((p) => [p.key, p.source])),
    metrics,
    inputs: run.inputs.map((i) => ({ path: i.path, size: i.size, sha256: i.sha256, declared: i.declared, ...(i.error ? { error: i.error } : {}) })),
    artifacts: run.artifacts.map((a) => ({ path: a.path, sha256: a.blob, size: a.size, kind: a.kind })),
    environment: e
      ? {
          python: e.python || e.pythonVersion ? { version: e.pythonVersion, executable: e.python } : null,
          packages,
          os: e.os,
          cpu: e.cpu,
          memoryBytes: e.memoryBytes,
          gpu: e.gpu,
          git: { commit: e.gitCommit, branch: e.gitBranch, dirty: e.gitDirty, diffSha256: e.gitDiffBlob },
          labbookVersion: e.labbookVersion,
          extra: e.extra,
        }
      : null,
    code: run.code.map((c) => ({ path: c.path, kind: c.kind, sha256: c.blob })),
    tags: run.tags,
    children: run.children.map((c) => c.id),
    ...(run.kind === 'session' ? { executions: store.executions(run.id) } : {}),
  };
}
