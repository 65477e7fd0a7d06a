/**
 * Correlator throughput and memory. Throughput: a `correlate --once --from --to` run over the
 * bench's namespace against a bare point-in-time scan of the same window (the reader alone: same
 * PIT, same pages, no correlation, no alerts). Memory: the process heap and RSS sampled while the
 * run goes, and the run's own peak of buffered events.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ClusterClient } from '../cluster';
import { loadRunsFields, type Content } from '../content';
import { ANALYTIC_FUNCTIONS } from '../correlator/analytics';
import { silentLog } from '../correlator/logger';
import { preflight, readEvents, sourceTargets } from '../correlator/reader';
import type { RunSummary, RuntimeConfig } from '../correlator/run';
import { runOnce } from '../correlator/schedule';
import { rate } from './ingest';

export interface RuntimeOptions {
  namespace: string;
  packageVersion: string;
  delayMs?: number;
  stepMs?: number;
  emitLagMs?: number;
  startAt?: number;
  pageSize?: number;
}

/** The correlator's runtime as `correlate` builds it, for one namespace, quiet. */
export function benchRuntime(client: ClusterClient, content: Content, o: RuntimeOptions): RuntimeConfig {
  return {
    client,
    content,
    runsFields: loadRunsFields(content.roots.kibanaAssets),
    analytics: ANALYTIC_FUNCTIONS,
    packageVersion: o.packageVersion,
    hostName: os.hostname(),
    owner: `bench:${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    namespace: o.namespace,
    partitions: 1,
    leaseTtlMs: 60_000,
    delayMs: o.delayMs ?? 60_000,
    stepMs: o.stepMs ?? 60_000,
    emitLagMs: o.emitLagMs,
    pageSize: o.pageSize ?? 1000,
    startAt: o.startAt,
    log: silentLog,
    now: Date.now,
  };
}

export interface MemorySample {
  /** Heap in use, garbage included (sampled as it is). */
  peak_heap_mb: number;
  /** Heap still reachable: sampled right after a full collection (only when asked for, it costs time; NaN otherwise). */
  peak_live_heap_mb: number;
  peak_rss_mb: number;
}

/**
 * Samples this process's heap and RSS every `everyMs` while `work` runs; with `gc`, also the live
 * heap right after a full collection every `gcEveryMs`.
 */
export async function sampled<T>(work: () => Promise<T>, o: { everyMs?: number; gc?: () => void; gcEveryMs?: number } = {}): Promise<{ value: T; memory: MemorySample }> {
  let heap = 0;
  let live = 0;
  let rss = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
  };
  const sampleLive = () => {
    if (!o.gc) return;
    o.gc();
    live = Math.max(live, process.memoryUsage().heapUsed);
  };
  sample();
  sampleLive();
  const timer = setInterval(sample, o.everyMs ?? 20);
  const gcTimer = o.gc ? setInterval(sampleLive, o.gcEveryMs ?? 500) : undefined;
  try {
    const value = await work();
    sample();
    return { value, memory: { peak_heap_mb: heap / 2 ** 20, peak_live_heap_mb: o.gc ? live / 2 ** 20 : Number.NaN, peak_rss_mb: rss / 2 ** 20 } };
  } finally {
    clearInterval(timer);
    clearInterval(gcTimer);
  }
}

/** The events' time range in a namespace: [earliest, latest + 1). */
export async function eventWindow(client: ClusterClient, namespace: string): Promise<{ from: number; to: number; count: number }> {
  const { body } = await client.request<{ hits: { total: { value: number } | number }; aggregations: { min: { value: number | null }; max: { value: number | null } } }>({
    method: 'POST',
    path: `/${sourceTargets(namespace)}/_search`,
    query: { allow_no_indices: true, ignore_unavailable: true },
    body: { size: 0, track_total_hits: true, aggs: { min: { min: { field: '@timestamp' } }, max: { max: { field: '@timestamp' } } } },
    idempotent: true,
  });
  const total = body.hits.total;
  const count = typeof total === 'number' ? total : total.value;
  const { min, max } = body.aggregations;
  if (!count || min.value === null || max.value === null) throw new Error(`no events in namespace ${namespace} to correlate`);
  return { from: min.value, to: max.value + 1, count };
}

export interface ScanResult {
  events: number;
  ms: number;
}

/** The bare scan: the correlator's own reader over the same window, nothing else. */
export async function bareScan(client: ClusterClient, namespace: string, window: { from: number; to: number }, pageSize = 1000, now = Date.now): Promise<ScanResult> {
  const targets = sourceTargets(namespace);
  const t = now();
  let events = 0;
  if ((await preflight(client, targets, window)).count > 0) {
    for await (const page of readEvents(client, targets, window, { pageSize })) events += page.events.length + page.malformed.length;
  }
  return { events, ms: now() - t };
}

export interface CorrelatorRun {
  events: number;
  ms: number;
  eps: number;
  alerts_written: number;
  peak_buffered: number;
  memory: MemorySample;
}

/**
 * One explicit-window run (writes alerts, moves no checkpoint), timed and sampled; with `gc`, the
 * live heap is sampled too (which slows the run: use it for memory, not for throughput).
 */
export async function timedCorrelation(cfg: RuntimeConfig, window: { from: number; to: number }, now = Date.now, gc?: () => void): Promise<CorrelatorRun> {
  const t = now();
  const { value, memory } = await sampled<RunSummary>(() => runOnce(cfg, { mode: 'once', window }), { gc });
  const ms = now() - t;
  return { events: value.events_read, ms, eps: rate(value.events_read, ms), alerts_written: value.alerts_written, peak_buffered: value.peak_buffered, memory };
}

export interface CorrelatorBench {
  events: number;
  correlate_eps: number;
  scan_eps: number;
  ratio: number;
  correlate_ms: number;
  scan_ms: number;
  alerts_written: number;
  peak_buffered: number;
  memory: MemorySample;
}

/**
 * Scan, correlate, scan: the scan's figure is the mean of the two, so that neither side alone
 * profits from a cache the other warmed.
 */
export async function measureCorrelator(cfg: RuntimeConfig, now = Date.now): Promise<CorrelatorBench> {
  const window = await eventWindow(cfg.client, cfg.namespace!);
  const first = await bareScan(cfg.client, cfg.namespace!, window, cfg.pageSize, now);
  const run = await timedCorrelation(cfg, window, now);
  const second = await bareScan(cfg.client, cfg.namespace!, window, cfg.pageSize, now);
  const scanMs = (first.ms + second.ms) / 2;
  const scanEps = rate(first.events, scanMs);
  return {
    events: run.events,
    correlate_eps: run.eps,
    scan_eps: scanEps,
    ratio: scanEps === 0 ? 0 : run.eps / scanEps,
    correlate_ms: run.ms,
    scan_ms: scanMs,
    alerts_written: run.alerts_written,
    peak_buffered: run.peak_buffered,
    memory: run.memory,
  };
}
