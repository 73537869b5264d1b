import { PROMQL_2_42, PROMQL_2_53, PROMQL_3_5, type PromqlDialect } from '../promql/dialect.ts';
import { atLeast, compareVersions, lineOf } from './version.ts';

/*
 * Every behaviour of Prometheus, Alertmanager and Pushgateway that promha depends on,
 * keyed by the upstream version that introduced it. A release is judged by the versions
 * of the binaries it really has (what `promha setup` found, what `up` runs), so a newer
 * upload to Debian or an upstream build needs no table edit.
 */

/** The upstream components whose versions decide what promha renders. */
export type VersionedComponent = 'prometheus' | 'alertmanager' | 'pushgateway';
export type ComponentVersions = Readonly<Record<VersionedComponent, string>>;

export interface Capabilities {
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
}

type Flag = Exclude<keyof Capabilities, 'promql'>;

/** Each flag: the component and the first version that has it. */
export const SINCE: Readonly<Record<Flag, { readonly component: VersionedComponent; readonly version: string }>> = {
  clusterLabel: { component: 'alertmanager', version: '0.26' },
  clusterPeerName: { component: 'alertmanager', version: '0.30' },
  dispatchStartDelay: { component: 'alertmanager', version: '0.30' },
  trackTimestampsStaleness: { component: 'prometheus', version: '2.48' },
  redactsSecrets: { component: 'alertmanager', version: '0.28' },
};

/** PromQL dialects, newest first, each from the first Prometheus version promha measured it on. */
const DIALECTS: ReadonlyArray<{ readonly since: string; readonly dialect: PromqlDialect }> = [
  { since: '3.0', dialect: PROMQL_3_5 },
  { since: '2.53', dialect: PROMQL_2_53 },
  { since: '2.42', dialect: PROMQL_2_42 },
];

/** The oldest version of each component promha renders for (Debian 12's). */
export const OLDEST: ComponentVersions = { prometheus: '2.42', alertmanager: '0.25', pushgateway: '1.5' };

/** The newest version of each component whose behaviour promha has measured; newer ones are assumed to behave like it. */
export const NEWEST_KNOWN: ComponentVersions = { prometheus: '3.5', alertmanager: '0.33', pushgateway: '1.11' };

/** HA defects of released versions that promha cannot render around: a note where they apply (versionNotes). */
export const KNOWN_DEFECTS: ReadonlyArray<{ readonly component: VersionedComponent; readonly fixedIn: string; readonly reference: string; readonly what: string }> = [
  {
    component: 'prometheus',
    fixedIn: '3.10',
    reference: 'https://github.com/prometheus/prometheus/issues/7676',
    what: 'one send queue serves every Alertmanager: a slow or hung Alertmanager delays the alerts sent to the others (promha bounds the delay with the send timeout)',
  },
];

export function capabilitiesOf(versions: ComponentVersions): Capabilities {
  const flags = Object.fromEntries(Object.entries(SINCE).map(([flag, s]) => [flag, atLeast(versions[s.component], s.version)])) as Record<Flag, boolean>;
  const promql = DIALECTS.find((d) => atLeast(versions.prometheus, d.since))?.dialect ?? PROMQL_2_42;
  return { ...flags, promql };
}

/**
 * What promha assumed and which known defects apply to these versions, one line each:
 * printed by `setup` and `check`.
 */
export function versionNotes(versions: ComponentVersions): string[] {
  const notes: string[] = [];
  for (const c of Object.keys(NEWEST_KNOWN) as VersionedComponent[])
    if (compareVersions(versions[c], NEWEST_KNOWN[c]) > 0)
      notes.push(`${c} ${versions[c]} is newer than any promha has measured (${NEWEST_KNOWN[c]}): its capabilities are taken from its version, and it is assumed to behave as ${NEWEST_KNOWN[c]} otherwise`);
  for (const d of KNOWN_DEFECTS)
    if (!atLeast(versions[d.component], d.fixedIn)) notes.push(`${d.component} ${lineOf(versions[d.component])}: ${d.what}; fixed in ${d.fixedIn} (${d.reference})`);
  return notes;
}
