/** Commands of the views (Runs tree, Compare, Confusion matrix, Live training). */
export const ViewCommandIds = {
  compareRuns: 'labbook.compareRuns',
  openCompareInEditor: 'labbook.openCompareInEditor',
  showRun: 'labbook.showRun',
  tagRun: 'labbook.tagRun',
  deleteRun: 'labbook.deleteRun',
  filterRuns: 'labbook.filterRuns',
  clearRunsFilter: 'labbook.clearRunsFilter',
  sortRuns: 'labbook.sortRuns',
  groupRuns: 'labbook.groupRuns',
  showConfusionMatrix: 'labbook.showConfusionMatrix',
  showLiveTraining: 'labbook.showLiveTraining',
  cancelRun: 'labbook.cancelRun',
} as const;

export type ViewCommandId = (typeof ViewCommandIds)[keyof typeof ViewCommandIds];

/** Every command id, once. package.json's contributes.commands must list exactly these. */
export const CommandIds = {
  ...ViewCommandIds,
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
  extractNotebook: 'labbook.extractNotebook',
  showSourceCells: 'labbook.showSourceCells',
  trainModel: 'labbook.trainModel',
  cancelTraining: 'labbook.cancelTraining',
  showModels: 'labbook.showModels',
  evaluateModel: 'labbook.evaluateModel',
  deployModel: 'labbook.deployModel',
  rollbackDeployment: 'labbook.rollbackDeployment',
  predictWithModel: 'labbook.predictWithModel',
  checkDrift: 'labbook.checkDrift',
  showDeployments: 'labbook.showDeployments',
} as const;

export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];

export const ViewIds = {
  runs: 'labbook.views.runs',
  compare: 'labbook.views.compare',
  container: 'labbook',
  /** Editor-tab webview panels (their serializers restore them after a reload). */
  comparePanel: 'labbook.comparePanel',
  confusionPanel: 'labbook.confusionPanel',
  livePanel: 'labbook.livePanel',
} as const;
