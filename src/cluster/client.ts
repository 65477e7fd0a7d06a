/**
 * The seam: everything in cryptochannel that talks to Elasticsearch or OpenSearch goes through
 * ClusterClient. Adapters over the two official clients implement `send`; retries, error
 * mapping and the typed helpers sit on top and are the same for both engines.
 */
export type Flavor = 'elasticsearch' | 'opensearch';
export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export type QueryValue = string | number | boolean | undefined;

export interface ClusterRequest {
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** NDJSON lines (bulk, msearch); mutually exclusive with body. */
  ndjson?: unknown[];
  /**
   * Whether repeating the call cannot change the outcome. Defaults to true for GET, HEAD, PUT and
   * DELETE; a POST is retried only when the caller says so (searches, simulate, create-by-id).
   */
  idempotent?: boolean;
  /** Statuses that are answers rather than errors, for example 404 when probing for an asset. */
  ignore?: number[];
  signal?: AbortSignal;
}

export interface ClusterResponse<T = unknown> {
  status: number;
  body: T;
}

/** One attempt, no retries: what an adapter provides. Throws ClusterError. */
export interface Transport {
  send<T>(request: ClusterRequest): Promise<ClusterResponse<T>>;
  close(): Promise<void>;
}

export interface EngineInfo {
  flavor: Flavor;
  version: string;
  clusterName: string;
  /** Distribution build flavour as the node reports it (oss/default), when it does. */
  buildFlavor?: string;
}

export interface ClusterClient extends EngineInfo {
  /** Printable URL (no credentials). */
  readonly url: string;
  request<T = unknown>(request: ClusterRequest): Promise<ClusterResponse<T>>;
  close(): Promise<void>;
}

export function isIdempotent(request: Pick<ClusterRequest, 'method' | 'idempotent'>): boolean {
  return request.idempotent ?? request.method !== 'POST';
}

export function encodePath(...segments: string[]): string {
  return '/' + segments.map((s) => encodeURIComponent(s)).join('/');
}
