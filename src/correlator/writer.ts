/**
 * Writing alerts: bulk `create` with _id = the alert id into logs-cryptochannel.alerts-<namespace>.
 * `create` refuses a second copy with 409, which is how a rerun, a crash or a second correlator is
 * kept from duplicating an alert: a 409 is counted as a duplicate, not an error. The bulk is all
 * create-with-id, so the seam retries it whole on 429/503; items the engine pushes back one by one
 * (429 inside a 200 answer) are sent again with backoff. Anything else is a failure, and the caller
 * then leaves the checkpoint where it was.
 */
import { bulk, type ClusterClient } from '../cluster';
import { dataStreamName } from '../content/sources';
import type { AlertDocument } from './alert';
import { alertNamespace } from './partition';

export interface WriteResult {
  written: number;
  duplicates: number;
  failed: Array<{ id: string; status?: number; reason: string }>;
  /** The alert streams written to (refreshed at the end of a run so that `alerts` sees them). */
  streams: Set<string>;
}

export function emptyWriteResult(): WriteResult {
  return { written: 0, duplicates: 0, failed: [], streams: new Set() };
}

const ITEM_RETRIES = 5;
const TRANSIENT_ITEM = new Set([429, 502, 503, 504]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

export async function writeAlerts(client: ClusterClient, alerts: AlertDocument[], result: WriteResult, signal?: AbortSignal): Promise<void> {
  let todo = alerts;
  for (let attempt = 1; todo.length; attempt++) {
    signal?.throwIfAborted();
    const items = todo.map((a) => {
      const stream = dataStreamName('alerts', alertNamespace(a));
      result.streams.add(stream);
      return { action: { create: { _index: stream, _id: a._id } }, document: a.doc };
    });
    const answer = await bulk(client, items);
    const again: AlertDocument[] = [];
    answer.items.forEach((item, i) => {
      const op = item.create ?? Object.values(item)[0];
      const status = op?.status ?? 500;
      // Written, but into a plain index: the alerts template was missing when the stream was first written.
      if (status >= 200 && status < 300 && !op?._index?.startsWith('.ds-')) result.failed.push({ id: todo[i]!._id, status, reason: `landed in ${op?._index}, which is not a data stream: install the templates with cryptochannel apply` });
      else if (status >= 200 && status < 300) result.written++;
      else if (status === 409) result.duplicates++;
      else if (TRANSIENT_ITEM.has(status) && attempt < ITEM_RETRIES) again.push(todo[i]!);
      else result.failed.push({ id: todo[i]!._id, status, reason: `${op?.error?.type ?? status}: ${op?.error?.reason ?? ''}` });
    });
    todo = again;
    if (todo.length) await sleep(Math.random() * 250 * 2 ** attempt, signal);
  }
}
