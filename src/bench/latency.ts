/**
 * Latency from an event being indexed to its alert being written, with the correlator running as a
 * service (`--every`) under a steady stream of events.
 *
 * The stream is generated telemetry whose timestamps lie in a window that starts a little after
 * now: it is all indexed up front, and each event becomes readable to the correlator when the clock
 * reaches its @timestamp (the correlator reads only up to now - delay), as if a shipper indexed it
 * live. So an event is "indexed" at max(its @timestamp, when the bulk load finished), and an alert's
 * latency runs from that moment for its newest evidence to the end of the run that wrote it (its
 * alerts are searchable then; event.created is the run's start, which would leave the run out).
 */
import type { ClusterClient } from '../cluster';
import { searchAlerts } from '../correlator/alert-search';
import type { RuntimeConfig } from '../correlator/run';
import { runEvery } from '../correlator/schedule';
import { sendRecords, type IngestCounts } from '../ingest/send';
import { readAll } from './ingest';
import type { GeneratedTelemetry } from './workload';

export interface AlertLatency {
  analytic: string;
  /** When the run that wrote it ended. */
  written: string;
  newest_evidence: string;
  latency_s: number;
}

export interface LatencyBench {
  interval_s: number;
  events: number;
  runs: number;
  alerts: number;
  /** The slowest alert: what "latency ≤ interval + 5 s" is about. */
  max_s: number;
  median_s: number;
  per_alert: AlertLatency[];
}

function get(doc: Record<string, unknown>, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc);
}

/**
 * An alert's latency, or undefined when it lacks evidence times. `runEnds` maps a run id to when that
 * run finished; an alert of an unknown run falls back to its event.created.
 */
export function alertLatency(doc: Record<string, unknown>, indexedAt: number, runEnds: ReadonlyMap<string, number> = new Map()): AlertLatency | undefined {
  const created = runEnds.get(String(get(doc, 'cryptochannel.alert.run_id'))) ?? Date.parse(String(get(doc, 'event.created')));
  const evidence = (get(doc, 'cryptochannel.alert.evidence') as Array<{ timestamp?: string }> | undefined) ?? [];
  const times = evidence.map((e) => Date.parse(String(e.timestamp))).filter(Number.isFinite);
  if (!Number.isFinite(created) || !times.length) return undefined;
  const newest = Math.max(...times);
  return {
    analytic: String(get(doc, 'cryptochannel.alert.analytic')),
    written: new Date(created).toISOString(),
    newest_evidence: new Date(newest).toISOString(),
    latency_s: (created - Math.max(newest, indexedAt)) / 1000,
  };
}

export function median(values: number[]): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface LatencyOptions {
  intervalMs: number;
  /** When the service stops: the telemetry's end plus this. */
  settleMs: number;
  telemetryEnd: number;
  onProgress?: (message: string) => void;
}

/** Loads the telemetry into cfg.namespace, runs the service until the telemetry's end + settle, then reads the alerts. */
export async function measureLatency(cfg: RuntimeConfig, telemetry: GeneratedTelemetry, o: LatencyOptions): Promise<LatencyBench> {
  const client: ClusterClient = cfg.client;
  let events = 0;
  for (const file of telemetry.files) {
    const counts: IngestCounts = { read: 0, indexed: 0, deadlettered: 0, rejected: 0 };
    const records = await readAll(file.path);
    await sendRecords(client, (async function* () {
      yield* records;
    })(), { source: file.source, namespace: cfg.namespace!, file: file.path }, counts, []);
    events += counts.read;
  }
  const indexedAt = cfg.now();
  const controller = new AbortController();
  const stopAt = o.telemetryEnd + o.settleMs;
  o.onProgress?.(`${events} events indexed; correlator every ${o.intervalMs / 1000}s until ${new Date(stopAt).toISOString()}`);
  const timer = setTimeout(() => controller.abort(), Math.max(0, stopAt - cfg.now()));
  let runs = 0;
  const runEnds = new Map<string, number>();
  try {
    await runEvery(cfg, {
      intervalMs: o.intervalMs,
      signal: controller.signal,
      onRun: (s) => {
        runs++;
        runEnds.set(s.run_id, cfg.now());
      },
    });
  } finally {
    clearTimeout(timer);
  }
  const { alerts } = await searchAlerts(client, { namespace: cfg.namespace, limit: 10_000 });
  const perAlert = alerts.map((a) => alertLatency(a._source, indexedAt, runEnds)).filter((x): x is AlertLatency => x !== undefined);
  const values = perAlert.map((a) => a.latency_s);
  return {
    interval_s: o.intervalMs / 1000,
    events,
    runs,
    alerts: perAlert.length,
    max_s: values.length ? Math.max(...values) : Number.NaN,
    median_s: values.length ? median(values) : Number.NaN,
    per_alert: perAlert,
  };
}
