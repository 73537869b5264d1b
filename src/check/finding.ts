import type { Location } from '../location.ts';
import type { NodeSpec } from '../plan/node-spec.ts';
import type { Release } from '../release/release.ts';
import type { Topology } from '../topology/topology.ts';

export type Severity = 'error' | 'warning';

export interface Finding {
  /** Stable code, e.g. PH101. */
  readonly code: string;
  /** The rule's short name, e.g. two-members. */
  readonly rule: string;
  readonly severity: Severity;
  readonly message: string;
  readonly location: Location;
  /** How to fix it. */
  readonly hint: string;
}

export interface CheckContext {
  readonly topology: Topology;
  /** The planned nodes, so rules can verify what render would write. */
  readonly nodes: readonly NodeSpec[];
  /** The release the topology is checked for: its PromQL and flags. */
  readonly release: Release;
}

/** One seed or dedup rule. `run` is pure: it only reads the context. */
export interface CheckRule {
  readonly code: string;
  readonly name: string;
  /** One line: what the rule guards and why. */
  readonly description: string;
  run(ctx: CheckContext): Iterable<Omit<Finding, 'code' | 'rule'>>;
}
