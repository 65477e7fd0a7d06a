/**
 * One correlator run: live tunables and threat intel; the partitions this process leases and their
 * checkpoints; the window [checkpoint - lookback, now - ingest delay) read page by page in time
 * order into the sliding correlator; alerts written as they come; then, and only then, the
 * checkpoints moved; and a summary in the run log.
 *
 * A run that fails or is interrupted leaves every checkpoint where it was. What it wrote stays:
 * the next run finds the same alerts (same ids) and counts them as duplicates.
 */
import { randomUUID } from 'node:crypto';
import { ClusterError, encodePath, refresh, searchAllShards, type ClusterClient } from '../cluster';
import { readLiveTunables } from '../apply/deploy';
import { validateTunables, type Content, type RunsFields, type Tunables } from '../content';
import type { AlertDocument } from './alert';
import { ensureStateIndex, readCheckpoint, scopeOf, writeCheckpoint, type Checkpoint } from './checkpoint';
import { CLOCK_SKEW_MS, SlidingCorrelator } from './correlate';
import { GridFeeder, gridCeil, gridFloor } from './feeder';
import { durationMs } from './fields';
import { loadIntel } from './intel';
import type { Leases } from './lease';
import type { CorrelatorLog } from './logger';
import { alertPartition, newestEvidence } from './partition';
import { preflight, readEvents, sourceTargets } from './reader';
import { recordRun } from './runs';
import { emptyWriteResult, writeAlerts } from './writer';
import type { AnalyticFn, AnalyticId } from './types';

export interface RuntimeConfig {
  client: ClusterClient;
  content: Content;
  runsFields: RunsFields;
  analytics: Partial<Record<AnalyticId, AnalyticFn>>;
  packageVersion: string;
  /** This machine's name, for the run log. */
  hostName: string;
  /** This process's identity in leases: unique per process. */
  owner: string;
  /** Read only this namespace's streams (and keep checkpoints and leases of its own). */
  namespace?: string;
  /** How many partitions the scope is split into; every process of a scope must use the same number. */
  partitions: number;
  leaseTtlMs: number;
  /** Events younger than this are left to the next run: shippers and refreshes lag. */
  delayMs: number;
  /**
   * The allow-lists analysts keep as Kibana exception lists, when a Kibana is named: laid over the
   * live tunables at the start of each run.
   */
  allowLists?: () => Promise<Partial<Tunables>>;
  /** The watermark grid (see feeder.ts); checkpoints are multiples of it. Same for every process. */
  stepMs: number;
  /**
   * How far the emit watermark trails the events read (feeder.ts); default the correlation window
   * plus clock skew, so each incident is one alert with all its evidence. Same for every process.
   */
  emitLagMs?: number;
  pageSize: number;
  /** Where a partition that has no checkpoint yet starts; default: the oldest event. */
  startAt?: number;
  log: CorrelatorLog;
  now: () => number;
  stateIndex?: string;
  intelIndex?: string;
}

export type RunMode = 'once' | 'every' | 'backtest';

export interface RunRequest {
  mode: RunMode;
  /** An explicit window (backtest, `--once --from --to`): every partition, no lease, no checkpoint. */
  window?: { from: number; to: number };
  /** Leases of this process (once / every without a window). */
  leases?: Leases;
  signal?: AbortSignal;
  /** A tuning to try instead of the live one (backtest --set). */
  tune?: (live: Tunables) => Tunables;
}

export type RunStatus = 'ok' | 'idle' | 'failed' | 'interrupted';

export interface BacktestAlert {
  id: string;
  analytic: string;
  score: number;
  timestamp: string;
  host?: unknown;
  summary: string;
  /** Already in the cluster (written by an earlier run). */
  exists: boolean;
  doc: Record<string, unknown>;
}

export interface RunSummary {
  run_id: string;
  mode: RunMode;
  status: RunStatus;
  namespace: string;
  partitions: { count: number; held: number[] };
  started_at: string;
  /** start..end: the alerts' newest-evidence times this run covered (end = the new checkpoint); read_from..read_to: the events it read. */
  window?: { start: string; end: string; read_from: string; read_to: string };
  events_read: number;
  events_by_source: Record<string, number>;
  skipped_malformed: number;
  malformed_reasons: Record<string, number>;
  findings: number;
  alerts_written: number;
  duplicates: number;
  below_threshold: number;
  write_failures: number;
  peak_buffered: number;
  duration_ms: number;
  lag_ms?: number;
  checkpoint_moved: boolean;
  tunables_revision: number;
  intel: { ja3: number; cert_sha1: number };
  alerts?: BacktestAlert[];
  message?: string;
  error?: string;
}

export class RunFailed extends Error {
  constructor(
    message: string,
    readonly summary: RunSummary,
  ) {
    super(message);
    this.name = 'RunFailed';
  }
}

/** Lookback of a resumed run: what the correlator keeps in its buffer (correlate.ts). */
export function lookbackMs(tunables: Tunables): number {
  return durationMs(tunables.CorrelationWindow) + CLOCK_SKEW_MS;
}

/** An analytic that throws names itself: a bug in one must be found, not read as "no alerts". */
function guarded(analytics: Partial<Record<AnalyticId, AnalyticFn>>): Partial<Record<AnalyticId, AnalyticFn>> {
  return Object.fromEntries(
    Object.entries(analytics).map(([id, fn]) => [
      id,
      ((events, ctx) => {
        try {
          return fn!(events, ctx);
        } catch (err) {
          throw new Error(`analytic ${id} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }) as AnalyticFn,
    ]),
  );
}

const ALERTS_TEMPLATE = 'logs-cryptochannel.alerts';

/**
 * The correlator writes into a data stream whose template `apply` installs; it does not install it
 * (its least-privilege role cannot manage templates). Without the template, `create` would make a
 * plain index with guessed mappings, so the run stops first. A role that may not read templates
 * (403) is let through: the writer still refuses a write that did not land in a data stream.
 */
async function requireAlertsTemplate(client: ClusterClient): Promise<void> {
  const res = await client.request({ method: 'GET', path: encodePath('_index_template', ALERTS_TEMPLATE), ignore: [404, 403] });
  if (res.status === 404) throw new Error(`the alerts index template ${ALERTS_TEMPLATE} is not installed: run \`cryptochannel apply\` first`);
}

async function liveTunables(cfg: RuntimeConfig, req: RunRequest): Promise<{ tunables: Tunables; revision: number }> {
  const live = await readLiveTunables(cfg.client, cfg.content);
  const fromKibana = cfg.allowLists ? await cfg.allowLists() : {};
  const tunables = validateTunables(cfg.content.roots.integration, { ...(live.tunables ?? cfg.content.tunables), ...fromKibana });
  const revision = (live.document as { revision?: number } | undefined)?.revision ?? 0;
  return { tunables: req.tune ? req.tune(tunables) : tunables, revision };
}

async function existingIds(client: ClusterClient, ids: string[], namespace?: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const { body } = await searchAllShards<{ hits: { hits: Array<{ _id: string }> } }>(client, {
      path: `/logs-cryptochannel.alerts-${namespace ?? '*'}/_search`,
      query: { allow_no_indices: true, ignore_unavailable: true },
      body: { size: chunk.length, _source: false, query: { ids: { values: chunk } } },
    });
    for (const h of body.hits.hits) found.add(h._id);
  }
  return found;
}

function toBacktestAlert(a: AlertDocument, exists: boolean): BacktestAlert {
  const alert = (a.doc.cryptochannel as { alert: { analytic: string; score: number } }).alert;
  return { id: a._id, analytic: alert.analytic, score: alert.score, timestamp: String(a.doc['@timestamp']), host: a.doc.host, summary: String(a.doc.message ?? ''), exists, doc: a.doc };
}

/** The run summary as the run log's fields (kibana-assets/fields/runs.yml). */
export function runLogValues(s: RunSummary, cfg: Pick<RuntimeConfig, 'packageVersion' | 'hostName'>): Record<string, unknown> {
  const values: Record<string, unknown> = {
    '@timestamp': s.started_at,
    'cryptochannel.run.id': s.run_id,
    'cryptochannel.run.mode': s.mode,
    'cryptochannel.run.status': s.status,
    'cryptochannel.run.namespace': s.namespace,
    'cryptochannel.run.partitions': s.partitions.held.map((p) => `${p}/${s.partitions.count}`),
    'cryptochannel.run.partition_count': s.partitions.count,
    'cryptochannel.run.window_start': s.window?.start,
    'cryptochannel.run.window_end': s.window?.end,
    'cryptochannel.run.read_from': s.window?.read_from,
    'cryptochannel.run.read_to': s.window?.read_to,
    'cryptochannel.run.duration_ms': s.duration_ms,
    'cryptochannel.run.lag_ms': s.lag_ms,
    'cryptochannel.run.events_read': s.events_read,
    'cryptochannel.run.skipped_malformed': s.skipped_malformed,
    'cryptochannel.run.candidates': s.findings,
    'cryptochannel.run.alerts_written': s.alerts_written,
    'cryptochannel.run.duplicates': s.duplicates,
    'cryptochannel.run.below_threshold': s.below_threshold,
    'cryptochannel.run.write_failures': s.write_failures,
    'cryptochannel.run.peak_buffered': s.peak_buffered,
    'cryptochannel.run.checkpoint_moved': s.checkpoint_moved,
    'cryptochannel.run.tunables_revision': s.tunables_revision,
    'cryptochannel.run.error': s.error,
    'cryptochannel.run.correlator_version': cfg.packageVersion,
    'cryptochannel.run.host': cfg.hostName,
  };
  for (const [source, n] of Object.entries(s.events_by_source)) values[`cryptochannel.run.source_events.${source}`] = n;
  return values;
}

export async function runCorrelation(cfg: RuntimeConfig, req: RunRequest): Promise<RunSummary> {
  const { client, log } = cfg;
  const started = cfg.now();
  const runId = randomUUID();
  const scope = scopeOf(cfg.namespace);
  const s: RunSummary = {
    run_id: runId,
    mode: req.mode,
    status: 'ok',
    namespace: scope,
    partitions: { count: req.window ? 1 : cfg.partitions, held: [] },
    started_at: new Date(started).toISOString(),
    events_read: 0,
    events_by_source: {},
    skipped_malformed: 0,
    malformed_reasons: {},
    findings: 0,
    alerts_written: 0,
    duplicates: 0,
    below_threshold: 0,
    write_failures: 0,
    peak_buffered: 0,
    duration_ms: 0,
    checkpoint_moved: false,
    tunables_revision: 0,
    intel: { ja3: 0, cert_sha1: 0 },
  };
  const finish = () => {
    s.duration_ms = cfg.now() - started;
    if (s.window) s.lag_ms = cfg.now() - Date.parse(s.window.end);
  };
  try {
    await execute(cfg, req, s, started);
    finish();
  } catch (err) {
    s.status = req.signal?.aborted ? 'interrupted' : 'failed';
    s.error = req.signal?.aborted ? 'interrupted: the run was abandoned and the checkpoint left where it was' : describe(err);
    finish();
    log.error({ event: { action: 'run-end', outcome: 'failure' }, cryptochannel: { run: summaryLog(s) }, ...(req.signal?.aborted ? {} : { err }) }, `run ${runId} ${s.status}: ${s.error}`);
    // Best effort: an engine that cannot be reached cannot be told either.
    if (req.mode !== 'backtest') await recordRun(client, cfg.runsFields, runId, runLogValues(s, cfg)).catch(() => undefined);
    throw new RunFailed(s.error, s);
  }
  const what = s.window
    ? `${s.events_read} event(s) read, ${s.alerts_written} alert(s) written, ${s.duplicates} duplicate(s), ${s.below_threshold} below threshold, ${s.skipped_malformed} malformed skipped`
    : (s.message ?? 'nothing to do');
  log.info({ event: { action: 'run-end', outcome: 'success' }, cryptochannel: { run: summaryLog(s) } }, `run ${runId} ${s.status}: ${what}`);
  // Runs that read nothing (idle standby, nothing new yet) are logged, not recorded: a standby
  // process ticking every minute would otherwise fill the run log with empty runs.
  if (req.mode !== 'backtest' && s.window) await recordRun(client, cfg.runsFields, runId, runLogValues(s, cfg));
  return s;
}

async function execute(cfg: RuntimeConfig, req: RunRequest, s: RunSummary, started: number): Promise<void> {
  const { client, log } = cfg;
  const runId = s.run_id;
  const scope = s.namespace;
  const { tunables, revision } = await liveTunables(cfg, req);
  s.tunables_revision = revision;
  const intel = await loadIntel(client, cfg.intelIndex, req.signal);
  s.intel = { ja3: intel.ja3, cert_sha1: intel.certSha1 };
  if (!intel.present) log.warn({ event: { action: 'intel-missing' } }, 'threat-intel index not found: scoring without threat intel (run cryptochannel apply or intel load)');
  if (req.mode !== 'backtest') await requireAlertsTemplate(client);

  const targets = sourceTargets(cfg.namespace);
  const lookback = lookbackMs(tunables);
  const checkpoints = new Map<number, Checkpoint>();
  const lag = gridCeil(cfg.emitLagMs ?? lookback, cfg.stepMs);
  let held: number[];
  let emitFrom: number;
  let end: number;
  let initial: number | undefined;

  if (req.window) {
    held = [0];
    emitFrom = gridFloor(req.window.from, cfg.stepMs);
    end = gridCeil(req.window.to, cfg.stepMs);
  } else {
    if (!req.leases) throw new Error('a run without an explicit window needs leases');
    await ensureStateIndex(client, cfg.stateIndex);
    held = await req.leases.balance();
    s.partitions.held = held;
    if (!held.length) {
      s.status = 'idle';
      s.message = `every partition of scope ${scope} is leased by another correlator`;
      return;
    }
    for (const p of held) checkpoints.set(p, await readCheckpoint(client, scope, p, cfg.partitions, cfg.stateIndex));
    // Events are read up to now - delay; alerts are emitted (and the checkpoint moved) up to that minus the lag.
    end = gridFloor(cfg.now() - cfg.delayMs, cfg.stepMs) - lag;
    if ([...checkpoints.values()].some((c) => c.time === undefined)) {
      if (cfg.startAt !== undefined) initial = gridFloor(cfg.startAt, cfg.stepMs);
      else {
        const oldest = await preflight(client, targets, { from: 0, to: end + lag }, req.signal);
        if (oldest.earliest !== undefined) initial = gridFloor(oldest.earliest, cfg.stepMs);
      }
    }
    const starts = held.map((p) => checkpoints.get(p)!.time ?? initial).filter((t): t is number => t !== undefined);
    if (!starts.length) {
      s.message = 'no events yet and no checkpoint: nothing to correlate';
      return;
    }
    emitFrom = Math.min(...starts);
  }
  s.partitions.held = held;
  if (emitFrom >= end) {
    s.message = 'the checkpoint is already at now - delay - emit lag: nothing new to emit';
    return;
  }
  const readFrom = emitFrom - lookback;
  const readTo = end + lag;
  s.window = { start: new Date(emitFrom).toISOString(), end: new Date(end).toISOString(), read_from: new Date(readFrom).toISOString(), read_to: new Date(readTo).toISOString() };
  log.info(
    { event: { action: 'run-start' }, cryptochannel: { run: { id: runId, mode: req.mode, namespace: scope, partitions: held, window_start: s.window.start, window_end: s.window.end } } },
    `run ${runId}: correlating ${s.window.start} .. ${s.window.end}`,
  );

  const heldSet = new Set(held);
  const startOf = (p: number) => (req.window ? emitFrom : (checkpoints.get(p)?.time ?? initial ?? Number.POSITIVE_INFINITY));
  const alertCtx = { runId, packageVersion: cfg.packageVersion, scoreThreshold: tunables.ScoreThreshold, now: new Date(started).toISOString() };
  const correlator = new SlidingCorrelator(guarded(cfg.analytics), { tunables, intel: intel.lookup }, alertCtx, emitFrom);
  const feeder = new GridFeeder(correlator, { stepMs: cfg.stepMs, emitFrom, lagMs: lag, windowMs: lookback });
  const written = emptyWriteResult();
  const backtest: AlertDocument[] = [];
  let due: AlertDocument[] = [];
  const accept = (alerts: AlertDocument[]) => {
    for (const a of alerts) {
      const p = req.window ? 0 : alertPartition(a, cfg.partitions);
      // Another partition's alert, or one an earlier run of this partition already covered.
      if (!heldSet.has(p) || newestEvidence(a) < startOf(p)) continue;
      (req.mode === 'backtest' ? backtest : due).push(a);
    }
  };
  const flushWrites = async () => {
    if (!due.length) return;
    const batch = due;
    due = [];
    await writeAlerts(client, batch, written, req.signal);
    // Kept current, so that a run failing later still reports (and records) what it wrote.
    s.alerts_written = written.written;
    s.duplicates = written.duplicates;
    log.debug(
      { event: { action: 'alerts-written' }, cryptochannel: { run: { id: runId, alerts_written: written.written, duplicates: written.duplicates } } },
      `run ${runId}: ${written.written} alert(s) written, ${written.duplicates} duplicate(s) so far`,
    );
  };
  let lastRenew = cfg.now();
  const renewIfDue = async (force: boolean) => {
    if (!req.leases || req.window || (!force && cfg.now() - lastRenew < cfg.leaseTtlMs / 3)) return;
    const lost = await req.leases.renew();
    lastRenew = cfg.now();
    if (lost.length) throw new Error(`lost the lease of partition(s) ${lost.join(', ')} to another correlator (this run took longer than --lease-ttl): abandoning the run`);
  };

  const count = (await preflight(client, targets, { from: readFrom, to: readTo }, req.signal)).count;
  if (count > 0) {
    for await (const page of readEvents(client, targets, { from: readFrom, to: readTo }, { pageSize: cfg.pageSize, signal: req.signal })) {
      for (const { source } of page.events) s.events_by_source[source] = (s.events_by_source[source] ?? 0) + 1;
      s.events_read += page.events.length;
      for (const reason of page.malformed) s.malformed_reasons[reason] = (s.malformed_reasons[reason] ?? 0) + 1;
      s.skipped_malformed += page.malformed.length;
      accept(feeder.add(page.events.map((e) => e.event)));
      s.peak_buffered = Math.max(s.peak_buffered, correlator.stats.peakBuffered + feeder.held);
      await flushWrites();
      await renewIfDue(false);
    }
  }
  accept(feeder.finish(readTo));
  s.peak_buffered = Math.max(s.peak_buffered, correlator.stats.peakBuffered);
  await flushWrites();
  s.findings = correlator.stats.findings;
  s.below_threshold = correlator.stats.belowThreshold;
  s.alerts_written = written.written;
  s.duplicates = written.duplicates;
  s.write_failures = written.failed.length;
  if (written.failed.length) {
    const first = written.failed[0]!;
    throw new Error(`${written.failed.length} alert(s) could not be written (first: ${first.id}: ${first.reason}): the checkpoint stays`);
  }
  // So that `cryptochannel alerts` right after the run lists them. A role without the refresh
  // privilege sees them within the refresh interval instead.
  if (written.streams.size) {
    await refresh(client, [...written.streams].join(',')).catch((err: unknown) => {
      if (!(err instanceof ClusterError && err.status === 403)) throw err;
    });
  }

  if (req.mode === 'backtest') {
    const exists = await existingIds(
      client,
      backtest.map((a) => a._id),
      cfg.namespace,
    );
    s.alerts = backtest.map((a) => toBacktestAlert(a, exists.has(a._id)));
  } else if (!req.window) {
    // Only a holder of the lease moves its checkpoint, and only after every alert is in.
    await renewIfDue(true);
    let moved = 0;
    for (const p of held) {
      const cp = checkpoints.get(p)!;
      if (cp.time === undefined && initial === undefined) continue;
      if (await writeCheckpoint(client, cp, { scope, partitions: cfg.partitions, time: end, runId, owner: cfg.owner, now: cfg.now() }, cfg.stateIndex)) moved++;
      else
        log.warn(
          { event: { action: 'checkpoint-moved-elsewhere' }, cryptochannel: { run: { id: runId, partition: p } } },
          `run ${runId}: another correlator moved the checkpoint of partition ${p} meanwhile; keeping its value`,
        );
    }
    s.checkpoint_moved = moved > 0;
  }
}

function describe(err: unknown): string {
  if (err instanceof ClusterError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The summary without the alert bodies, for a log line. */
function summaryLog(s: RunSummary): Record<string, unknown> {
  const { alerts: _alerts, ...rest } = s;
  return { ...rest, id: s.run_id };
}
