import type { BinaryName } from '../plan/node-spec.ts';
import { PROMQL_2_42, PROMQL_2_53, PROMQL_3_5, type PromqlDialect } from '../promql/dialect.ts';

/**
 * The Debian releases promha runs and renders for. Every difference between them lives
 * in this table, so that code asks the release ("does it have --cluster.label?") instead
 * of comparing version numbers.
 */
export const RELEASE_NAMES = ['bookworm', 'trixie', 'sid'] as const;
export type ReleaseName = (typeof RELEASE_NAMES)[number];

/** The Go components a release ships as Debian packages (keepalived and HAProxy come from the host). */
export type Component = 'prometheus' | 'promtool' | 'alertmanager' | 'amtool' | 'pushgateway';

export interface ComponentInfo {
  /** The Debian package that holds the binary. */
  readonly package: string;
  /** Path of the binary inside the package. */
  readonly path: string;
  /** `major.minor` the release ships; patch levels and Debian revisions move (sid), so they are not pinned. */
  readonly version: string;
}

export interface Release {
  readonly name: ReleaseName;
  /** What operators call it. */
  readonly title: string;
  readonly components: Readonly<Record<Component, ComponentInfo>>;
  /** Alertmanager has `--cluster.label` (0.26+): two clusters on one network never merge gossip. */
  readonly clusterLabel: boolean;
  /** Alertmanager has `--cluster.peer-name` (0.30+): the backup's position does not depend on start order. */
  readonly clusterPeerName: boolean;
  /**
   * Alertmanager has `--dispatch.start-delay` (0.30+): a started member groups what the
   * federators resend before it flushes anything, instead of flushing the first alert of
   * each group at once and sending that snapshot after its gossip settled.
   */
  readonly dispatchStartDelay: boolean;
  /**
   * Prometheus has `track_timestamps_staleness` (2.48+). promha sets it false on the
   * federate jobs: a dead scraper member's staleness markers would cut holes into the
   * series its partner still feeds (measured: test/federate-staleness.test.ts).
   */
  readonly trackTimestampsStaleness: boolean;
  /** Alertmanager shows secrets as `<secret>` in `/api/v2/status` (0.28+). */
  readonly redactsSecrets: boolean;
  /** What its Prometheus accepts as PromQL. */
  readonly promql: PromqlDialect;
  /** Tags of the upstream images that Kubernetes manifests run: the same upstream versions as the packages. */
  readonly images: Readonly<Record<'prometheus' | 'alertmanager' | 'pushgateway', string>>;
}

const go = (pkg: string, bin: string, version: string): ComponentInfo => ({ package: pkg, path: `/usr/bin/${bin}`, version });

export const RELEASES: Readonly<Record<ReleaseName, Release>> = {
  bookworm: {
    name: 'bookworm',
    title: 'Debian 12',
    components: {
      prometheus: go('prometheus', 'prometheus', '2.42'),
      // Debian 12 ships promtool inside the prometheus package.
      promtool: go('prometheus', 'promtool', '2.42'),
      alertmanager: go('prometheus-alertmanager', 'prometheus-alertmanager', '0.25'),
      amtool: go('prometheus-alertmanager', 'amtool', '0.25'),
      pushgateway: go('prometheus-pushgateway', 'prometheus-pushgateway', '1.5'),
    },
    clusterLabel: false,
    clusterPeerName: false,
    dispatchStartDelay: false,
    trackTimestampsStaleness: false,
    redactsSecrets: false,
    promql: PROMQL_2_42,
    images: { prometheus: 'v2.42.0', alertmanager: 'v0.25.0', pushgateway: 'v1.5.1' },
  },
  trixie: {
    name: 'trixie',
    title: 'Debian 13',
    components: {
      prometheus: go('prometheus', 'prometheus', '2.53'),
      promtool: go('promtool', 'promtool', '2.53'),
      alertmanager: go('prometheus-alertmanager', 'prometheus-alertmanager', '0.28'),
      amtool: go('prometheus-alertmanager', 'amtool', '0.28'),
      pushgateway: go('prometheus-pushgateway', 'prometheus-pushgateway', '1.11'),
    },
    clusterLabel: true,
    clusterPeerName: false,
    dispatchStartDelay: false,
    trackTimestampsStaleness: true,
    redactsSecrets: true,
    promql: PROMQL_2_53,
    images: { prometheus: 'v2.53.3', alertmanager: 'v0.28.1', pushgateway: 'v1.11.0' },
  },
  sid: {
    name: 'sid',
    title: 'the Prometheus 3 line (Debian unstable)',
    components: {
      prometheus: go('prometheus', 'prometheus', '3.5'),
      promtool: go('promtool', 'promtool', '3.5'),
      alertmanager: go('prometheus-alertmanager', 'prometheus-alertmanager', '0.33'),
      amtool: go('prometheus-alertmanager', 'amtool', '0.33'),
      pushgateway: go('prometheus-pushgateway', 'prometheus-pushgateway', '1.11'),
    },
    clusterLabel: true,
    clusterPeerName: true,
    dispatchStartDelay: true,
    trackTimestampsStaleness: true,
    redactsSecrets: true,
    promql: PROMQL_3_5,
    images: { prometheus: 'v3.5.3', alertmanager: 'v0.33.1', pushgateway: 'v1.11.2' },
  },
};

/** The release component that runs as each binary of a plan. keepalived and HAProxy come from the host. */
export const COMPONENT_OF_BINARY: Readonly<Partial<Record<BinaryName, Component>>> = {
  prometheus: 'prometheus',
  'prometheus-alertmanager': 'alertmanager',
  'prometheus-pushgateway': 'pushgateway',
};

export function isReleaseName(s: string): s is ReleaseName {
  return (RELEASE_NAMES as readonly string[]).includes(s);
}

/** The Debian packages holding a release's Go components, each once. */
export function releasePackages(r: Release): string[] {
  return [...new Set(Object.values(r.components).map((c) => c.package))];
}

/**
 * The version a Prometheus-project binary prints for `--version`: the first line reads
 * `prometheus, version 3.5.3+ds1 (branch: …)`. Returns `3.5.3`.
 */
export function parseVersionOutput(text: string): string | undefined {
  return /^\S+, version (\d+\.\d+\.\d+)/m.exec(text)?.[1];
}

/** The release whose `component` a server reporting `version` is, undefined when none ships it. */
export function releaseOfVersion(component: Component, version: string): Release | undefined {
  return Object.values(RELEASES).find((r) => versionMatches(version, r.components[component].version));
}

/** True when `version` (e.g. 3.5.3) is of the `major.minor` line `expected` (e.g. 3.5). */
export function versionMatches(version: string, expected: string): boolean {
  return version === expected || version.startsWith(`${expected}.`);
}
