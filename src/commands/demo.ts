// `promha demo …`: the demo workload `promha up` starts beside the real servers, all in
// one long-running process (`demo workload`); each server also runs alone for tests and
// for trying one out.
import { InvalidArgumentError, type Command } from 'commander';
import type { DemoServer } from '../demo/http.ts';
import { processIo, type CliIo } from '../cli/io.ts';
import { ExitError } from '../errors.ts';

function integer(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('not a non-negative integer');
  return Number(text);
}

/**
 * Starts a server, prints `ready <url>` (the line `promha up` waits for) and keeps it
 * running until SIGTERM or SIGINT, after which it closes and the command returns (exit 0).
 * A failed start (the address in use or not on this host) becomes one line and exit 1.
 */
/**
 * Runs a demo server until SIGTERM or SIGINT. `reload`, when given, answers SIGHUP; its
 * failure is logged and the server goes on as it was.
 */
export async function serveUntilSignal<S extends DemoServer>(label: string, start: () => Promise<S>, io: CliIo = processIo, reload?: (server: S) => Promise<string>): Promise<void> {
  let server: S;
  try {
    server = await start();
  } catch (e) {
    if (e instanceof ExitError) throw e;
    throw new ExitError(1, `${label}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
  process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  // One reload at a time: a second SIGHUP waits for the first.
  let reloading = Promise.resolve();
  const onHangup = () => {
    if (!reload) return;
    reloading = reloading.then(() =>
      reload(server).then(
        (what) => io.stdout(`reloaded: ${what}\n`),
        (e: unknown) => io.stderr(`${label}: reload failed, still serving as before: ${e instanceof Error ? e.message : String(e)}\n`),
      ),
    );
  };
  if (reload) process.on('SIGHUP', onHangup);
  io.stdout(`ready ${server.url}\n`);
  const signal = await stopped;
  // Our handlers go, so that a second signal while closing ends the process the default way.
  process.off('SIGTERM', onSignal).off('SIGINT', onSignal).off('SIGHUP', onHangup);
  await reloading;
  io.stderr(`${label}: ${signal}, closing\n`);
  await server.close();
}

export function registerDemoCommand(cli: Command, io: CliIo = processIo): void {
  const demo = cli.command('demo', { hidden: true }).description('demo workload processes (started by promha up)');

  demo
    .command('exporter')
    .description('an exporter whose value and health /-/fault controls')
    .requiredOption('--listen <host:port>', 'address to serve on')
    .requiredOption('--group <name>', 'value of the group label')
    .action((o: { listen: string; group: string }) => serveUntilSignal('promha demo exporter', async () => (await import('../demo/exporter.ts')).startExporter(o), io));

  demo
    .command('pusher')
    .description('a batch job pushing to a Pushgateway on an interval')
    .requiredOption('--listen <host:port>', 'address to serve /-/fault, /-/stats and /metrics on')
    .requiredOption('--push-url <url>', 'Pushgateway base URL, normally the VIP')
    .requiredOption('--job <name>', 'job name of the push group')
    .requiredOption('--interval-ms <n>', 'milliseconds between pushes', integer)
    .option('--retries <n>', 'retries per push, 200 ms apart', integer, 3)
    .option('--client-dir <dir>', 'CA, client certificate and credentials for a secure gateway (files of `promha up`)')
    .action((o: { listen: string; pushUrl: string; job: string; intervalMs: number; retries: number; clientDir?: string }) =>
      serveUntilSignal(
        'promha demo pusher',
        async () => {
          const { startPusher } = await import('../demo/pusher.ts');
          const { readClientFiles } = await import('../runtime/client-files.ts');
          return startPusher({ ...o, ...(o.clientDir ? { security: await readClientFiles(o.clientDir) } : {}) });
        },
        io,
      ),
    );

  demo
    .command('workload')
    .description('every exporter, pusher and the webhook receiver of a local stack in one process')
    .requiredOption('--spec <file>', 'JSON file listing the servers (written by promha up)')
    .action((o: { spec: string }) =>
      serveUntilSignal(
        'promha demo workload',
        async () => {
          const { readWorkloadSpec, startWorkload } = await import('../demo/workload.ts');
          const { readClientFiles } = await import('../runtime/client-files.ts');
          return startWorkload(await readWorkloadSpec(o.spec), readClientFiles);
        },
        io,
        // `promha apply` rewrites the spec and sends SIGHUP when exporter groups come or go.
        async (workload) => {
          const { readWorkloadSpec } = await import('../demo/workload.ts');
          const r = await workload.reload(await readWorkloadSpec(o.spec));
          return `${r.started} server(s) started, ${r.closed} closed`;
        },
      ),
    );

  demo
    .command('webhook')
    .description('an Alertmanager webhook receiver recording notifications in a JSONL file')
    .requiredOption('--listen <host:port>', 'address to serve on')
    .requiredOption('--file <path>', 'JSONL file of received notifications')
    .action((o: { listen: string; file: string }) => serveUntilSignal('promha demo webhook', async () => (await import('../demo/webhook.ts')).startWebhook(o), io));
}
