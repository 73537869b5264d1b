import { createHash } from 'node:crypto';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap, Container, ContainerPort, Namespace, PersistentVolumeClaim, Service, ServicePort, Volume } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ExitError } from '../../errors.ts';
import type { BinaryName, NodeSpec, ProcessSpec } from '../../plan/node-spec.ts';
import { plan } from '../../plan/plan.ts';
import type { Release } from '../../release/release.ts';
import type { Topology } from '../../topology/topology.ts';
import { shellQuote } from '../command-line.ts';
import { filesRead } from '../files-read.ts';
import { KUBERNETES_LAYOUT, kubernetesTopology, vipServiceName } from './addresses.ts';

export type Manifest = Namespace | Service | ConfigMap | StatefulSet | PodDisruptionBudget;

/** The upstream image of a binary, at the release's version; keepalived and HAProxy have none (the VIP is a Service). */
export function imageOf(binary: BinaryName, release: Release): { readonly image: string; readonly command: string } | undefined {
  const upstream = { prometheus: 'prometheus', 'prometheus-alertmanager': 'alertmanager', 'prometheus-pushgateway': 'pushgateway' } as const;
  const name = upstream[binary as keyof typeof upstream];
  return name ? { image: `quay.io/prometheus/${name}:${release.images[name]}`, command: `/bin/${name}` } : undefined;
}

/** Persistent volume sizes; a cluster's storage class decides the rest. */
export const STORAGE_REQUEST: Readonly<Partial<Record<NodeSpec['role'], string>>> = {
  federator: '20Gi',
  alertmanager: '1Gi',
};

export const LABEL = {
  partOf: 'app.kubernetes.io/part-of',
  role: 'promha.io/role',
  set: 'promha.io/set',
  member: 'promha.io/member',
  backup: 'promha.io/backup',
} as const;

/** The upstream images run as nobody. */
const NOBODY = 65534;

function labels(n: NodeSpec): Record<string, string> {
  return {
    [LABEL.partOf]: 'promha',
    [LABEL.role]: n.role,
    [LABEL.set]: n.set,
    [LABEL.member]: n.name,
    ...(n.role === 'alertmanager' ? { [LABEL.backup]: String(n.backup) } : {}),
  };
}

const meta = (name: string, namespace: string, l: Record<string, string>) => ({ name, namespace, labels: l });

/** ConfigMap keys cannot hold "/": rules/x.yml is stored as rules_x.yml and mounted back at its path. */
const configKey = (file: string) => file.replace(/\//g, '_');

const configMapName = (n: NodeSpec) => `${n.name}-config`;

function clusterPort(p: ProcessSpec): number | undefined {
  const flag = p.args.find((a) => a.startsWith('--cluster.listen-address='));
  return flag ? Number(flag.slice(flag.lastIndexOf(':') + 1)) : undefined;
}

function servicePorts(n: NodeSpec): ServicePort[] {
  const cluster = n.processes.map(clusterPort).find((p) => p !== undefined);
  return [
    { name: 'http', port: n.address.port, targetPort: 'http' },
    ...(cluster ? [{ name: 'cluster-tcp', port: cluster, protocol: 'TCP', targetPort: 'cluster-tcp' }, { name: 'cluster-udp', port: cluster, protocol: 'UDP', targetPort: 'cluster-udp' }] : []),
  ];
}

function container(n: NodeSpec, p: ProcessSpec, release: Release): Container {
  const image = imageOf(p.binary, release);
  if (!image) throw new ExitError(2, `${n.name}: ${p.binary} has no place in Kubernetes (the VIP is a Service there)`);
  const cluster = clusterPort(p);
  const ports: ContainerPort[] = [
    { name: 'http', containerPort: n.address.port },
    ...(cluster ? [{ name: 'cluster-tcp', containerPort: cluster, protocol: 'TCP' }, { name: 'cluster-udp', containerPort: cluster, protocol: 'UDP' }] : []),
  ];
  // Gossip must advertise an IP (DESIGN §2); a pod's IP is known only at run time.
  const advertise = cluster && !p.args.some((a) => a.startsWith('--cluster.advertise-address=')) ? [`--cluster.advertise-address=$(POD_IP):${cluster}`] : [];
  return {
    name: p.name,
    image: image.image,
    command: [image.command],
    args: [...p.args, ...advertise],
    ...(advertise.length ? { env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] } : {}),
    ports,
    readinessProbe: { httpGet: { path: '/-/ready', port: 'http' }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: '/-/healthy', port: 'http' }, periodSeconds: 10, failureThreshold: 6 },
    volumeMounts: [
      ...(n.files.length ? [{ name: 'config', mountPath: n.configDir, readOnly: true }] : []),
      ...(n.dataDir ? [{ name: 'data', mountPath: n.dataDir }] : []),
    ],
  };
}

function configMap(n: NodeSpec, namespace: string): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(configMapName(n), namespace, labels(n)),
    data: Object.fromEntries(n.files.map((f) => [configKey(f.path), f.content])),
  };
}

/**
 * The backup starts only once the active members answer: start order decides peer
 * positions, and a backup at position 0 delays every notification by a peer timeout (DESIGN §2).
 */
function waitForActive(backup: NodeSpec, active: readonly NodeSpec[], release: Release): Container[] {
  const image = imageOf(backup.processes[0]?.binary ?? 'prometheus-alertmanager', release);
  if (!backup.backup || !image || active.length === 0) return [];
  const urls = active.map((a) => shellQuote(`http://${a.address}/-/healthy`)).join(' ');
  return [
    {
      name: 'wait-for-active',
      image: image.image,
      command: ['sh', '-c', `for url in ${urls}; do until wget -q -O /dev/null "$url"; do echo "waiting for $url"; sleep 2; done; done`],
    },
  ];
}

function statefulSet(n: NodeSpec, set: readonly NodeSpec[], namespace: string, release: Release): StatefulSet {
  const l = labels(n);
  const volumes: Volume[] = n.files.length
    ? [{ name: 'config', configMap: { name: configMapName(n), items: n.files.map((f) => ({ key: configKey(f.path), path: f.path })) } }]
    : [];
  const claims: PersistentVolumeClaim[] = [];
  if (n.dataDir && n.persistent)
    claims.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', labels: l },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: STORAGE_REQUEST[n.role] ?? '1Gi' } } },
    });
  // Scrapers keep nothing across restarts (seed): their TSDB lives in an emptyDir.
  else if (n.dataDir) volumes.push({ name: 'data', emptyDir: {} });
  // Over what is written (not a YAML file's data as well), so the hash moves only when a file does.
  const configHash = createHash('sha256')
    .update(JSON.stringify(n.files.map((f) => ({ path: f.path, content: f.content, ...(f.mode === undefined ? {} : { mode: f.mode }) }))))
    .digest('hex')
    .slice(0, 16);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(n.name, namespace, l),
    spec: {
      serviceName: n.set,
      replicas: 1,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { [LABEL.member]: n.name } },
      template: {
        // A changed config rolls the pod, as install.sh reloads a host.
        metadata: { labels: l, annotations: { 'promha.io/config-hash': configHash } },
        spec: {
          // The members of a set never share a node: one node lost takes one member at most.
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { [LABEL.set]: n.set } }, topologyKey: 'kubernetes.io/hostname' }],
            },
          },
          securityContext: { runAsUser: NOBODY, runAsGroup: NOBODY, runAsNonRoot: true, fsGroup: NOBODY },
          ...(n.backup ? { initContainers: waitForActive(n, set.filter((m) => !m.backup), release) } : {}),
          containers: n.processes.map((p) => container(n, p, release)),
          volumes,
        },
      },
      ...(claims.length ? { volumeClaimTemplates: claims } : {}),
    },
  };
}

/** Every node's DNS name comes from this Service; not-ready members resolve too, so gossip and federation see them. */
function headlessService(set: string, members: readonly NodeSpec[], namespace: string): Service {
  const first = members[0] as NodeSpec;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(set, namespace, { [LABEL.partOf]: 'promha', [LABEL.role]: first.role, [LABEL.set]: set }),
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { [LABEL.set]: set }, ports: servicePorts(first) },
  };
}

/**
 * The pushgateway VIP: a ClusterIP Service over the set's ready gateways. Session
 * affinity keeps a pusher on one gateway, so a group lives on one member; it moves
 * only when that gateway is no longer ready.
 */
function vipService(set: string, port: number, namespace: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(vipServiceName(set), namespace, { [LABEL.partOf]: 'promha', [LABEL.role]: 'pushgateway', [LABEL.set]: set }),
    spec: {
      type: 'ClusterIP',
      selector: { [LABEL.set]: set },
      sessionAffinity: 'ClientIP',
      ports: [{ name: 'http', port, targetPort: 'http' }],
    },
  };
}

/** At most one member of a set is evicted at a time. The backup is no part of the Alertmanager pair's budget. */
function disruptionBudget(set: string, role: string, namespace: string): PodDisruptionBudget {
  const selector: Record<string, string> = { [LABEL.set]: set, ...(role === 'alertmanager' ? { [LABEL.backup]: 'false' } : {}) };
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(set, namespace, { [LABEL.partOf]: 'promha', [LABEL.role]: role, [LABEL.set]: set }),
    spec: { minAvailable: 1, selector: { matchLabels: selector } },
  };
}

export interface ManifestGroup {
  /** The set the manifests belong to (or `namespace`). */
  readonly name: string;
  readonly manifests: readonly Manifest[];
}

/**
 * Manifests for the whole topology, one group per set: the headless Service, the
 * disruption budget, the VIP Service of a pushgateway set, and per member a ConfigMap
 * and a StatefulSet. The configs inside are planned for in-cluster addresses.
 */
/** Kubernetes adds a controller-revision-hash label of the StatefulSet's name plus 11 characters (63 at most). */
const MAX_STATEFULSET_NAME = 52;

function assertKubernetesNames(topology: Topology, namespace: string): void {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace))
    throw new ExitError(2, `--namespace "${namespace}" is not a Kubernetes namespace name\n    fix: use lowercase letters, digits and "-", at most 63 characters`);
  const { spec } = topology;
  const members = [...spec.scrapers, ...spec.pushgateways, spec.federators].flatMap((s) => s.members).concat(spec.alertmanagers.members, [spec.alertmanagers.backup]);
  for (const m of members)
    if (m.name.length > MAX_STATEFULSET_NAME)
      throw new ExitError(2, `member "${m.name}" is ${m.name.length} characters long: a StatefulSet name has at most ${MAX_STATEFULSET_NAME}\n    fix: shorten the member's name in the topology`);
}

export function kubernetesManifests(topology: Topology, namespace: string, release: Release): ManifestGroup[] {
  assertKubernetesNames(topology, namespace);
  // The VIP is a Service here: no keepalived, so its files are left out too.
  const nodes = plan(kubernetesTopology(topology, namespace), { layout: KUBERNETES_LAYOUT, vip: 'haproxy', vipStandIns: false, release }).map((n) => ({
    ...n,
    files: n.files.filter((f) => n.processes.some((p) => filesRead(n, p).includes(f))),
  }));
  const sets = [...new Set(nodes.map((n) => n.set))];
  const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [LABEL.partOf]: 'promha' } } };
  return [
    { name: 'namespace', manifests: [ns] },
    ...sets.map((set) => {
      const members = nodes.filter((n) => n.set === set);
      const first = members[0] as NodeSpec;
      const vip = topology.spec.pushgateways.find((p) => p.name === set)?.vip;
      return {
        name: set,
        manifests: [
          headlessService(set, members, namespace),
          ...(vip ? [vipService(set, vip.address.port, namespace)] : []),
          disruptionBudget(set, first.role, namespace),
          ...members.flatMap((n) => [...(n.files.length ? [configMap(n, namespace)] : []), statefulSet(n, members, namespace, release)]),
        ],
      };
    }),
  ];
}
