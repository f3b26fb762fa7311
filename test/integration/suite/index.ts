/**
 * Entry the VS Code host loads as `extensionTestsPath`: runs the mocha suites inside the real
 * extension host and resolves or rejects with the result (its exit code reaches the runner).
 */
import Mocha from 'mocha';
import { registerDiffSuite } from './diff.test';
import { registerDeactivateSuite, registerExtensionSuite } from './extension.test';
import { registerExtractSuite } from './extract.test';
import { registerFailureSuite } from './failure.test';
import { registerSessionSuite } from './session.test';
import { registerTrackingSuite } from './tracking.test';
import { registerTrainingSuite } from './training.test';
import { registerViewsSuite } from './views.test';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', ...(process.env.LABBOOK_IT_GREP ? { grep: process.env.LABBOOK_IT_GREP } : {}) });
  mocha.suite.emit('pre-require', globalThis, 'labbook', mocha);
  registerExtensionSuite();
  registerFailureSuite();
  registerTrackingSuite();
  registerSessionSuite();
  registerViewsSuite();
  registerDiffSuite();
  registerExtractSuite();
  registerTrainingSuite();
  registerDeactivateSuite();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
