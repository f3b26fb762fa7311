/**
 * Entry the VS Code host loads as `extensionTestsPath`: runs the mocha suites inside the real
 * extension host and resolves or rejects with the result (its exit code reaches the runner).
 */
import Mocha from 'mocha';
import { registerDiffSuite } from './diff.test';
import { registerDeactivateSuite, registerExtensionSuite } from './extension.test';
import { registerFailureSuite } from './failure.test';
import { registerSessionSuite } from './session.test';
import { registerTrackingSuite } from './tracking.test';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'labbook', mocha);
  registerExtensionSuite();
  registerFailureSuite();
  registerTrackingSuite();
  registerSessionSuite();
  registerDiffSuite();
  registerDeactivateSuite();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
