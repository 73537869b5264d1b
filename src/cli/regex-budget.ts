import v8 from 'node:v8';

let bounded = false;

/**
 * Regular expressions from input (federate selectors, label matchers in rules, pushed
 * metric patterns) run on V8's backtracking engine, where some patterns take exponential
 * time. With this flag V8 switches a match to its linear-time engine after excessive
 * backtracking (50,000 backtracks by default), so no input can stall a command. Patterns
 * that engine cannot run (the `i` flag, large counted repetitions) are refused where
 * they are read, see metricPatternProblem.
 */
export function boundRegexBacktracking(): void {
  if (bounded) return;
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  bounded = true;
}
