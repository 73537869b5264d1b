import { setTimeout as sleep } from 'node:timers/promises';
import { countNotifications, type AlertFilter, type NotificationRecord } from '../demo/notifications.ts';
import { resolveTarget } from '../doctor/target.ts';
import type { DoctorTarget } from '../doctor/result.ts';
import { ExitError } from '../errors.ts';
import { PrometheusClient } from '../probe/prometheus.ts';
import { startMember } from '../runtime/members.ts';
import { isRunning } from '../runtime/process.ts';
import type { RunState, StateDir } from '../runtime/state.ts';
import type { Topology } from '../topology/topology.ts';
import { memberUrl } from '../probe/client-security.ts';
import { getText } from '../probe/http.ts';

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

  private node(name: string) {
    const n = this.state.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no member ${name} in the running stack`);
    return n;
  }
  address(name: string): string {
    return this.node(name).localAddress;
  }
  prometheus(name: string): PrometheusClient {
    return new PrometheusClient(memberUrl(this.address(name)));
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
  async start(name: string): Promise<void> {
    await startMember(this.stateDir, name);
    const fresh = await this.stateDir.read();
    const n = fresh?.nodes.find((x) => x.name === name);
    if (n) this.node(name).processes.splice(0, Infinity, ...n.processes);
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

  /** Polls until `probe` is true; returns the seconds it took, or undefined on timeout. */
  async waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<number | undefined> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (await probe().catch(() => false)) return (Date.now() - t0) / 1000;
      await sleep(250);
    }
    return undefined;
  }

  /** Raw samples of a selector on a federator over the last `seconds`, as [unix seconds]. */
  async sampleTimes(federator: string, selector: string, seconds: number): Promise<number[]> {
    const url = `${memberUrl(this.address(federator))}/api/v1/query?query=${encodeURIComponent(`${selector}[${Math.ceil(seconds)}s]`)}`;
    const body = JSON.parse(await getText(url)) as { data?: { result?: Array<{ values: Array<[number, string]> }> } };
    return (body.data?.result?.[0]?.values ?? []).map(([t]) => t);
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
