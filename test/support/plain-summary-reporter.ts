import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

/**
 * CI reads the last line of the run and does not parse vitest's summary: this prints a plain
 * `N passed, N failed[, N skipped]` after everything else, counting individual tests.
 * A file that fails outside any test (import error, failing beforeAll) and unhandled errors each
 * count as one failure, so a broken run can never read "0 failed".
 */
export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    _reason: TestRunEndReason,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else skipped++; // skipped, todo, or never run (pending) after a bail
      }
      if (failedHere === 0 && (module.errors().length > 0 || module.state() === 'failed')) failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    const summary = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
    // After the default reporter's summary (reporters run in order); stdout like the rest.
    process.stdout.write(`\n${summary}\n`);
  }
}
