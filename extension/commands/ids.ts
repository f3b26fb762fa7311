/** Every command id, once. package.json's contributes.commands must list exactly these. */
export const CommandIds = {
  showRuns: 'labbook.showRuns',
  refresh: 'labbook.refresh',
  showLog: 'labbook.showLog',
  restartServer: 'labbook.restartServer',
  runScript: 'labbook.runScript',
  runNotebook: 'labbook.runNotebook',
  rerun: 'labbook.rerun',
  saveSnapshot: 'labbook.saveSnapshot',
  diffWithHead: 'labbook.diffWithHead',
  diffWithRevision: 'labbook.diffWithRevision',
  diffNotebooks: 'labbook.diffNotebooks',
  diffRuns: 'labbook.diffRuns',
} as const;

export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];

export const ViewIds = {
  runs: 'labbook.views.runs',
  compare: 'labbook.views.compare',
  container: 'labbook',
} as const;
