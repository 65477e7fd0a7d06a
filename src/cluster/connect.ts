import { ElasticsearchTransport } from './adapters/elasticsearch';
import { OpenSearchTransport } from './adapters/opensearch';
import type { ClusterClient, ClusterRequest, ClusterResponse, EngineInfo, Flavor, Transport } from './client';
import { normaliseConnection, type ConnectionOptions, type NormalisedConnection, type RetryPolicy } from './connection';
import { ClusterError } from './errors';
import { sendWithRetries, type RetryEvent } from './retry';

export interface ConnectHooks {
  onRetry?: (event: RetryEvent) => void;
}

/** The lowest Elasticsearch major whose APIs (data streams, community_id, composable templates) we need. */
export const MIN_ELASTICSEARCH_MAJOR = 8;

interface RootInfo {
  cluster_name?: string;
  version?: { number?: string; distribution?: string; build_flavor?: string };
}

/** Reads `GET /` and says which engine answers. Pure, so that it can be unit-tested. */
export function engineFromRoot(body: unknown): EngineInfo {
  const root = (body ?? {}) as RootInfo;
  const version = root.version?.number;
  if (!version) throw new ClusterError({ kind: 'unsupported', message: 'GET / did not return a version: is this Elasticsearch or OpenSearch?' });
  const flavor: Flavor = root.version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch';
  return { flavor, version, clusterName: root.cluster_name ?? 'unknown', buildFlavor: root.version?.build_flavor };
}

class RetryingClusterClient implements ClusterClient {
  readonly flavor: Flavor;
  readonly version: string;
  readonly clusterName: string;
  readonly buildFlavor?: string;
  readonly url: string;

  constructor(
    private readonly transport: Transport,
    info: EngineInfo,
    conn: NormalisedConnection,
    private readonly retry: RetryPolicy,
    private readonly hooks: ConnectHooks,
  ) {
    this.flavor = info.flavor;
    this.version = info.version;
    this.clusterName = info.clusterName;
    this.buildFlavor = info.buildFlavor;
    this.url = conn.url;
  }

  request<T = unknown>(request: ClusterRequest): Promise<ClusterResponse<T>> {
    return sendWithRetries<T>(this.transport, request, this.retry, this.hooks.onRetry);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/**
 * Connects and picks the adapter from what `GET /` says: the OpenSearch client asks first because
 * it sends plain JSON media types, which both engines accept; the Elasticsearch client would be
 * refused by OpenSearch (406) for its compatibility header.
 */
export async function connect(options: ConnectionOptions, hooks: ConnectHooks = {}): Promise<ClusterClient> {
  const conn = normaliseConnection(options);
  const probe = new OpenSearchTransport(conn);
  let info: EngineInfo;
  try {
    const root = await sendWithRetries(probe, { method: 'GET', path: '/' }, conn.retry, hooks.onRetry);
    info = engineFromRoot(root.body);
  } catch (err) {
    await probe.close();
    throw err;
  }
  if (info.flavor === 'opensearch') return new RetryingClusterClient(probe, info, conn, conn.retry, hooks);

  await probe.close();
  const major = Number.parseInt(info.version, 10);
  if (!(major >= MIN_ELASTICSEARCH_MAJOR)) {
    throw new ClusterError({
      kind: 'unsupported',
      message: `Elasticsearch ${info.version} at ${conn.url} is not supported: cryptochannel needs Elasticsearch ${MIN_ELASTICSEARCH_MAJOR}.0 or newer, or OpenSearch 2.x`,
    });
  }
  return new RetryingClusterClient(new ElasticsearchTransport(conn, major), info, conn, conn.retry, hooks);
}
