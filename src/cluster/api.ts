/**
 * Typed calls used across cryptochannel, written once over ClusterClient.request so that both
 * engines share them. Response types come from the official Elasticsearch client, whose shapes
 * OpenSearch 2.x shares for these APIs.
 */
import type { estypes } from '@elastic/elasticsearch';
import { encodePath, type ClusterClient, type ClusterRequest, type ClusterResponse } from './client';
import { requireAllShards, type ShardsHeader } from './errors';

export type HealthStatus = 'green' | 'yellow' | 'red';

export async function clusterHealth(
  client: ClusterClient,
  waitFor?: HealthStatus,
  timeoutSeconds = 30,
): Promise<estypes.ClusterHealthResponse> {
  const { body } = await client.request<estypes.ClusterHealthResponse>({
    method: 'GET',
    path: '/_cluster/health',
    query: waitFor ? { wait_for_status: waitFor, timeout: `${timeoutSeconds}s` } : undefined,
    ignore: [408],
  });
  return body;
}

export async function putStoredScript(client: ClusterClient, id: string, source: string, lang = 'painless'): Promise<void> {
  await client.request({ method: 'PUT', path: encodePath('_scripts', id), body: { script: { lang, source } } });
}

export async function getStoredScript(client: ClusterClient, id: string): Promise<{ lang: string; source: string } | undefined> {
  const { status, body } = await client.request<{ found?: boolean; script?: { lang: string; source: string } }>({
    method: 'GET',
    path: encodePath('_scripts', id),
    ignore: [404],
  });
  return status === 404 || !body.found ? undefined : body.script;
}

export async function deleteStoredScript(client: ClusterClient, id: string): Promise<boolean> {
  const { status } = await client.request({ method: 'DELETE', path: encodePath('_scripts', id), ignore: [404] });
  return status !== 404;
}

export async function putPipeline(client: ClusterClient, id: string, pipeline: Record<string, unknown>): Promise<void> {
  await client.request({ method: 'PUT', path: encodePath('_ingest', 'pipeline', id), body: pipeline });
}

export async function getPipeline(client: ClusterClient, id: string): Promise<Record<string, unknown> | undefined> {
  const { status, body } = await client.request<Record<string, Record<string, unknown>>>({
    method: 'GET',
    path: encodePath('_ingest', 'pipeline', id),
    ignore: [404],
  });
  return status === 404 ? undefined : body[id];
}

export async function deletePipeline(client: ClusterClient, id: string): Promise<boolean> {
  const { status } = await client.request({ method: 'DELETE', path: encodePath('_ingest', 'pipeline', id), ignore: [404] });
  return status !== 404;
}

export interface SimulateOptions {
  /** Simulate a stored pipeline by id rather than an inline one. */
  id?: string;
  pipeline?: Record<string, unknown>;
  verbose?: boolean;
}

export async function simulatePipeline(
  client: ClusterClient,
  docs: Array<Record<string, unknown>>,
  options: SimulateOptions,
): Promise<estypes.IngestSimulateResponse> {
  const path = options.id ? `${encodePath('_ingest', 'pipeline', options.id)}/_simulate` : '/_ingest/pipeline/_simulate';
  const { body } = await client.request<estypes.IngestSimulateResponse>({
    method: 'POST',
    path,
    query: { verbose: options.verbose },
    body: { pipeline: options.id ? undefined : options.pipeline, docs: docs.map((_source) => ({ _source })) },
    idempotent: true,
  });
  return body;
}

export async function putComponentTemplate(client: ClusterClient, name: string, template: Record<string, unknown>): Promise<void> {
  await client.request({ method: 'PUT', path: encodePath('_component_template', name), body: template });
}

export async function deleteComponentTemplate(client: ClusterClient, name: string): Promise<boolean> {
  const { status } = await client.request({ method: 'DELETE', path: encodePath('_component_template', name), ignore: [404] });
  return status !== 404;
}

export async function putIndexTemplate(client: ClusterClient, name: string, template: Record<string, unknown>): Promise<void> {
  await client.request({ method: 'PUT', path: encodePath('_index_template', name), body: template });
}

export async function deleteIndexTemplate(client: ClusterClient, name: string): Promise<boolean> {
  const { status } = await client.request({ method: 'DELETE', path: encodePath('_index_template', name), ignore: [404] });
  return status !== 404;
}

export async function deleteDataStream(client: ClusterClient, name: string): Promise<boolean> {
  const { status } = await client.request({ method: 'DELETE', path: encodePath('_data_stream', name), ignore: [404] });
  return status !== 404;
}

export async function getDataStreams(client: ClusterClient, pattern: string): Promise<estypes.IndicesDataStream[]> {
  const { status, body } = await client.request<estypes.IndicesGetDataStreamResponse>({
    method: 'GET',
    path: encodePath('_data_stream', pattern),
    ignore: [404],
  });
  return status === 404 ? [] : body.data_streams;
}

export async function refresh(client: ClusterClient, target: string): Promise<void> {
  await client.request({ method: 'POST', path: `${encodePath(target)}/_refresh`, idempotent: true, query: { ignore_unavailable: true } });
}

export type BulkAction =
  | { create: { _index: string; _id?: string; pipeline?: string } }
  | { index: { _index: string; _id?: string; pipeline?: string } };

/**
 * Sends one bulk request. Not retried as a whole unless every action is a `create` with an id
 * (repeating it then only yields 409s, which callers count as duplicates).
 */
export async function bulk(
  client: ClusterClient,
  items: Array<{ action: BulkAction; document: Record<string, unknown> }>,
  query: { refresh?: boolean | 'wait_for'; pipeline?: string } = {},
): Promise<estypes.BulkResponse> {
  const idempotent = items.every((item) => 'create' in item.action && item.action.create._id !== undefined);
  const { body } = await client.request<estypes.BulkResponse>({
    method: 'POST',
    path: '/_bulk',
    query: { refresh: query.refresh === undefined ? undefined : String(query.refresh), pipeline: query.pipeline },
    ndjson: items.flatMap((item) => [item.action, item.document]),
    idempotent,
  });
  return body;
}

/**
 * A search whose answer must be whole: sent as idempotent (so transient failures are retried) and
 * refused when any shard failed, since a partial answer would let a reader move past events it
 * never saw or a dedup miss what is there. A status the caller ignores (404) comes back as it is.
 */
export async function searchAllShards<T>(client: ClusterClient, request: Omit<ClusterRequest, 'method' | 'idempotent' | 'ndjson'>): Promise<ClusterResponse<T>> {
  const response = await client.request<T & { _shards?: ShardsHeader }>({ ...request, method: 'POST', idempotent: true });
  if (response.status < 300) requireAllShards(response.body._shards, { method: 'POST', path: request.path });
  return response;
}

export async function search<TDoc = Record<string, unknown>>(
  client: ClusterClient,
  index: string,
  body: Record<string, unknown>,
): Promise<estypes.SearchResponse<TDoc>> {
  const { body: response } = await searchAllShards<estypes.SearchResponse<TDoc>>(client, { path: `${encodePath(index)}/_search`, body });
  return response;
}

/** Runs painless through the execute API: a real proof that the language is there, with no side effect. */
export async function executePainless(client: ClusterClient, source: string, params: Record<string, unknown> = {}): Promise<unknown> {
  const { body } = await client.request<{ result: unknown }>({
    method: 'POST',
    path: '/_scripts/painless/_execute',
    body: { script: { source, params } },
    idempotent: true,
  });
  return body.result;
}
