/**
 * Sends raw records to a source's data stream in bulk batches and accounts for every one of them:
 * indexed into the source's stream, dead-lettered by the pipeline, or rejected by the engine.
 * The vendor bulk helpers do not report where each document landed, which is exactly what the
 * dead-letter count needs, hence this small batcher over `_bulk`.
 */
import { bulk, type ClusterClient } from '../cluster';
import { dataStreamName } from '../content/sources';
import type { RawRecord } from './readers';

export interface IngestCounts {
  read: number;
  indexed: number;
  deadlettered: number;
  rejected: number;
}

export interface Rejection {
  position: number;
  file: string;
  reason: string;
}

export interface SendOptions {
  source: string;
  namespace: string;
  file: string;
  batchDocs?: number;
  batchBytes?: number;
  onBatch?: (counts: IngestCounts) => void;
  /** Rejections kept for the report (all are counted). */
  maxRejections?: number;
}

export async function sendRecords(
  client: ClusterClient,
  records: AsyncIterable<RawRecord>,
  options: SendOptions,
  counts: IngestCounts,
  rejections: Rejection[],
): Promise<void> {
  const index = dataStreamName(options.source, options.namespace);
  const deadPrefix = `.ds-${dataStreamName('deadletter', options.namespace)}-`;
  const maxDocs = options.batchDocs ?? 1000;
  const maxBytes = options.batchBytes ?? 5 * 1024 * 1024;
  let batch: RawRecord[] = [];
  let bytes = 0;

  const flush = async () => {
    if (!batch.length) return;
    const sent = batch;
    batch = [];
    bytes = 0;
    const answer = await bulk(client, sent.map((r) => ({ action: { create: { _index: index } }, document: { message: r.message } })));
    answer.items.forEach((item, i) => {
      const op = item.create ?? Object.values(item)[0];
      if (op?.error || (op?.status ?? 500) >= 300) {
        counts.rejected++;
        if (rejections.length < (options.maxRejections ?? 20)) {
          rejections.push({ file: options.file, position: sent[i]!.position, reason: `${op?.error?.type ?? op?.status}: ${op?.error?.reason ?? ''}` });
        }
      } else if (op?._index?.startsWith(deadPrefix)) counts.deadlettered++;
      else counts.indexed++;
    });
    options.onBatch?.(counts);
  };

  for await (const record of records) {
    counts.read++;
    batch.push(record);
    bytes += record.message.length + 64;
    if (batch.length >= maxDocs || bytes >= maxBytes) await flush();
  }
  await flush();
}
