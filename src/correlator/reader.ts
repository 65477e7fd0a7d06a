/**
 * Reading the source streams in event-time order: a point in time (so that pages are consistent
 * while ingest goes on) and search_after on [@timestamp, tiebreaker].
 *
 * The two engines differ, checked against their API specifications (the official clients' request
 * types) and on the engines themselves:
 * - Elasticsearch: `POST /<targets>/_pit?keep_alive=` → `{id}`, closed by `DELETE /_pit {id}`; the
 *   tiebreaker is `_shard_doc`, which only exists inside a PIT.
 * - OpenSearch 2.x: `POST /<targets>/_search/point_in_time?keep_alive=` → `{pit_id}`, closed by
 *   `DELETE /_search/point_in_time {pit_id: [..]}`; 2.19 has no `_shard_doc` ("No mapping found for
 *   [_shard_doc]") and adds no implicit tiebreaker, so the tiebreaker is `_id` (sortable there:
 *   indices.id_field_data.enabled defaults to true). Auto-generated ids are unique.
 * Both take `pit: {id, keep_alive}` in the search body, on `POST /_search` without an index, and may
 * hand back a new id with every page: the newest one is used.
 */
import { searchAllShards, type ClusterClient } from '../cluster';
import { checkHit, type SearchHit } from './events';
import type { SourceEvent } from './types';

/** The source streams: every `logs-cryptochannel.*` stream but the correlator's own output and the dead letters. */
export function sourceTargets(namespace?: string): string {
  const ns = namespace ?? '*';
  return [`logs-cryptochannel.*-${ns}`, '-logs-cryptochannel.alerts-*', '-logs-cryptochannel.deadletter-*'].join(',');
}

export interface ReadWindow {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

function rangeQuery(w: ReadWindow): Record<string, unknown> {
  return { range: { '@timestamp': { gte: w.from, lt: w.to, format: 'epoch_millis' } } };
}

export interface Preflight {
  count: number;
  earliest?: number;
}

/**
 * How many events the window holds and the oldest one's time. Run before opening a PIT, because
 * OpenSearch refuses a PIT over a pattern that matches no stream ("invalid id: [null]").
 */
export async function preflight(client: ClusterClient, targets: string, w: ReadWindow, signal?: AbortSignal): Promise<Preflight> {
  const { body } = await searchAllShards<{ hits?: { total?: { value: number } | number }; aggregations?: { earliest?: { value: number | null } } }>(client, {
    path: `/${targets}/_search`,
    query: { allow_no_indices: true, ignore_unavailable: true },
    body: { size: 0, track_total_hits: true, query: rangeQuery(w), aggs: { earliest: { min: { field: '@timestamp' } } } },
    signal,
  });
  const total = body.hits?.total;
  const count = typeof total === 'number' ? total : (total?.value ?? 0);
  const earliest = body.aggregations?.earliest?.value;
  return { count, earliest: typeof earliest === 'number' ? earliest : undefined };
}

const KEEP_ALIVE = '2m';

async function openPit(client: ClusterClient, targets: string, signal?: AbortSignal): Promise<string> {
  if (client.flavor === 'opensearch') {
    const { body } = await client.request<{ pit_id: string }>({ method: 'POST', path: `/${targets}/_search/point_in_time`, query: { keep_alive: KEEP_ALIVE, allow_no_indices: true }, idempotent: true, signal });
    return body.pit_id;
  }
  const { body } = await client.request<{ id: string }>({ method: 'POST', path: `/${targets}/_pit`, query: { keep_alive: KEEP_ALIVE, allow_no_indices: true }, idempotent: true, signal });
  return body.id;
}

/** Best effort: an unclosed PIT expires by itself after keep_alive. */
async function closePit(client: ClusterClient, id: string): Promise<void> {
  const request = client.flavor === 'opensearch' ? { path: '/_search/point_in_time', body: { pit_id: [id] } } : { path: '/_pit', body: { id } };
  await client.request({ method: 'DELETE', ...request, ignore: [404], signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
}

export interface Page {
  events: Array<{ event: SourceEvent; source: string }>;
  malformed: string[];
}

/**
 * Pages of events in [from, to), oldest first. One page is in memory at a time: the caller hands it
 * to the correlator before asking for the next.
 */
export async function* readEvents(client: ClusterClient, targets: string, w: ReadWindow, options: { pageSize: number; signal?: AbortSignal }): AsyncGenerator<Page> {
  let pit = await openPit(client, targets, options.signal);
  const tiebreaker = client.flavor === 'opensearch' ? { _id: 'asc' } : { _shard_doc: 'asc' };
  try {
    let after: unknown[] | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      // A page some shards failed would move the checkpoint past events never read: searchAllShards refuses it.
      const { body } = await searchAllShards<{ pit_id?: string; hits: { hits: SearchHit[] } }>(client, {
        path: '/_search',
        body: {
          size: options.pageSize,
          pit: { id: pit, keep_alive: KEEP_ALIVE },
          query: rangeQuery(w),
          // unmapped_type: an index in the pattern that never got our template (written to while it
          // was missing) has no @timestamp; it holds nothing in the window and must not fail the read.
          sort: [{ '@timestamp': { order: 'asc', numeric_type: 'date', unmapped_type: 'date' } }, tiebreaker],
          ...(after ? { search_after: after } : {}),
          track_total_hits: false,
        },
        signal: options.signal,
      });
      if (body.pit_id) pit = body.pit_id;
      const hits = body.hits.hits;
      if (!hits.length) return;
      const page: Page = { events: [], malformed: [] };
      for (const hit of hits) {
        const checked = checkHit(hit);
        if (checked.ok) page.events.push({ event: checked.event, source: checked.source });
        else page.malformed.push(checked.reason);
      }
      yield page;
      if (hits.length < options.pageSize) return;
      after = hits[hits.length - 1]!.sort;
    }
  } finally {
    await closePit(client, pit);
  }
}
