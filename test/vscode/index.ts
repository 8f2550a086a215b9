// Loaded by the VS Code extension host (payload "extensionTestsPath"): runs the mocha suites in the real editor.

import Mocha from 'mocha';
import { suites } from './suite';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  // ATTENTIVE_TEST_GREP runs only the matching tests (e.g. one suite while working on it).
  if (process.env['ATTENTIVE_TEST_GREP']) mocha.grep(process.env['ATTENTIVE_TEST_GREP']);
  for (const register of suites) {
    mocha.suite.emit('pre-require', globalThis, 'suite', mocha);
    register();
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // test/vscode/run.mjs requires this line: an extension host that dies mid-run never prints it.
      console.log(`[attentive] tests finished: ${runner.stats?.passes ?? 0} passed, ${failures} failed`);
      if (failures) reject(new Error(`${failures} tests failed`));
      else resolve();
    });
  });
}
