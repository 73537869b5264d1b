import type { Location } from '../location.ts';
import type { LoadedRuleFile } from '../rules/rule-file.ts';
import type { TopologySpec } from './schema.ts';
import type { PropertyPath } from './yaml-source.ts';

/** A rule file named by the federators' `rule_files`, as read from disk. */
export interface RuleFileSource {
  /** As written in the topology (relative to it). */
  readonly name: string;
  /** Index of the `rule_files` entry it came from, for locating problems. */
  readonly entry: number;
  readonly text: string;
  readonly parsed: LoadedRuleFile;
}

/** A validated topology with everything needed to check and plan it, and no I/O left to do. */
export interface Topology {
  readonly file: string;
  readonly spec: TopologySpec;
  readonly ruleFiles: readonly RuleFileSource[];
  /** Where `path` stands in the topology file (its key with `key: true`). */
  locate(path: PropertyPath, options?: { key?: boolean }): Location;
}
