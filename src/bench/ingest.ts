/**
 * Ingest throughput: the same raw records of one source sent twice in the same bulk batches, once
 * into a plain index with no pipeline (what the engine does without cryptochannel) and once through
 * cryptochannel's pipeline into the source's data stream (what `cryptochannel ingest` does). The
 * ratio of the two rates is the cost of the pipelines.
 *
 * The first records of each go untimed (a warm-up): creating the index or the data stream's backing
 * index and the first dynamic mapping updates are one-off cluster-state changes that would otherwise
 * dominate a small run. The rest, the same records both ways, are timed.
 */
import { createReadStream } from 'node:fs';
import { bulk, encodePath, type ClusterClient } from '../cluster';
import { detectFileFormat, readRecords, type RawRecord } from '../ingest/readers';
import { sendRecords, type IngestCounts } from '../ingest/send';
import type { TelemetryFile } from './workload';

export interface SourceIngest {
  source: string;
  /** Timed events (each way); `warmup` more went first, untimed. */
  events: number;
  warmup: number;
  plain_eps: number;
  pipeline_eps: number;
  ratio: number;
  plain_ms: number;
  pipeline_ms: number;
  indexed: number;
  deadlettered: number;
  rejected: number;
}

export const BATCH_DOCS = 1000;

/** Records sent untimed first: a fifth of the source's, at most 200. */
export function warmupCount(n: number): number {
  return Math.min(200, Math.floor(n / 5));
}

export async function readAll(file: string): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  for await (const r of readRecords(createReadStream(file, { encoding: 'utf8' }), await detectFileFormat(file))) records.push(r);
  return records;
}

async function* replay(records: RawRecord[]): AsyncGenerator<RawRecord> {
  for (const r of records) yield r;
}

/** Events per second; 0 events in 0 ms is 0, not NaN. */
export function rate(events: number, ms: number): number {
  return events === 0 ? 0 : events / (Math.max(ms, 1) / 1000);
}

async function sendPlain(client: ClusterClient, index: string, records: RawRecord[]): Promise<number> {
  let failed = 0;
  for (let i = 0; i < records.length; i += BATCH_DOCS) {
    const answer = await bulk(client, records.slice(i, i + BATCH_DOCS).map((r) => ({ action: { create: { _index: index } }, document: { message: r.message } })));
    failed += answer.items.filter((item) => (Object.values(item)[0]?.status ?? 500) >= 300).length;
  }
  return failed;
}

export interface IngestBenchOptions {
  namespace: string;
  /** Unique prefix of the plain indices (deleted afterwards). */
  plainPrefix: string;
  now?: () => number;
  onProgress?: (message: string) => void;
}

export async function measureIngest(client: ClusterClient, files: TelemetryFile[], options: IngestBenchOptions): Promise<SourceIngest[]> {
  const now = options.now ?? Date.now;
  const results: SourceIngest[] = [];
  for (const file of files) {
    const records = await readAll(file.path);
    const plainIndex = `${options.plainPrefix}-${file.source}`;
    await client.request({ method: 'PUT', path: encodePath(plainIndex), body: { settings: { 'index.default_pipeline': '_none', 'index.number_of_replicas': 0 } } });
    try {
      const warm = warmupCount(records.length);
      const timed = records.slice(warm);
      const send = { source: file.source, namespace: options.namespace, file: file.path, batchDocs: BATCH_DOCS };
      const counts: IngestCounts = { read: 0, indexed: 0, deadlettered: 0, rejected: 0 };
      options.onProgress?.(`${file.source}: ${timed.length} events (after ${warm} to warm up) into a plain index`);
      let failed = await sendPlain(client, plainIndex, records.slice(0, warm));
      let t = now();
      failed += await sendPlain(client, plainIndex, timed);
      const plainMs = now() - t;
      if (failed) throw new Error(`${failed} of ${records.length} ${file.source} documents were refused by the plain index`);
      options.onProgress?.(`${file.source}: the same through the pipeline`);
      await sendRecords(client, replay(records.slice(0, warm)), send, counts, []);
      t = now();
      await sendRecords(client, replay(timed), send, counts, []);
      const pipelineMs = now() - t;
      const plainEps = rate(timed.length, plainMs);
      const pipelineEps = rate(timed.length, pipelineMs);
      results.push({
        source: file.source,
        events: timed.length,
        warmup: warm,
        plain_eps: plainEps,
        pipeline_eps: pipelineEps,
        ratio: plainEps === 0 ? 0 : pipelineEps / plainEps,
        plain_ms: plainMs,
        pipeline_ms: pipelineMs,
        indexed: counts.indexed,
        deadlettered: counts.deadlettered,
        rejected: counts.rejected,
      });
    } finally {
      await client.request({ method: 'DELETE', path: encodePath(plainIndex), ignore: [404] });
    }
  }
  return results;
}

/** All sources together: total events over total time, each way. */
export function overallIngest(rows: SourceIngest[]): { events: number; plain_eps: number; pipeline_eps: number; ratio: number } {
  const events = rows.reduce((n, r) => n + r.events, 0);
  const plainEps = rate(events, rows.reduce((n, r) => n + r.plain_ms, 0));
  const pipelineEps = rate(events, rows.reduce((n, r) => n + r.pipeline_ms, 0));
  return { events, plain_eps: plainEps, pipeline_eps: pipelineEps, ratio: plainEps === 0 ? 0 : pipelineEps / plainEps };
}
