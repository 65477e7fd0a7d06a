/**
 * The demo's steps on a cluster, each a function returning data: reset the demo namespace, apply the
 * tuning the ground truth asks for, ingest files through the sources' pipelines, run the correlator
 * over an explicit window, and read the alerts with the stored events of their evidence.
 */
import { createReadStream } from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { refresh, type ClusterClient } from '../cluster';
import { readLiveTunables, type DeployContext } from '../apply/deploy';
import { setLiveTunable } from '../apply/tune';
import { dataStreamName, loadRunsFields, type Content } from '../content';
import { searchAlerts } from '../correlator/alert-search';
import { ANALYTIC_FUNCTIONS } from '../correlator/analytics';
import { silentLog, type CorrelatorLog } from '../correlator/logger';
import type { RunSummary } from '../correlator/run';
import { runOnce } from '../correlator/schedule';
import { detectFileFormat, readRecords } from '../ingest/readers';
import { sendRecords, type IngestCounts, type Rejection } from '../ingest/send';
import { alertRow, describeEvent, type AlertRow } from './rows';
import type { AlertDoc } from './types';

/** Deletes the namespace's source, dead-letter and alert streams: a demo run starts from nothing. */
export async function resetNamespace(client: ClusterClient, namespace: string): Promise<void> {
  await client.request({ method: 'DELETE', path: `/_data_stream/${encodeURIComponent(`logs-cryptochannel.*-${namespace}`)}`, ignore: [404] });
}

export interface TuningChange {
  key: string;
  previous: unknown;
  value: unknown;
  changed: boolean;
}

/**
 * Lays the ground truth's tuning over the live tunables: a list is extended with the values it lacks
 * (the user's entries stay), anything else is set. Pipelines are re-rendered by setLiveTunable, so
 * this runs before ingest.
 */
export async function applyTuning(ctx: DeployContext, tuning: Record<string, unknown> | undefined, by = 'cryptochannel demo'): Promise<TuningChange[]> {
  const changes: TuningChange[] = [];
  for (const [key, wanted] of Object.entries(tuning ?? {})) {
    const live = (await readLiveTunables(ctx.client, ctx.content)).tunables ?? ctx.content.tunables;
    const previous = key.split('.').reduce<unknown>((n, k) => (n && typeof n === 'object' ? (n as Record<string, unknown>)[k] : undefined), live);
    const value = Array.isArray(wanted) && Array.isArray(previous) ? [...previous, ...wanted.filter((v) => !previous.some((p) => JSON.stringify(p) === JSON.stringify(v)))] : wanted;
    const changed = JSON.stringify(value) !== JSON.stringify(previous);
    if (changed) await setLiveTunable(ctx, key, value, by);
    changes.push({ key, previous, value, changed });
  }
  return changes;
}

export interface FileIngest extends IngestCounts {
  source: string;
  file: string;
  format: string;
}

/** Every file through its source's pipeline into the namespace's streams (as `cryptochannel ingest` does), then refreshed. */
export async function ingestFiles(
  client: ClusterClient,
  files: Array<{ source: string; path: string }>,
  namespace: string,
  onProgress?: (file: string, counts: IngestCounts) => void,
): Promise<{ files: FileIngest[]; rejections: Rejection[] }> {
  const out: FileIngest[] = [];
  const rejections: Rejection[] = [];
  for (const f of files) {
    const format = await detectFileFormat(f.path);
    const counts: FileIngest = { source: f.source, file: f.path, format, read: 0, indexed: 0, deadlettered: 0, rejected: 0 };
    await sendRecords(client, readRecords(createReadStream(f.path, { encoding: 'utf8' }), format), { source: f.source, namespace, file: f.path, onBatch: (c) => onProgress?.(f.path, c) }, counts, rejections);
    out.push(counts);
  }
  await refresh(client, `logs-cryptochannel.*-${namespace}`).catch(() => undefined);
  return { files: out, rejections };
}

/** One correlator run with the real analytics over [from, to): writes the alerts, moves no checkpoint. */
export async function correlateWindow(
  client: ClusterClient,
  content: Content,
  options: { namespace: string; from: number; to: number; packageVersion: string; log?: CorrelatorLog; signal?: AbortSignal },
): Promise<RunSummary> {
  return runOnce(
    {
      client,
      content,
      runsFields: loadRunsFields(content.roots.kibanaAssets),
      analytics: ANALYTIC_FUNCTIONS,
      packageVersion: options.packageVersion,
      hostName: os.hostname(),
      owner: `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      namespace: options.namespace,
      partitions: 1,
      leaseTtlMs: 60_000,
      delayMs: 0,
      stepMs: 60_000,
      pageSize: 1000,
      log: options.log ?? silentLog,
      now: Date.now,
    },
    { mode: 'once', window: { from: options.from, to: options.to }, signal: options.signal },
  );
}

/** The namespace's alerts, oldest first, as rows whose evidence carries a line about each stored event. */
export async function readAlerts(client: ClusterClient, namespace: string): Promise<{ docs: AlertDoc[]; rows: AlertRow[] }> {
  await refresh(client, dataStreamName('alerts', namespace)).catch(() => undefined);
  const { alerts } = await searchAlerts(client, { namespace, limit: 100_000 });
  const docs = alerts.map((a) => a._source as AlertDoc);
  const rows = docs.map(alertRow);
  const links = rows.flatMap((r) => r.evidence);
  for (let i = 0; i < links.length; i += 500) {
    const chunk = links.slice(i, i + 500);
    const res = await client.request<{ docs: Array<{ found?: boolean; _source?: Record<string, unknown> }> }>({
      method: 'POST',
      path: '/_mget',
      body: { docs: chunk.map((e) => ({ _index: e.index, _id: e.id })) },
      idempotent: true,
    });
    res.body.docs.forEach((d, j) => {
      if (d.found && d._source) chunk[j]!.description = describeEvent(d._source);
    });
  }
  return { docs, rows };
}
