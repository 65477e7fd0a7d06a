import { Client, errors } from '@opensearch-project/opensearch';
import type { ClusterRequest, ClusterResponse, Transport } from '../client';
import type { NormalisedConnection } from '../connection';
import { cleanQuery, mapVendorError } from './shared';

/** One attempt per call over @opensearch-project/opensearch; retries live above the seam. */
export class OpenSearchTransport implements Transport {
  private readonly client: Client;

  constructor(private readonly conn: NormalisedConnection) {
    const headers: Record<string, string> = {};
    // The OpenSearch client knows only basic and SigV4 auth; an API key goes in as a header.
    if (conn.auth && 'apiKey' in conn.auth) headers.authorization = `ApiKey ${conn.auth.apiKey}`;
    this.client = new Client({
      node: conn.url,
      auth: conn.auth && 'username' in conn.auth ? conn.auth : undefined,
      ssl: conn.ca ? { ca: conn.ca, rejectUnauthorized: true } : undefined,
      headers,
      maxRetries: 0,
      requestTimeout: conn.requestTimeoutMs,
    });
  }

  async send<T>(request: ClusterRequest): Promise<ClusterResponse<T>> {
    try {
      const response = await this.client.transport.request(
        {
          method: request.method,
          path: request.path,
          querystring: cleanQuery(request.query),
          body: request.body as never,
          bulkBody: request.ndjson as never,
        },
        { ignore: request.ignore, maxRetries: 0 },
      );
      return { status: response.statusCode ?? 200, body: response.body as T };
    } catch (err) {
      throw mapVendorError(err, request, this.conn, errors);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
