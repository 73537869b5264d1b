import { selectorUses, type SelectorUse } from '../promql/analyze.ts';
import { jobMayMatch, METRIC_NAME, nameMatchers, nameMayMatch } from '../promql/selector-match.ts';
import type { RuleDefinition } from '../rules/rule-file.ts';
import type { Topology } from '../topology/topology.ts';

/** Something a rule reads, and the recording rules it reads it through (outermost first; empty when direct). */
export interface Reach<T> {
  readonly value: T;
  readonly via: readonly string[];
}

/**
 * A reach through a chain of records, sharing the rest of the chain with the reach of the
 * record it reads: a chain of n records, each reading the one before, would otherwise
 * hold n² names. `via` is made when asked for.
 */
class Through<T> implements Reach<T> {
  constructor(
    readonly value: T,
    private readonly record?: string,
    private readonly inner?: Through<T>,
  ) {}
  get via(): readonly string[] {
    const out: string[] = [];
    for (let r: Through<T> | undefined = this; r?.record !== undefined; r = r.inner) out.push(r.record);
    return out;
  }
}

/** Whether `use` may read the series that recording rule `rec` writes. */
function readsRecord(use: SelectorUse, rec: RuleDefinition): boolean {
  // A selector without a name would match every record; what it reads directly is judged by `direct`.
  if (nameMatchers(use.selector).length === 0 || !nameMayMatch(use.selector, rec.name)) return false;
  const job = rec.labels['job'];
  return job === undefined || jobMayMatch(use.selector, job);
}

/**
 * What each rule reads, directly (`direct` judges one selector) or through the series of
 * the recording rules it reads, transitively: an alert on a record of pushed data reads
 * pushed data. Recording rules that read each other in a cycle add nothing more.
 */
export function readsThroughRecords<T>(
  rules: readonly RuleDefinition[],
  direct: (use: SelectorUse) => readonly T[],
): (rule: RuleDefinition) => readonly Reach<T>[] {
  const records = rules.filter((r) => r.kind === 'record');
  // A selector with `__name__="x"` can only read records named x: index them, so that
  // thousands of rules do not each scan every record. Records under names that are no
  // plain metric name are judged one by one.
  const byName = new Map<string, RuleDefinition[]>();
  const odd: RuleDefinition[] = [];
  for (const r of records) {
    if (METRIC_NAME.test(r.name)) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
    else odd.push(r);
  }
  const candidates = (use: SelectorUse): readonly RuleDefinition[] => {
    const eq = nameMatchers(use.selector).find((m) => m.op === '=');
    return eq ? [...(byName.get(eq.value) ?? []), ...odd] : records;
  };
  const memo = new Map<RuleDefinition, readonly Reach<T>[]>();
  const visiting = new Set<RuleDefinition>();
  /** What one rule reads; it yields each record it reads through and is sent back what that record reads. */
  function* body(rule: RuleDefinition): Generator<RuleDefinition, readonly Reach<T>[], readonly Reach<T>[]> {
    const out = new Map<T, Through<T>>();
    for (const use of selectorUses(rule.expr)) {
      for (const value of direct(use)) if (!out.has(value)) out.set(value, new Through(value));
      for (const rec of candidates(use))
        if (rec !== rule && readsRecord(use, rec))
          for (const r of yield rec) if (!out.has(r.value)) out.set(r.value, new Through(r.value, rec.name, r as Through<T>));
    }
    return [...out.values()];
  }
  /**
   * Depth first over the records, with a stack of its own: a chain of thousands of
   * records, each reading the one before, would overflow the call stack.
   */
  const reads = (rule: RuleDefinition): readonly Reach<T>[] => {
    const known = memo.get(rule);
    if (known) return known;
    const stack: Array<{ rule: RuleDefinition; steps: Generator<RuleDefinition, readonly Reach<T>[], readonly Reach<T>[]> }> = [];
    const enter = (r: RuleDefinition) => {
      visiting.add(r);
      stack.push({ rule: r, steps: body(r) });
    };
    enter(rule);
    let answer: readonly Reach<T>[] = [];
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as (typeof stack)[number];
      const step = top.steps.next(answer);
      if (step.done) {
        visiting.delete(top.rule);
        memo.set(top.rule, step.value);
        stack.pop();
        answer = step.value;
        continue;
      }
      const rec = step.value;
      const recorded = memo.get(rec);
      // A record being read further up reads nothing more here (a cycle).
      if (recorded || visiting.has(rec)) answer = recorded ?? [];
      else enter(rec);
    }
    return answer;
  };
  return reads;
}

/** readsThroughRecords over every rule file of the federators: they share one series namespace. */
export function recordedReadsOf<T>(topology: Topology, direct: (use: SelectorUse) => readonly T[]): (rule: RuleDefinition) => readonly Reach<T>[] {
  return readsThroughRecords(
    topology.ruleFiles.flatMap((f) => f.parsed.rules),
    direct,
  );
}
