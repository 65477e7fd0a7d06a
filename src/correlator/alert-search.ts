/**
 * `cryptochannel alerts`: the alerts in logs-cryptochannel.alerts-*, oldest first, filtered on
 * @timestamp (design.md "Time": `--since T` filters on @timestamp), paged with search_after on
 * [@timestamp, alert id] (the id is unique and a keyword on both engines, unlike `_id`, which
 * Elasticsearch 8 no longer sorts on).
 */
import { searchAllShards, type ClusterClient } from '../cluster';

export interface AlertHit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}

export interface AlertQuery {
  since?: number;
  until?: number;
  namespace?: string;
  analytic?: string;
  limit: number;
}

export async function searchAlerts(client: ClusterClient, q: AlertQuery): Promise<{ alerts: AlertHit[]; truncated: boolean }> {
  const filter: Array<Record<string, unknown>> = [{ term: { 'event.kind': 'alert' } }];
  if (q.since !== undefined || q.until !== undefined) filter.push({ range: { '@timestamp': { ...(q.since !== undefined ? { gte: q.since } : {}), ...(q.until !== undefined ? { lt: q.until } : {}), format: 'epoch_millis' } } });
  if (q.analytic) filter.push({ term: { 'cryptochannel.alert.analytic': q.analytic } });
  const alerts: AlertHit[] = [];
  let after: unknown[] | undefined;
  while (alerts.length < q.limit) {
    const size = Math.min(1000, q.limit - alerts.length + 1);
    const { body } = await searchAllShards<{ hits: { hits: Array<AlertHit & { sort: unknown[] }> } }>(client, {
      path: `/logs-cryptochannel.alerts-${q.namespace ?? '*'}/_search`,
      query: { allow_no_indices: true, ignore_unavailable: true },
      body: { size, query: { bool: { filter } }, sort: [{ '@timestamp': { order: 'asc', unmapped_type: 'date' } }, { 'cryptochannel.alert.id': { order: 'asc', unmapped_type: 'keyword' } }], ...(after ? { search_after: after } : {}) },
    });
    const hits = body.hits.hits;
    for (const h of hits) alerts.push({ _index: h._index, _id: h._id, _source: h._source });
    if (hits.length < size) break;
    after = hits[hits.length - 1]!.sort;
  }
  const truncated = alerts.length > q.limit;
  return { alerts: alerts.slice(0, q.limit), truncated };
}
