import type { BinaryName } from '../plan/node-spec.ts';
import { capabilitiesOf, OLDEST, type Capabilities, type ComponentVersions, type VersionedComponent } from './capabilities.ts';
import { compareVersions, lineOf, parseVersion } from './version.ts';

/**
 * The Debian releases promha runs and renders for: a name picks the archive packages come
 * from. What a release can do comes from the versions of its binaries (capabilities.ts),
 * so code asks the release ("does it have --cluster.label?") and never a codename.
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
  /** The `major.minor` line; patch levels and Debian revisions move (sid), so they are not pinned. */
  readonly version: string;
}

export interface Release extends Capabilities {
  readonly name: ReleaseName;
  /** What operators call it. */
  readonly title: string;
  /** Each component's package, path and the `major.minor` line of the binaries this release has (found, else what Debian ships). */
  readonly components: Readonly<Record<Component, ComponentInfo>>;
  /** The full versions the capabilities were judged from. */
  readonly versions: ComponentVersions;
  /** Tags of the upstream images that Kubernetes manifests run: the same upstream versions as the packages. */
  readonly images: Readonly<Record<VersionedComponent, string>>;
}

const go = (pkg: string, bin: string, version: string): ComponentInfo => ({ package: pkg, path: `/usr/bin/${bin}`, version: lineOf(version) });

/** A release of Debian's archive as it holds `versions`: packages from `packages`, everything else from the versions. */
function debianRelease(name: ReleaseName, title: string, promtoolPackage: string, versions: ComponentVersions): Release {
  return {
    name,
    title,
    components: {
      prometheus: go('prometheus', 'prometheus', versions.prometheus),
      promtool: go(promtoolPackage, 'promtool', versions.prometheus),
      alertmanager: go('prometheus-alertmanager', 'prometheus-alertmanager', versions.alertmanager),
      amtool: go('prometheus-alertmanager', 'amtool', versions.alertmanager),
      pushgateway: go('prometheus-pushgateway', 'prometheus-pushgateway', versions.pushgateway),
    },
    versions,
    ...capabilitiesOf(versions),
    images: { prometheus: `v${versions.prometheus}`, alertmanager: `v${versions.alertmanager}`, pushgateway: `v${versions.pushgateway}` },
  };
}

/**
 * Each release as Debian's archive held it when promha last measured it: what render
 * assumes when no binaries of the release are at hand. What runs is judged by the versions
 * found (`withVersions`). Debian 12 ships promtool inside the prometheus package.
 */
export const RELEASES: Readonly<Record<ReleaseName, Release>> = {
  bookworm: debianRelease('bookworm', 'Debian 12', 'prometheus', { prometheus: '2.42.0', alertmanager: '0.25.0', pushgateway: '1.5.1' }),
  trixie: debianRelease('trixie', 'Debian 13', 'promtool', { prometheus: '2.53.3', alertmanager: '0.28.1', pushgateway: '1.11.0' }),
  sid: debianRelease('sid', 'the Prometheus 3 line (Debian unstable)', 'promtool', { prometheus: '3.5.3', alertmanager: '0.33.1', pushgateway: '1.11.2' }),
};

/** The component of a versioned one's binary (promtool goes with Prometheus, amtool with Alertmanager). */
export const VERSIONED: Readonly<Record<Component, VersionedComponent>> = {
  prometheus: 'prometheus',
  promtool: 'prometheus',
  alertmanager: 'alertmanager',
  amtool: 'alertmanager',
  pushgateway: 'pushgateway',
};

/**
 * Why `version` cannot be `release`'s `component`, undefined when it can: older than the
 * release ships (the binaries of an older release), or older than promha renders for.
 * Newer is accepted: its capabilities come from its version (versionNotes says what was assumed).
 */
export function versionProblem(release: Release, component: Component, version: string): string | undefined {
  if (!parseVersion(version)) return `"${version}" is not a version promha can read`;
  const floor = RELEASES[release.name].components[component].version;
  if (compareVersions(version, floor) < 0) return `${version} is older than ${release.name} ships (${floor})`;
  if (compareVersions(version, OLDEST[VERSIONED[component]]) < 0) return `${version} is older than promha renders for (${OLDEST[VERSIONED[component]]})`;
  return undefined;
}

/**
 * `release` judged by the versions its binaries print: their lines in `components`,
 * capabilities from the versions. Components not given keep the release's.
 */
export function withVersions(release: Release, found: Partial<Record<VersionedComponent, string>>): Release {
  const versions = { ...release.versions, ...found };
  if (Object.entries(versions).every(([c, v]) => release.versions[c as VersionedComponent] === v)) return release;
  // Kubernetes images follow too: upstream tags every release it builds (v3.14.0).
  return debianRelease(release.name, release.title, release.components.promtool.package, versions);
}

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
