/**
 * Ends a jest run with one plain line, "N passed, N failed" (", N skipped" when any), that CI
 * reads as the run's verdict.
 */
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`;
    // Jest prints its own summary after the reporters; at exit, this line comes last.
    process.once('exit', () => process.stderr.write(`${line}\n`));
  }
}
