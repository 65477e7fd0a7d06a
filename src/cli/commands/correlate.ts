/**
 * `cryptochannel correlate`: the correlator once (`--once`: a cron job or a one-off), as a service
 * (`--every 60s`), over an explicit window (`--once --from T --to T`), or as a backtest that writes
 * nothing. Flags, the environment, signals and the exit code are handled here; the work is done in
 * src/correlator.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { connect, connectionWarnings, kibanaClient, normaliseConnection, type ConnectionOptions } from '../../cluster';
import { kibanaAllowLists } from '../../apply/tune';
import { loadContent, loadDetectionContent, loadRunsFields, validateNamespace, validateTunables, type Content, type Tunables } from '../../content';
import { ANALYTIC_FUNCTIONS } from '../../correlator/analytics';
import { ecsLogger, type CorrelatorLog, type LogLevel } from '../../correlator/logger';
import { RunFailed, type RunSummary, type RuntimeConfig } from '../../correlator/run';
import { runEvery, runOnce } from '../../correlator/schedule';
import type { AnalyticFn, AnalyticId } from '../../correlator/types';
import { PACKAGE_VERSION } from '../../package-info';
import { parseTunableValue, setTunable } from '../../plan/tunables-edit';
import { contextFor, type CommandContext } from '../context';
import { EXIT, UsageError } from '../errors';
import { parseDuration } from '../parsers';
import { table } from '../output';

/**
 * Test-only: names a CommonJS module exporting `analytics` (analytic id → function) that replaces
 * the real analytics, so the runtime's tests can use analytics whose findings they control. Read
 * only when set; a correlator run with it says so on stderr.
 */
export const TEST_ANALYTICS_VAR = 'CRYPTOCHANNEL_TEST_ANALYTICS';

/** ISO 8601 (UTC when no zone is given, as design.md "Time" says) or a duration meaning "that long ago". */
export function parseTime(value: string, now = Date.now()): number {
  const ago = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (ago) return now - Math.round(Number(ago[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 'ms']);
  const text = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value.trim()) ? `${value.trim()}Z` : value.trim();
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new InvalidArgumentError('a time is ISO 8601 (2026-11-28T10:00:00Z; UTC when no zone is given) or a duration ago (90m, 24h, 7d)');
  return t;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError('a whole number from 1 to 1024');
  return n;
}

function parsePageSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('a whole number from 1 to 10000 (the engine max_result_window)');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface CorrelateOptions {
  once?: boolean;
  every?: number;
  from?: number;
  to?: number;
  namespace?: string;
  partitions: number;
  leaseTtl?: number;
  delay: number;
  step: number;
  emitLag?: number;
  pageSize: number;
  start?: number;
  logLevel?: LogLevel;
}

function loadAnalytics(ctx: CommandContext, log: CorrelatorLog): Partial<Record<AnalyticId, AnalyticFn>> {
  const file = ctx.env[TEST_ANALYTICS_VAR];
  if (!file) return ANALYTIC_FUNCTIONS;
  log.warn({ event: { action: 'test-analytics' } }, `${TEST_ANALYTICS_VAR} is set: using the test analytics of ${file}, not cryptochannel's`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(path.resolve(file)) as { analytics: Partial<Record<AnalyticId, AnalyticFn>> }).analytics;
}

/** ECS lines on stderr; --log-level, else CRYPTOCHANNEL_LOG_LEVEL, else info. */
function loggerFor(ctx: CommandContext, opts: CorrelateOptions): CorrelatorLog {
  return ecsLogger({ level: (opts.logLevel ?? (ctx.env.CRYPTOCHANNEL_LOG_LEVEL as LogLevel | undefined) ?? 'info') as LogLevel });
}

/**
 * What a run needs: a connection (retries logged as ECS lines), the content, the run log's fields
 * and the analytics. A connection that fails is logged too before it ends the command.
 */
async function runtimeFor(ctx: CommandContext, log: CorrelatorLog, opts: CorrelateOptions): Promise<RuntimeConfig> {
  if (opts.namespace) {
    const problem = validateNamespace(opts.namespace);
    if (problem) throw new UsageError(`--namespace ${opts.namespace}: ${problem}`);
  }
  const options = ctx.connection();
  for (const warning of connectionWarnings(normaliseConnection(options))) log.warn({ event: { action: 'connection-warning' } }, warning);
  const client = await connect(options, {
    onRetry: (e) => log.warn({ event: { action: 'retry' }, http: { request: { method: e.request.method }, response: { status_code: e.error.status } }, url: { path: e.request.path } }, `retrying ${e.request.method} ${e.request.path} (attempt ${e.attempt}) after: ${e.error.message}`),
  }).catch((err: unknown) => {
    log.error({ event: { action: 'connect', outcome: 'failure' }, err }, `cannot reach the cluster: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  });
  const content = loadContent();
  const every = opts.every;
  const cfg: RuntimeConfig = {
    client,
    content,
    runsFields: loadRunsFields(content.roots.kibanaAssets),
    analytics: loadAnalytics(ctx, log),
    packageVersion: PACKAGE_VERSION,
    hostName: os.hostname(),
    owner: `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    namespace: opts.namespace,
    partitions: opts.partitions,
    // A lease must outlive the gap between two runs of its holder; renewed during long runs too.
    leaseTtlMs: opts.leaseTtl ?? Math.max(60_000, 3 * (every ?? 0)),
    delayMs: opts.delay,
    stepMs: opts.step,
    emitLagMs: opts.emitLag,
    pageSize: opts.pageSize,
    startAt: opts.start,
    log,
    now: Date.now,
    // Exceptions analysts add in Kibana count from the next run (docs/deploy.md, "Tuning from Kibana").
    allowLists: options.kibanaUrl ? allowListsFromKibana(options, content) : undefined,
  };
  return cfg;
}

/**
 * SIGINT and SIGTERM stop the correlator gracefully: the current run is abandoned (its checkpoint
 * stays), leases are handed back, and the command exits 130. A second signal exits at once. main.ts
 * exits on the first SIGINT; its handler is set aside while a correlator runs.
 */
async function withStopSignals<T>(log: CorrelatorLog, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const previous = process.listeners('SIGINT');
  process.removeAllListeners('SIGINT');
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    log.warn({ event: { action: 'stop', reason: signal } }, `${signal}: stopping; the current run is abandoned and its checkpoint left where it was`);
    controller.abort(new Error(`stopped by ${signal}`));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    for (const listener of previous) process.on('SIGINT', listener as NodeJS.SignalsListener);
  }
}

function renderSummary(s: RunSummary): string {
  if (!s.window) return `run ${s.run_id} (${s.mode}): ${s.status}${s.message ? ` - ${s.message}` : ''}`;
  const sources = Object.entries(s.events_by_source).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const lines = [
    `run ${s.run_id} (${s.mode}, namespace ${s.namespace}, partitions ${s.partitions.held.join(',') || '-'} of ${s.partitions.count}): ${s.status}`,
    `window ${s.window.start} .. ${s.window.end} (read from ${s.window.read_from})`,
    `${s.events_read} event(s) read (${sources}); ${s.skipped_malformed} malformed skipped`,
    `${s.findings} candidate(s), ${s.below_threshold} below threshold; ${s.alerts_written} alert(s) written, ${s.duplicates} duplicate(s)`,
    `peak ${s.peak_buffered} event(s) in memory; ${s.duration_ms} ms; checkpoint ${s.checkpoint_moved ? 'moved' : 'unchanged'}`,
  ];
  for (const [reason, n] of Object.entries(s.malformed_reasons)) lines.push(`  skipped ${n}: ${reason}`);
  if (s.alerts) {
    lines.push('', s.alerts.length ? table(s.alerts.map((a) => ({ time: a.timestamp, analytic: a.analytic, score: a.score, exists: a.exists ? 'yes' : 'new', summary: a.summary })), ['time', 'analytic', 'score', 'exists', 'summary']) : 'no alert would be written');
  }
  if (s.error) lines.push(`error: ${s.error}`);
  return lines.join('\n');
}

/** A failed run has printed its summary; its exit code says how it ended. */
function exitFor(err: unknown, ctx: CommandContext): never | void {
  if (!(err instanceof RunFailed)) throw err;
  ctx.out.result(err.summary, renderSummary);
  if (err.summary.status === 'interrupted') process.exitCode = EXIT.interrupted;
  else throw err;
}

function backtestTuning(sets: string[], integrationRoot: string): ((live: Tunables) => Tunables) | undefined {
  if (!sets.length) return undefined;
  const edits = sets.map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${s}: expected KEY=VALUE (the value as YAML, as in tune set)`);
    return { key: s.slice(0, eq), value: parseTunableValue(s.slice(eq + 1)) };
  });
  const apply = (live: Tunables) => validateTunables(integrationRoot, edits.reduce((t, e) => setTunable(t, e.key, e.value), { ...live } as unknown as Record<string, unknown>));
  // A value the schema refuses is the user's typo: say so before connecting, against the defaults.
  try {
    apply(loadContent().tunables);
  } catch (err) {
    throw new UsageError(`--set: ${err instanceof Error ? err.message : String(err)}`);
  }
  return apply;
}

/**
 * `backtest` is a word after `correlate`, not a subcommand: a subcommand could not have its own
 * --from/--to, because the program (whose options are recognised anywhere) hands `--from` to
 * `correlate` when both declare it.
 */
export function correlateCommand(): Command {
  return new Command('correlate')
    .description('join endpoint, network and log events across sources, score them and write alerts (exactly once)')
    .usage('--once [--from T --to T] | --every <duration> | backtest --from T --to T [--set KEY=VALUE]')
    .addArgument(new Argument('[backtest]', 'run the analytics over history with the live (or --set) tuning: writes nothing, moves no checkpoint, reports the alerts it would write').choices(['backtest']))
    .option('--once', 'one run: alerts from the checkpoint up to now minus the ingest delay and the emit lag, then exit')
    .option('--every <duration>', 'run every interval until SIGTERM/SIGINT (a service)', parseDuration)
    .option('--from <time>', 'with --once: an explicit window start (writes alerts, moves no checkpoint); with backtest: required', (v) => parseTime(v))
    .option('--to <time>', 'with --once or backtest: the window end', (v) => parseTime(v))
    .option('--set <key=value>', 'backtest only: try a tuning without changing the live one (repeatable; the value as YAML)', collect, [])
    .option('--namespace <ns>', 'read only this namespace (default: every namespace)')
    .addOption(new Option('--partitions <n>', 'split the work into this many host partitions shared by leases; the same for every process').argParser(parseCount).default(1))
    .option('--lease-ttl <duration>', 'a dead process loses its partitions after this long (default: 3 x --every, at least 60s)', parseDuration)
    .addOption(new Option('--delay <duration>', 'ingest delay: leave events younger than this to the next run').argParser(parseDuration).default(60_000, '60s'))
    .option('--start <time>', 'where a partition with no checkpoint starts (default: the oldest event)', (v) => parseTime(v))
    .addOption(new Option('--page-size <n>', 'events per search page (memory holds one page plus the correlation window)').argParser(parsePageSize).default(1000))
    .addOption(new Option('--step <duration>', 'watermark grid: checkpoints are multiples of it; every process of a scope must use the same').argParser(parseDuration).default(60_000, '60s'))
    .addOption(new Option('--emit-lag <duration>', 'how far alert emission trails the events read (default: CorrelationWindow + 2m clock skew, so an incident is one alert with all its evidence); the same for every process').argParser(parseDuration))
    .addOption(new Option('--log-level <level>', 'ECS log level on stderr (env CRYPTOCHANNEL_LOG_LEVEL)').choices(['debug', 'info', 'warn', 'error', 'silent']))
    .action(async (mode: 'backtest' | undefined, opts: CorrelateOptions & { set: string[] }, cmd: Command) => {
      if ((opts.from === undefined) !== (opts.to === undefined)) throw new UsageError('--from and --to go together');
      if (opts.from !== undefined && opts.to! <= opts.from) throw new UsageError('--to must be after --from');
      if (mode === 'backtest') {
        if (opts.from === undefined) throw new UsageError('backtest needs --from and --to');
        if (opts.once || opts.every !== undefined) throw new UsageError('backtest is a run of its own: no --once or --every');
        return backtest(cmd, opts as CorrelateOptions & { from: number; to: number; set: string[] });
      }
      if (opts.set.length) throw new UsageError('--set tries a tuning in a backtest only: change the live tuning with tune set');
      if (!!opts.once === (opts.every !== undefined)) throw new UsageError('say --once or --every <duration> (or correlate backtest --from T --to T)');
      if (opts.from !== undefined && opts.every !== undefined) throw new UsageError('--from/--to is a one-off window: use it with --once');
      if (opts.every !== undefined && opts.every < 1000) throw new UsageError('--every must be at least 1s');
      const ctx = contextFor(cmd);
      const log = loggerFor(ctx, opts);
      // Signals are ours from before connecting: a stop during start-up still exits 130, checkpoint untouched.
      await withStopSignals(log, async (signal) => {
        const cfg = await runtimeFor(ctx, log, opts);
        try {
          if (opts.once) {
            const window = opts.from !== undefined ? { from: opts.from, to: opts.to! } : undefined;
            try {
              ctx.out.result(await runOnce(cfg, { mode: 'once', window, signal }), renderSummary);
            } catch (err) {
              exitFor(err, ctx);
            }
            return;
          }
          const result = await runEvery(cfg, { intervalMs: opts.every!, signal });
          ctx.out.result(result, (r) => `${r.runs} run(s), ${r.failed} failed; stopped`);
          if (result.interrupted) process.exitCode = EXIT.interrupted;
        } finally {
          await cfg.client.close();
        }
      });
    });
}

async function backtest(cmd: Command, opts: CorrelateOptions & { from: number; to: number; set: string[] }): Promise<void> {
  const ctx = contextFor(cmd);
  const log = loggerFor(ctx, opts);
  const tune = backtestTuning(opts.set, loadContent().roots.integration);
  await withStopSignals(log, async (signal) => {
    const cfg = await runtimeFor(ctx, log, { ...opts, partitions: 1, delay: 0 });
    try {
      ctx.out.result(await runOnce(cfg, { mode: 'backtest', window: { from: opts.from, to: opts.to }, signal, tune }), renderSummary);
    } catch (err) {
      exitFor(err, ctx);
    } finally {
      await cfg.client.close();
    }
  });
}

function allowListsFromKibana(options: ConnectionOptions, content: Content): () => Promise<Partial<Tunables>> {
  const kibana = kibanaClient({ ...options, kibanaUrl: options.kibanaUrl!, space: options.kibanaSpace });
  const detection = loadDetectionContent(content.roots);
  return () => kibanaAllowLists(kibana, detection, new Date());
}
