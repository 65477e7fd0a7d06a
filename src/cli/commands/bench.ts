/**
 * `cryptochannel bench`: measures the five figures of the issue (src/bench) and writes them to
 * bench/results.json. Without --url it starts an engine of its own on a free port (apply installs
 * under the real names, and the first apply must meet an empty cluster) and deletes it afterwards;
 * with --url it runs on that cluster, whose first apply is then measured on what is there.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { connect, connectionWarnings, normaliseConnection, type ClusterClient } from '../../cluster';
import { loadContent } from '../../content';
import { startEngine, stopEngine } from '../../engine';
import { PACKAGE_VERSION } from '../../package-info';
import { renderBench } from '../../bench/render';
import { runBench, type BenchResult } from '../../bench/run';
import { generateTelemetry } from '../../generator';
import { contextFor, type CommandContext, type GlobalOptions } from '../context';
import { parseDuration, parseHeap } from '../parsers';

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number of at least 1');
  return n;
}

function parseDays(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number of days');
  return n;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

interface BenchOptions {
  events: number;
  seed: number;
  days: number;
  interval: number;
  liveEvents: number;
  liveSpan: number;
  heap: string;
  out: string;
}

async function withEngine<T>(ctx: CommandContext, cmd: Command, heap: string, work: (client: ClusterClient, engine: { url: string; owned: boolean }) => Promise<T>): Promise<T> {
  const given = cmd.optsWithGlobals<GlobalOptions>().url ?? ctx.env.CRYPTOCHANNEL_URL;
  if (given) {
    const options = ctx.connection();
    for (const warning of connectionWarnings(normaliseConnection(options))) ctx.out.warn(warning);
    const client = await connect(options);
    try {
      return await work(client, { url: normaliseConnection(options).url, owned: false });
    } finally {
      await client.close();
    }
  }
  const port = await freePort();
  const progress = (e: Parameters<Parameters<typeof startEngine>[0]['progress']>[0]) => ctx.out.progress(e);
  const started = await startEngine({ home: ctx.home, flavor: 'opensearch', port, heap, timeoutMs: 180_000, javaHome: ctx.env.JAVA_HOME, env: ctx.env, progress });
  try {
    const client = await connect({ url: started.url });
    try {
      return await work(client, { url: started.url, owned: true });
    } finally {
      await client.close();
    }
  } finally {
    await stopEngine(ctx.home, port, true, progress);
  }
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('measure ingest, correlator, memory, latency and apply costs side by side; writes bench/results.json')
    .addOption(new Option('--events <n>', 'events of the main run (the memory figure also runs 10 x N)').argParser(parsePositive).default(20_000))
    .addOption(new Option('--seed <n>', 'generator seed').argParser(parsePositive).default(1))
    .addOption(new Option('--days <d>', 'days the N events span (10 x N span 10 x as many)').argParser(parseDays).default(1))
    .addOption(new Option('--interval <duration>', "the correlator service's interval for the latency figure").argParser(parseDuration).default(10_000, '10s'))
    .addOption(new Option('--live-events <n>', 'events of the live stream for the latency figure').argParser(parsePositive).default(2000))
    .addOption(new Option('--live-span <duration>', 'how long the live stream lasts').argParser(parseDuration).default(120_000, '120s'))
    .addOption(new Option('--heap <size>', 'Java heap of the engine the bench starts (without --url)').argParser(parseHeap).default('1g'))
    .option('--out <file>', 'where the results go', path.join('bench', 'results.json'))
    .action(async (opts: BenchOptions, cmd: Command) => {
      const ctx = contextFor(cmd);
      const started = Date.now();
      const result: BenchResult = await withEngine(ctx, cmd, opts.heap, (client, engine) =>
        runBench({
          client,
          content: loadContent(),
          packageVersion: PACKAGE_VERSION,
          events: opts.events,
          seed: opts.seed,
          days: opts.days,
          telemetry: generateTelemetry,
          workDir: path.join(os.tmpdir(), `cryptochannel-bench-${process.pid}`),
          engine,
          intervalMs: opts.interval,
          liveEvents: opts.liveEvents,
          liveSpanMs: opts.liveSpan,
          onProgress: (message) => ctx.out.progress({ phase: 'bench', message, elapsedMs: Date.now() - started }),
        }),
      );
      await mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
      await writeFile(opts.out, `${JSON.stringify(result, null, 2)}\n`);
      ctx.out.result(result, (r) => `${renderBench(r)}\nresults: ${opts.out}`);
    });
}
