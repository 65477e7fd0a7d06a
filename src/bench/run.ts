/**
 * `cryptochannel bench`: the five figures of the issue measured side by side on one engine.
 * Everything goes into namespaces of its own (`bench<id>`, `bench<id>x10`, `bench<id>live`) and
 * plain indices `bench-plain-<id>-*`, deleted at the end; `apply` installs under the real names,
 * which is why the CLI runs the bench on an engine of its own unless told otherwise.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterClient } from '../cluster';
import type { Content } from '../content';
import { sourceTargets } from '../correlator/reader';
import { sendRecords, type IngestCounts } from '../ingest/send';
import { readRecords, detectFileFormat } from '../ingest/readers';
import { createReadStream } from 'node:fs';
import { measureApply, type ApplyBench } from './apply';
import { benchRuntime, eventWindow, measureCorrelator, timedCorrelation, type CorrelatorBench, type CorrelatorRun } from './correlator';
import { goals, type Figures, type GoalResult } from './goals';
import { measureIngest, overallIngest, type SourceIngest } from './ingest';
import { measureLatency, type LatencyBench } from './latency';
import { engineVersion, machineInfo, type MachineInfo } from './machine';
import { collectGarbage } from './memory';
import { readGroundTruth, type TelemetrySource } from './workload';

export interface BenchOptions {
  client: ClusterClient;
  content: Content;
  packageVersion: string;
  events: number;
  seed: number;
  /** Days the N events span; the 10·N run spans ten times as many (same event rate). */
  days: number;
  telemetry: TelemetrySource;
  workDir: string;
  /** How the engine was chosen, for the report. */
  engine: { url: string; owned: boolean };
  /** The service's interval for the latency figure (10 s in the issue). */
  intervalMs: number;
  /** Events and span of the live stream for the latency figure. */
  liveEvents: number;
  liveSpanMs: number;
  onProgress?: (message: string) => void;
  now?: () => number;
}

export interface BenchResult extends Figures {
  goals: GoalResult[];
  started_at: string;
  duration_s: number;
  events: number;
  seed: number;
  machine: MachineInfo;
  engine: { url: string; owned: boolean; flavor: string; version: string };
  apply: ApplyBench;
  ingest: { overall: ReturnType<typeof overallIngest>; per_source: SourceIngest[] };
  correlator: CorrelatorBench;
  memory: { basis: string; n: CorrelatorRun; ten_n: CorrelatorRun; buffered_ratio: number };
  latency: Omit<LatencyBench, 'per_alert'> & { per_alert: LatencyBench['per_alert'] };
  settings: { interval_s: number; delay_s: number; step_s: number; emit_lag_s: number; days: number; live_events: number; live_span_s: number };
}

const LIVE = { delayMs: 1000, stepMs: 1000, emitLagMs: 1000 };

async function streamInto(client: ClusterClient, files: Array<{ source: string; path: string }>, namespace: string): Promise<number> {
  let n = 0;
  for (const f of files) {
    const counts: IngestCounts = { read: 0, indexed: 0, deadlettered: 0, rejected: 0 };
    await sendRecords(client, readRecords(createReadStream(f.path, { encoding: 'utf8' }), await detectFileFormat(f.path)), { source: f.source, namespace, file: f.path }, counts, []);
    n += counts.read;
  }
  await client.request({ method: 'POST', path: `/${sourceTargets(namespace)}/_refresh`, query: { ignore_unavailable: true, allow_no_indices: true }, idempotent: true });
  return n;
}

/** Deletes the bench's data streams (sources, dead letters, alerts) of a namespace. */
async function dropNamespace(client: ClusterClient, namespace: string): Promise<void> {
  await client.request({ method: 'DELETE', path: `/_data_stream/logs-cryptochannel.*-${namespace}`, ignore: [404] });
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const now = o.now ?? Date.now;
  const started = now();
  const progress = o.onProgress ?? (() => undefined);
  const id = randomBytes(4).toString('hex');
  const ns = { n: `bench${id}`, tenN: `bench${id}x10`, live: `bench${id}live` };
  const { client, content } = o;
  const dayMs = 86_400_000;
  await mkdir(o.workDir, { recursive: true });
  try {
    const engine = { ...o.engine, ...(await engineVersion(client)) };

    progress('apply: on the cluster as found, then again with nothing to change');
    const apply = await measureApply(client, content, o.packageVersion, now);

    progress(`generating ${o.events} events`);
    const tel = await o.telemetry({ events: o.events, seed: o.seed, days: o.days, start: new Date(started - o.days * dayMs).toISOString(), outDir: path.join(o.workDir, 'n') });

    progress('ingest: plain index vs pipelines, per source');
    const perSource = await measureIngest(client, tel.files, { namespace: ns.n, plainPrefix: `bench-plain-${id}`, now, onProgress: (m) => progress(`ingest: ${m}`) });
    await client.request({ method: 'POST', path: `/${sourceTargets(ns.n)}/_refresh`, query: { ignore_unavailable: true, allow_no_indices: true }, idempotent: true });

    progress('correlator: bare scan vs correlate');
    collectGarbage();
    const correlator = await measureCorrelator(benchRuntime(client, content, { namespace: ns.n, packageVersion: o.packageVersion }), now);

    progress(`memory: generating and indexing ${10 * o.events} events over ${10 * o.days} day(s)`);
    const tel10 = await o.telemetry({ events: 10 * o.events, seed: o.seed + 1, days: 10 * o.days, start: new Date(started - 10 * o.days * dayMs).toISOString(), outDir: path.join(o.workDir, 'x10') });
    await streamInto(client, tel10.files, ns.tenN);
    await rm(path.join(o.workDir, 'x10'), { recursive: true, force: true });
    progress('memory: correlating N and 10·N events');
    const cfgN = benchRuntime(client, content, { namespace: ns.n, packageVersion: o.packageVersion });
    const cfg10 = benchRuntime(client, content, { namespace: ns.tenN, packageVersion: o.packageVersion });
    collectGarbage();
    const memN = await timedCorrelation(cfgN, await eventWindow(client, ns.n), now, collectGarbage);
    collectGarbage();
    const mem10 = await timedCorrelation(cfg10, await eventWindow(client, ns.tenN), now, collectGarbage);

    progress(`latency: ${o.liveEvents} live events over ${o.liveSpanMs / 1000}s, correlator every ${o.intervalMs / 1000}s`);
    const liveStart = now() + 15_000;
    const live = await o.telemetry({ events: o.liveEvents, seed: o.seed + 2, days: o.liveSpanMs / dayMs, start: new Date(liveStart).toISOString(), outDir: path.join(o.workDir, 'live') });
    const liveEnd = live.groundTruthPath ? Date.parse((await readGroundTruth(live.groundTruthPath)).end) : liveStart + o.liveSpanMs;
    const latency = await measureLatency(
      benchRuntime(client, content, { namespace: ns.live, packageVersion: o.packageVersion, ...LIVE, startAt: liveStart - 60_000 }),
      live,
      { intervalMs: o.intervalMs, settleMs: 2 * o.intervalMs + LIVE.delayMs + LIVE.emitLagMs + 5000, telemetryEnd: Math.max(liveEnd, liveStart + o.liveSpanMs), onProgress: (m) => progress(`latency: ${m}`) },
    );

    const ingest = overallIngest(perSource);
    const figures: Figures = {
      ingest_ratio: ingest.ratio,
      correlator_ratio: correlator.ratio,
      memory_ratio: memN.memory.peak_live_heap_mb === 0 ? Number.NaN : mem10.memory.peak_live_heap_mb / memN.memory.peak_live_heap_mb,
      latency_s: latency.max_s,
      apply_ratio: apply.ratio,
    };
    return {
      ...figures,
      goals: goals(figures, o.intervalMs / 1000),
      started_at: new Date(started).toISOString(),
      duration_s: (now() - started) / 1000,
      events: o.events,
      seed: o.seed,
      machine: machineInfo(),
      engine,
      apply,
      ingest: { overall: ingest, per_source: perSource },
      correlator,
      memory: { basis: 'peak live heap of this process during the run (sampled after a full GC every 0.5 s): 10·N events over 10× the days ÷ N events over the days', n: memN, ten_n: mem10, buffered_ratio: memN.peak_buffered === 0 ? Number.NaN : mem10.peak_buffered / memN.peak_buffered },
      latency,
      settings: { interval_s: o.intervalMs / 1000, delay_s: LIVE.delayMs / 1000, step_s: LIVE.stepMs / 1000, emit_lag_s: LIVE.emitLagMs / 1000, days: o.days, live_events: o.liveEvents, live_span_s: o.liveSpanMs / 1000 },
    };
  } finally {
    progress('cleaning up the bench namespaces');
    for (const n of Object.values(ns)) await dropNamespace(client, n).catch(() => undefined);
    await client.request({ method: 'DELETE', path: `/bench-plain-${id}-*`, ignore: [404] }).catch(() => undefined);
    await rm(o.workDir, { recursive: true, force: true });
  }
}
