import { ExitError } from '../errors.ts';
import { describeNetworkError } from '../probe/probe-error.ts';
import { StateDir } from '../runtime/state.ts';

const FAULT_TIMEOUT_MS = 5000;

/**
 * Drives the demo faults: `exporter GROUP down|slow|ok|value N`, `pusher SET value N`.
 */
export async function runFault(stateDir: string, kind: string, target: string, action: string, arg?: string): Promise<string> {
  const state = await new StateDir(stateDir).read();
  if (!state) throw new ExitError(1, 'nothing is running (`promha up` first)');
  if (kind !== 'exporter' && kind !== 'pusher') throw new ExitError(2, `fault kind "${kind}": use exporter or pusher`);
  const name = `${kind}-${target}`;
  const node = state.nodes.find((n) => n.name === name);
  if (!node) {
    const known = state.nodes.filter((n) => n.name.startsWith(`${kind}-`)).map((n) => n.name.slice(kind.length + 1));
    throw new ExitError(2, `no demo ${kind} "${target}"; known: ${known.join(', ')}`);
  }
  let body: Record<string, unknown>;
  if (action === 'value') {
    const v = Number(arg);
    if (arg === undefined || !Number.isFinite(v)) throw new ExitError(2, 'value needs a number, e.g. `promha fault exporter exporters1 value 3`');
    body = { value: v };
  } else if (kind === 'exporter' && (action === 'down' || action === 'ok')) body = { mode: action };
  else if (kind === 'exporter' && action === 'slow') body = { mode: 'slow', delayMs: arg ? Number(arg) * 1000 : 30_000 };
  else throw new ExitError(2, `fault action "${action}": exporters take down, slow [SECONDS], ok, value N; pushers take value N`);
  const url = `http://${node.localAddress}/-/fault`;
  let r: Response;
  try {
    r = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(FAULT_TIMEOUT_MS) });
  } catch (e) {
    throw new ExitError(1, `${name}: ${url}: ${describeNetworkError(e, FAULT_TIMEOUT_MS)}\n    fix: \`promha status\` shows whether it runs; \`promha start ${name}\` or \`promha up\` brings it back`);
  }
  if (!r.ok) throw new ExitError(1, `${name}: ${r.status} ${await r.text()}`);
  return `${name}: ${await r.text()}`;
}
