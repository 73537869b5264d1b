import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { Address } from '../address.ts';
import { Duration } from '../duration.ts';
import { alertsIn, countNotifications, openAlerts, type AlertFilter, type NotificationRecord, type ReceivedAlert } from '../demo/notifications.ts';
import { resolveTarget } from '../doctor/target.ts';
import type { DoctorTarget } from '../doctor/result.ts';
import { ExitError } from '../errors.ts';
import { routeTiming } from '../plan/derived.ts';
import { startDelayOf } from '../plan/alertmanager.ts';
import { WATCHDOG_ALERT } from '../plan/meta-rules.ts';
import { AlertmanagerClient, ownPeerPosition } from '../probe/alertmanager.ts';
import { PrometheusClient } from '../probe/prometheus.ts';
import { PushgatewayClient, vipServedBy } from '../probe/pushgateway.ts';
import { startMember } from '../runtime/members.ts';
import { isRunning } from '../runtime/process.ts';
import type { RunState, StateDir } from '../runtime/state.ts';
import type { PushgatewaySetSpec } from '../topology/schema.ts';
import type { Topology } from '../topology/topology.ts';
import { memberUrl } from '../probe/client-security.ts';
import { stateRelease } from '../runtime/binaries.ts';

/** A locally administered MAC no interface owns: frames sent to it are lost on the bridge. */
const NOWHERE = '02:00:00:00:00:01';

/** What a scenario can do to the running stack, and read from it. */
export class DrillContext {
  static async open(topology: Topology, stateDir: StateDir): Promise<DrillContext> {
    const state = await stateDir.read();
    if (!state?.readyAt) throw new ExitError(2, `no running stack in ${stateDir.root}: \`promha up --detach\` first`);
    return new DrillContext(stateDir, state, await resolveTarget(topology, stateDir));
  }

  private constructor(
    readonly stateDir: StateDir,
    readonly state: RunState,
    readonly target: DoctorTarget,
  ) {}

  get spec() {
    return this.target.topology.spec;
  }

  /** The route's group_interval: within it and a half, a duplicate notification would show. */
  get groupInterval(): Duration {
    return routeTiming(this.spec).groupInterval;
  }

  /**
   * Without peer names a restarted active member sorts after the backup: restart the
   * backup too so it is last again (DESIGN §2). It leaves the cluster gracefully, so the
   * others drop it at once. With peer names (Alertmanager 0.30+) the backup is last
   * anyway. Then wait until every member sees the whole cluster with the backup last.
   * Returns the seconds that took, or undefined on timeout.
   */
  async restartBackup(timeoutMs: number): Promise<number | undefined> {
    const am = this.spec.alertmanagers;
    const members = [...am.members.map((m) => m.name), am.backup.name];
    const client = (m: string) => this.alertmanager(m);
    if (!stateRelease(this.state).clusterPeerName) {
      await this.signal(am.backup.name, 'alertmanager', 'SIGTERM');
      await this.start(am.backup.name);
    }
    return this.waitFor(async () => {
      const all = await Promise.all(members.map(async (m) => (await client(m).status()).cluster));
      const whole = all.every((c) => c.status === 'ready' && c.peers.length === members.length);
      return whole && ownPeerPosition(await client(am.backup.name).status()) === members.length - 1;
    }, timeoutMs);
  }

  private node(name: string) {
    const n = this.state.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no member ${name} in the running stack`);
    return n;
  }
  /** The member's local `host:port`. */
  address(name: string): string {
    return this.node(name).localAddress;
  }
  /** The member's local IP. */
  host(name: string): string {
    return Address.parse(this.address(name)).host;
  }
  /** The member's network namespace (netns mode only). */
  netns(name: string): string {
    const ns = this.node(name).netns;
    if (!ns) throw new Error(`member ${name} has no network namespace: netns mode only`);
    return ns;
  }
  prometheus(name: string): PrometheusClient {
    return new PrometheusClient(memberUrl(this.address(name)));
  }
  alertmanager(name: string): AlertmanagerClient {
    return new AlertmanagerClient(memberUrl(this.address(name)));
  }
  pushgateway(name: string): PushgatewayClient {
    return new PushgatewayClient(memberUrl(this.address(name)));
  }

  /** SIGKILL every process of a member: a lost host, as far as that member goes. */
  async kill(name: string): Promise<void> {
    for (const p of this.node(name).processes)
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    while (this.node(name).processes.some(isRunning)) await sleep(50);
  }
  /** Sends `signal` to one process of a member (e.g. its keepalived) and waits until it is gone. */
  async signal(name: string, processName: string, signal: NodeJS.Signals): Promise<void> {
    const p = this.node(name).processes.find((x) => x.name === `${name}/${processName}`);
    if (!p) throw new Error(`member ${name} runs no ${processName}`);
    try {
      process.kill(p.pid, signal);
    } catch {
      /* already gone */
    }
    while (isRunning(p)) await sleep(50);
  }
  /**
   * Cuts gossip between one member and the others, both ways, while the federators still
   * reach every member (netns mode). A blackhole route would not do: sends to it fail at
   * once, and memberlist then skips the probe instead of suspecting the peer. A permanent
   * neighbour entry pointing nowhere drops packets silently, as a real partition does.
   */
  async partition(member: string, others: readonly string[], action: 'cut' | 'heal'): Promise<void> {
    const pairs = others.flatMap((o) => [
      [this.netns(member), this.host(o)],
      [this.netns(o), this.host(member)],
    ]);
    for (const [ns, host] of pairs)
      if (action === 'cut') await execa('ip', ['-n', ns as string, 'neigh', 'replace', host as string, 'lladdr', NOWHERE, 'dev', 'eth0', 'nud', 'permanent']);
      else await execa('ip', ['-n', ns as string, 'neigh', 'del', host as string, 'dev', 'eth0'], { reject: false });
  }

  /** Where a member keeps its silences and notification log: its --storage.path. */
  storagePath(member: string): string {
    const arg = this.node(member).processes.flatMap((p) => p.args).find((a) => a.startsWith('--storage.path='));
    if (!arg) throw new Error(`${member} runs without --storage.path`);
    return arg.slice('--storage.path='.length);
  }

  /** Starts whatever of a member is not running, with its exact command line. */
  async start(name: string): Promise<void> {
    await startMember(this.stateDir, name);
    const fresh = await this.stateDir.read();
    const n = fresh?.nodes.find((x) => x.name === name);
    if (n) this.node(name).processes.splice(0, Infinity, ...n.processes);
  }

  /** The gateway member the VIP of a set reaches now: it names itself in --web.external-url. */
  async vipHolder(set: PushgatewaySetSpec): Promise<string | undefined> {
    const members = set.members.map((m) => ({ name: m.name, address: this.address(m.name) }));
    return (await vipServedBy(String(set.vip.address), members, { timeoutMs: 1000 })).member;
  }

  async fault(kind: 'exporter' | 'pusher', target: string, body: Record<string, unknown>): Promise<void> {
    const r = await fetch(`http://${this.address(`${kind}-${target}`)}/-/fault`, { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`fault ${kind} ${target}: ${r.status} ${await r.text()}`);
  }

  async notifications(): Promise<NotificationRecord[]> {
    const r = await fetch(this.state.webhookUrl ?? '');
    return (await r.json()) as NotificationRecord[];
  }
  /** Notifications received since `since` with an alert matching `filter`. */
  async count(filter: AlertFilter, since: Date): Promise<number> {
    const records = (await this.notifications()).filter((r) => new Date(r.receivedAt) >= since);
    return countNotifications(records, filter);
  }

  /** Every alert of every notification received since `since`. */
  async alertsSince(since: Date): Promise<ReceivedAlert[]> {
    return alertsIn((await this.notifications()).filter((r) => new Date(r.receivedAt) >= since));
  }

  /**
   * Waits for a clean baseline: every Alertmanager member up long enough to have sent
   * what it held back at its start, no Alertmanager holding an active alert, and every
   * alert the receiver saw firing seen resolved (or no resolution to come). Otherwise a drill's test alert
   * could join an episode the last drill left open, and Alertmanager would rightly not
   * notify it. The watchdog always fires and does not count.
   */
  async settle(timeoutMs: number): Promise<string | undefined> {
    // A restarted Alertmanager holds its notifications until its gossip settles (up to
    // about 16 s), waits for its position, and only then sends what it has grouped:
    // without a start delay, sometimes a notification the cluster already sent (see
    // README, Failover drills).
    // A drill starts once every member has been up long enough for that to be over, so
    // that it never counts an earlier drill's restart.
    // With a start delay (Alertmanager 0.30+) the first flush comes only after it.
    const waits = this.target.peerTimeout.times(this.spec.alertmanagers.members.length);
    const members = [...this.spec.alertmanagers.members, this.spec.alertmanagers.backup].map((m) => m.name);
    const startDelays = members.map((m) => startDelayOf(this.node(m).processes)?.ms ?? 0);
    const quietAfterStart = Math.max(20_000, ...startDelays) + this.groupInterval.ms + waits.ms;
    const upLongEnough = async () => {
      for (const m of members) {
        const started = await this.alertmanager(m).startedAtMs();
        if (started === undefined || Date.now() - started < quietAfterStart) return false;
      }
      return true;
    };
    if ((await this.waitFor(upLongEnough, quietAfterStart + 30_000)) === undefined) return 'an Alertmanager member has not been up long enough';
    // Once no member holds an active alert, every resolution left is sent within a group
    // interval and the members' waits. An alert the receiver still has open after that
    // gets no resolution any more (as after a member's late flush of a firing alert:
    // Alertmanager's at-least-once HA, README), and waiting longer only costs time.
    const resolutionsSentWithin = this.groupInterval.ms + waits.ms + 2000;
    let noneActiveSince: number | undefined;
    let left = '';
    const quiet = async () => {
      for (const m of this.spec.alertmanagers.members) {
        const active = (await this.alertmanager(m.name).alerts()).filter((a) => a.labels['alertname'] !== WATCHDOG_ALERT);
        if (active.length > 0) {
          noneActiveSince = undefined;
          left = `${m.name} holds ${active.map((a) => labelText(a.labels)).join(', ')}`;
          return false;
        }
      }
      noneActiveSince ??= Date.now();
      const open = openAlerts(alertsIn(await this.notifications())).filter((l) => l['alertname'] !== WATCHDOG_ALERT);
      left = `the receiver was last told firing for ${open.map(labelText).join(', ')}`;
      return open.length === 0 || Date.now() - noneActiveSince > resolutionsSentWithin;
    };
    return (await this.waitFor(quiet, timeoutMs)) !== undefined ? undefined : left;
  }

  /** Polls until `probe` is true; returns the seconds it took, or undefined on timeout. */
  async waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<number | undefined> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (await probe().catch(() => false)) return (Date.now() - t0) / 1000;
      await sleep(250);
    }
    return undefined;
  }

  /** Times of the raw samples of a selector on a federator over the `seconds` before `time` (default now). */
  async sampleTimes(federator: string, selector: string, seconds: number, time?: Date): Promise<number[]> {
    const series = await this.prometheus(federator).rawSamples(selector, seconds, time);
    return (series[0]?.values ?? []).map((v) => v.timestamp);
  }

  /**
   * A scraper member has recovered once the federator scrapes it and its own exporter
   * targets are up (a restarted Prometheus lists none until its first discovery tick).
   */
  async scraperRecovered(federator: string, member: string): Promise<boolean> {
    if (!(await this.targetUp(federator, this.address(member)))) return false;
    const own = await this.prometheus(member).targets();
    return own.length > 0 && own.every((t) => t.health === 'up');
  }

  /** Whether a federator sees a target (by local address) up. */
  async targetUp(federator: string, address: string): Promise<boolean> {
    const targets = await this.prometheus(federator).targets();
    return targets.some((t) => new URL(t.scrapeUrl).host === address && t.health === 'up');
  }
}

/** Scrape intervals missing between consecutive samples (gaps longer than 1.5 intervals). */
export function missingIntervals(times: readonly number[], intervalSeconds: number): number {
  let lost = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    if (gap > intervalSeconds * 1.5) lost += Math.round(gap / intervalSeconds) - 1;
  }
  return lost;
}

const labelText = (labels: Readonly<Record<string, string>>) => `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
