import { Client, errors } from '@elastic/elasticsearch';
import type { ClusterRequest, ClusterResponse, Transport } from '../client';
import type { NormalisedConnection } from '../connection';
import { cleanQuery, mapVendorError } from './shared';

/**
 * One attempt per call over @elastic/elasticsearch 9. The client announces compatible-with=9;
 * an 8.x server refuses that, so for 8.x the media types are set per request.
 */
export class ElasticsearchTransport implements Transport {
  private readonly client: Client;
  private readonly compatHeaders?: { json: Record<string, string>; ndjson: Record<string, string> };

  constructor(private readonly conn: NormalisedConnection, serverMajor: number) {
    this.client = new Client({
      node: conn.url,
      auth: conn.auth,
      tls: conn.ca ? { ca: conn.ca, rejectUnauthorized: true } : undefined,
      maxRetries: 0,
      requestTimeout: conn.requestTimeoutMs,
    });
    if (serverMajor === 8) {
      const accept = 'application/vnd.elasticsearch+json; compatible-with=8';
      this.compatHeaders = {
        json: { accept, 'content-type': accept },
        ndjson: { accept, 'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8' },
      };
    }
  }

  async send<T>(request: ClusterRequest): Promise<ClusterResponse<T>> {
    try {
      const response = await this.client.transport.request<T>(
        {
          method: request.method,
          path: request.path,
          querystring: cleanQuery(request.query),
          body: request.body as never,
          bulkBody: request.ndjson as never,
        },
        {
          meta: true,
          ignore: request.ignore,
          maxRetries: 0,
          signal: request.signal,
          headers: request.ndjson ? this.compatHeaders?.ndjson : this.compatHeaders?.json,
        },
      );
      return { status: response.statusCode ?? 200, body: response.body };
    } catch (err) {
      throw mapVendorError(err, request, this.conn, errors);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
