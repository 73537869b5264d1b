import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap, Service } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { StatefulSet as StatefulSetModel } from 'kubernetes-models/apps/v1/StatefulSet';
import { ConfigMap as ConfigMapModel } from 'kubernetes-models/v1/ConfigMap';
import { Namespace as NamespaceModel } from 'kubernetes-models/v1/Namespace';
import { Service as ServiceModel } from 'kubernetes-models/v1/Service';
import { PodDisruptionBudget as PodDisruptionBudgetModel } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { parseAllDocuments, parse, stringify } from 'yaml';
import { FAST_RULES, fastTopology, promha, tempProject } from './helpers.ts';
import { kubernetesManifests } from '../src/render/kubernetes/manifests.ts';
import { RELEASES, versionMatches, type Release, type ReleaseName } from '../src/release/release.ts';
import { parseTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/topology.ts';

const topologyOf = (input: object): Topology => ({ ...parseTopology('promha.yaml', stringify(input)), ruleFiles: [] });

/*
 * `promha render --target kubernetes`: manifests checked against the Kubernetes
 * OpenAPI schema (kubernetes-models' validators), compared with committed golden files
 * (UPDATE_GOLDEN=1 rewrites them, and fails instead of comparing), and the configs
 * inside checked by promtool and amtool.
 */

const GOLDEN = path.resolve(import.meta.dirname, 'golden/kubernetes');

type Doc = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> } } & Record<string, unknown>;

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': NamespaceModel,
  'v1/Service': ServiceModel,
  'v1/ConfigMap': ConfigMapModel,
  'apps/v1/StatefulSet': StatefulSetModel,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudgetModel,
};

function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  assert.ok(Model, `no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc as never).validate();
}

async function render(dir: string, out: string): Promise<Doc[]> {
  const r = await promha(['render', '--target', 'kubernetes', '--out', out, '--namespace', 'monitoring'], dir);
  assert.equal(r.exitCode, 0, r.stderr);
  const docs: Doc[] = [];
  for (const f of (await readdir(out)).filter((x) => x.endsWith('.yaml') && x !== 'kustomization.yaml').sort())
    for (const d of parseAllDocuments(await readFile(path.join(out, f), 'utf8'))) docs.push(d.toJS() as Doc);
  return docs;
}

/** Writes each ConfigMap's files at the paths its StatefulSet mounts them, as the pod sees them. */
async function mountConfigs(docs: Doc[], root: string): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const s of docs.filter((d) => d.kind === 'StatefulSet') as unknown as StatefulSet[]) {
    const volume = s.spec?.template.spec?.volumes?.find((v) => v.configMap);
    if (!volume?.configMap) continue;
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === volume.configMap?.name) as unknown as ConfigMap;
    const dir = path.join(root, s.metadata?.name ?? '');
    for (const item of volume.configMap.items ?? []) {
      await mkdir(path.dirname(path.join(dir, item.path)), { recursive: true });
      await writeFile(path.join(dir, item.path), cm.data?.[item.key] ?? '');
    }
    dirs.set(s.metadata?.name ?? '', dir);
  }
  return dirs;
}

async function tool(cmd: string, args: string[]): Promise<void> {
  const r = await execa(cmd, args, { reject: false });
  assert.equal(r.exitCode, 0, `${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
}

describe('Kubernetes manifests of the seed topology', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let out: string;
  let docs: Doc[];
  const all = <T>(kind: string) => docs.filter((d) => d.kind === kind) as unknown as T[];
  const sts = (name: string) => all<StatefulSet>('StatefulSet').find((s) => s.metadata?.name === name) as StatefulSet;

  before(async () => {
    project = await tempProject({});
    assert.equal((await promha(['init'], project.dir)).exitCode, 0);
    out = path.join(project.dir, 'k8s');
    docs = await render(project.dir, out);
  });
  after(() => project.cleanup());

  it('match the golden files', async () => {
    // The render marker (.promha-render) lists digests of these files: not a golden file itself.
    const files = (await readdir(out)).filter((f) => f !== '.promha-render').sort();
    // Updating is no comparison (the files would match what was just written): it writes
    // them, drops the ones render no longer writes, and fails so that no run passes with it.
    if (process.env['UPDATE_GOLDEN'] === '1') {
      await mkdir(GOLDEN, { recursive: true });
      for (const f of await readdir(GOLDEN)) if (!files.includes(f)) await rm(path.join(GOLDEN, f));
      for (const f of files) await writeFile(path.join(GOLDEN, f), await readFile(path.join(out, f), 'utf8'));
      assert.fail(`UPDATE_GOLDEN=1 rewrote test/golden/kubernetes (${files.length} files), so nothing was compared: review \`git diff test/golden/kubernetes\`, then run again without UPDATE_GOLDEN`);
    }
    assert.deepEqual(files, (await readdir(GOLDEN)).sort());
    for (const f of files) assert.equal(await readFile(path.join(out, f), 'utf8'), await readFile(path.join(GOLDEN, f), 'utf8'), `${f} differs from test/golden/kubernetes (UPDATE_GOLDEN=1 to accept)`);
  });

  it('pass the Kubernetes schema', () => {
    // Namespace; per set its Services, budget, and per member a StatefulSet and (with config files) a ConfigMap.
    assert.equal(docs.length, 1 + 4 * (2 + 4) + 2 * (3 + 2) + (2 + 4) + (2 + 6));
    for (const d of docs) validate(d);
  });

  it('the schema check catches a broken manifest', () => {
    const broken = structuredClone(docs.find((d) => d.kind === 'StatefulSet')) as unknown as StatefulSet;
    (broken.spec?.template.spec?.containers[0]?.ports?.[0] as { containerPort: unknown }).containerPort = 'http';
    assert.throws(() => validate(broken as unknown as Doc), /containerPort must be integer/);
  });

  it('keeps the two members of a set off the same node, and the budget allows one down', () => {
    const sets = all<StatefulSet>('StatefulSet');
    assert.equal(sets.length, 8 + 4 + 2 + 3);
    for (const s of sets) {
      const set = s.metadata?.labels?.['promha.io/set'];
      assert.deepEqual(s.spec?.template.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution, [
        { labelSelector: { matchLabels: { 'promha.io/set': set } }, topologyKey: 'kubernetes.io/hostname' },
      ]);
      assert.equal(s.spec?.replicas, 1);
      assert.equal(s.spec?.serviceName, set);
    }
    const pdbs = all<PodDisruptionBudget>('PodDisruptionBudget');
    assert.deepEqual(
      pdbs.map((p) => [p.metadata?.name, p.spec?.minAvailable, p.spec?.maxUnavailable, p.spec?.selector?.matchLabels]),
      [
        ['alertmanager1', 1, undefined, { 'promha.io/set': 'alertmanager1', 'promha.io/backup': 'false' }],
        ['federator1', 1, undefined, { 'promha.io/set': 'federator1' }],
        ['pushgateway1', 1, undefined, { 'promha.io/set': 'pushgateway1' }],
        ['pushgateway2', 1, undefined, { 'promha.io/set': 'pushgateway2' }],
        ...[1, 2, 3, 4].map((i) => [`scraper${i}`, 1, undefined, { 'promha.io/set': `scraper${i}` }]),
      ],
    );
  });

  it('scrapers use an emptyDir; federators and Alertmanagers claim volumes', () => {
    const scraper = sts('scraper1-1');
    assert.deepEqual(scraper.spec?.template.spec?.volumes?.find((v) => v.name === 'data'), { name: 'data', emptyDir: {} });
    assert.equal(scraper.spec?.volumeClaimTemplates, undefined);
    for (const name of ['federator1-1', 'federator1-2', 'alertmanager1-1', 'alertmanager1-3']) {
      const s = sts(name);
      assert.equal(s.spec?.volumeClaimTemplates?.[0]?.metadata?.name, 'data', name);
      assert.equal(s.spec?.template.spec?.volumes?.find((v) => v.name === 'data'), undefined, name);
      assert.equal(s.spec?.template.spec?.containers[0]?.volumeMounts?.find((m) => m.name === 'data')?.mountPath, '/var/lib/promha');
    }
    // A pushgateway has neither config nor storage (and no keepalived files: the VIP is a Service).
    assert.equal(sts('pushgateway1-1').spec?.template.spec?.containers[0]?.volumeMounts?.length, 0);
    assert.equal(all<ConfigMap>('ConfigMap').find((c) => c.metadata?.name === 'pushgateway1-1-config'), undefined);
  });

  it('has headless Services per set and a ClusterIP Service as each pushgateway VIP', () => {
    const services = all<Service>('Service');
    for (const set of ['scraper1', 'scraper4', 'pushgateway1', 'federator1', 'alertmanager1']) {
      const s = services.find((x) => x.metadata?.name === set);
      assert.equal(s?.spec?.clusterIP, 'None', set);
      assert.deepEqual(s?.spec?.selector, { 'promha.io/set': set });
    }
    for (const set of ['pushgateway1', 'pushgateway2']) {
      const vip = services.find((x) => x.metadata?.name === `${set}-vip`);
      assert.equal(vip?.spec?.type, 'ClusterIP');
      assert.deepEqual(vip?.spec?.selector, { 'promha.io/set': set });
      assert.equal(vip?.spec?.sessionAffinity, 'ClientIP');
      assert.deepEqual(vip?.spec?.ports, [{ name: 'http', port: 9091, targetPort: 'http' }]);
    }
  });

  it('plans the configs for in-cluster addresses: federators reach every member directly, the backup gets no alerts', () => {
    const cm = all<ConfigMap>('ConfigMap').find((c) => c.metadata?.name === 'federator1-1-config');
    const config = parse(cm?.data?.['prometheus.yml'] ?? '') as {
      alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    assert.deepEqual(config.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets)), [
      'alertmanager1-1-0.alertmanager1.monitoring.svc:9093',
      'alertmanager1-2-0.alertmanager1.monitoring.svc:9093',
    ]);
    const targets = config.scrape_configs.flatMap((j) => j.static_configs.flatMap((s) => s.targets));
    assert.ok(targets.includes('scraper3-2-0.scraper3.monitoring.svc:9090'));
    assert.ok(targets.includes('pushgateway2-1-0.pushgateway2.monitoring.svc:9091'));
    assert.ok(!targets.some((t) => t.includes('-vip')), 'no VIP among the federation targets');
    const backup = sts('alertmanager1-3').spec?.template.spec?.containers[0]?.args ?? [];
    assert.ok(backup.includes('--cluster.peer=alertmanager1-1-0.alertmanager1.monitoring.svc:9094'));
    assert.ok(backup.includes('--cluster.advertise-address=$(POD_IP):9094'));
    // The backup starts after the active members, so it holds the last peer position.
    const wait = sts('alertmanager1-3').spec?.template.spec?.initContainers ?? [];
    assert.equal(wait.length, 1);
    assert.match(wait[0]?.command?.join(' ') ?? '', /http:\/\/alertmanager1-1-0\.alertmanager1\.monitoring\.svc:9093\/-\/healthy http:\/\/alertmanager1-2-0\.alertmanager1\.monitoring\.svc:9093\/-\/healthy;/);
    assert.equal(sts('alertmanager1-1').spec?.template.spec?.initContainers, undefined);
    const backupConfig = all<ConfigMap>('ConfigMap').find((c) => c.metadata?.name === 'alertmanager1-3-config')?.data?.['alertmanager.yml'] ?? '';
    assert.match(backupConfig, /promha-backup-blackhole/);
  });

  it('runs the upstream images of the tested versions with the planned flags', () => {
    const c = sts('pushgateway1-2').spec?.template.spec?.containers[0];
    assert.equal(c?.image, 'quay.io/prometheus/pushgateway:v1.5.1');
    assert.deepEqual(c?.args, ['--web.listen-address=:9091', '--web.external-url=http://pushgateway1-2-0.pushgateway1.monitoring.svc:9091/', '--persistence.file=', '--web.enable-admin-api']);
    assert.equal(sts('federator1-1').spec?.template.spec?.containers[0]?.image, 'quay.io/prometheus/prometheus:v2.42.0');
    assert.equal(sts('alertmanager1-1').spec?.template.spec?.containers[0]?.image, 'quay.io/prometheus/alertmanager:v0.25.0');
  });
});

describe('Kubernetes manifests per release', () => {
  // In process: the images and the release's flags differ between releases.
  const images = (release: Release) =>
    new Set(
      kubernetesManifests(topologyOf(fastTopology()), 'monitoring', release)
        .flatMap((g) => g.manifests)
        .flatMap((m) => (m.kind === 'StatefulSet' ? [...(m.spec?.template.spec?.initContainers ?? []), ...(m.spec?.template.spec?.containers ?? [])] : []))
        .map((c) => c.image),
    );
  const table: Array<[ReleaseName, string[]]> = [
    ['bookworm', ['quay.io/prometheus/prometheus:v2.42.0', 'quay.io/prometheus/alertmanager:v0.25.0', 'quay.io/prometheus/pushgateway:v1.5.1']],
    ['trixie', ['quay.io/prometheus/prometheus:v2.53.3', 'quay.io/prometheus/alertmanager:v0.28.1', 'quay.io/prometheus/pushgateway:v1.11.0']],
    ['sid', ['quay.io/prometheus/prometheus:v3.5.3', 'quay.io/prometheus/alertmanager:v0.33.1', 'quay.io/prometheus/pushgateway:v1.11.2']],
  ];
  for (const [name, want] of table)
    it(`${name}: every container runs the upstream image of the release's version`, () => {
      assert.deepEqual([...images(RELEASES[name])].sort(), [...want].sort());
      // Each image is of the line the release's packages ship.
      for (const [component, line] of [['prometheus', RELEASES[name].components.prometheus.version], ['alertmanager', RELEASES[name].components.alertmanager.version], ['pushgateway', RELEASES[name].components.pushgateway.version]] as const)
        assert.ok(versionMatches(RELEASES[name].images[component].slice(1), line), `${name} ${component}`);
    });

  it("the Alertmanagers and federators get the release's flags and fields, as on hosts", () => {
    const args = (release: Release) =>
      kubernetesManifests(topologyOf(fastTopology()), 'monitoring', release)
        .flatMap((g) => g.manifests)
        .flatMap((m) => (m.kind === 'StatefulSet' ? (m.spec?.template.spec?.containers ?? []) : []))
        .flatMap((c) => c.args ?? []);
    const count = (release: Release, prefix: string) => args(release).filter((a) => a.startsWith(prefix)).length;
    assert.deepEqual([count(RELEASES.bookworm, '--cluster.label='), count(RELEASES.trixie, '--cluster.label='), count(RELEASES.sid, '--cluster.label=')], [0, 3, 3]);
    assert.deepEqual([count(RELEASES.bookworm, '--cluster.peer-name='), count(RELEASES.trixie, '--cluster.peer-name='), count(RELEASES.sid, '--cluster.peer-name=')], [0, 0, 3]);
  });
});

describe('configs inside the Kubernetes manifests pass promtool and amtool', () => {
  let project: Awaited<ReturnType<typeof tempProject>>;
  let dirs: Map<string, string>;
  before(async () => {
    project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    const docs = await render(project.dir, path.join(project.dir, 'k8s'));
    for (const d of docs) validate(d);
    dirs = await mountConfigs(docs, path.join(project.dir, 'mounted'));
  });
  after(() => project.cleanup());

  it('promtool check config: every scraper and federator, with their rule files', async () => {
    const prometheus = [...dirs].filter(([name]) => /^(scraper|federator)/.test(name));
    assert.equal(prometheus.length, 6);
    for (const [, dir] of prometheus) await tool('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')]);
    const rules = await readdir(path.join(dirs.get('federator1-1') ?? '', 'rules'));
    assert.deepEqual(rules.sort(), ['demo.yml', 'promha-meta.rules.yml']);
  });

  it('amtool check-config: every Alertmanager, the backup included', async () => {
    const ams = [...dirs].filter(([name]) => name.startsWith('alertmanager'));
    assert.equal(ams.length, 3);
    for (const [, dir] of ams) await tool('amtool', ['check-config', path.join(dir, 'alertmanager.yml')]);
  });
});

describe('render --target kubernetes: bad input', () => {
  it('refuses a namespace Kubernetes would refuse, with the fix', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    try {
      const r = await promha(['render', '--target', 'kubernetes', '--out', 'k8s', '--namespace', 'Monitoring_1'], project.dir);
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, /--namespace "Monitoring_1" is not a Kubernetes namespace name\n\s+fix: /);
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
      await assert.rejects(readdir(path.join(project.dir, 'k8s')), 'nothing written');
    } finally {
      await project.cleanup();
    }
  });

  it('refuses a target it does not know', async () => {
    const project = await tempProject({ 'promha.yaml': fastTopology(), 'rules/demo.yml': FAST_RULES });
    try {
      const r = await promha(['render', '--target', 'nomad', '--out', 'out'], project.dir);
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, /Allowed choices are hosts, kubernetes/);
    } finally {
      await project.cleanup();
    }
  });
});
