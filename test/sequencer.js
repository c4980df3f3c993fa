import sequencer from '@jest/test-sequencer';

const Sequencer = sequencer.default ?? sequencer;

/** Files that start other programs: `npm start` with its build, then Chromium. They take longest. */
const LONGEST = [/[\\/]test[\\/]e2e[\\/]/, /[\\/]test[\\/]browser[\\/]/];

/**
 * Jest's order (last run's failures, then the longest by last run's timings, or the largest
 * files when there are none), except that the files that start other programs come first,
 * so that no worker is left running one of them at the end: also in a clean checkout (CI),
 * which has no timings.
 */
export default class LongestFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const index = LONGEST.findIndex((pattern) => pattern.test(test.path));
      return index === -1 ? LONGEST.length : index;
    };
    const sorted = super.sort(tests);
    return sorted.map((test, index) => ({ test, index })).sort((a, b) => rank(a.test) - rank(b.test) || a.index - b.index).map(({ test }) => test);
  }
}
