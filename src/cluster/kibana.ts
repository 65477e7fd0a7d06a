/**
 * Kibana's HTTP API (detection rules, exception lists, saved objects), over the same seam as the
 * engine: one request shape, ClusterError for every failure, retries only for transient errors of
 * idempotent calls. Kibana wants `kbn-xsrf` on every write and takes the space as a path prefix.
 */
import { Agent, FormData, request as undiciRequest } from 'undici';
import type { ClusterRequest, ClusterResponse, Transport } from './client';
import { normaliseConnection, type ConnectionOptions, type NormalisedConnection } from './connection';
import { ClusterError } from './errors';
import { sendWithRetries, type RetryEvent } from './retry';

export interface KibanaRequest extends ClusterRequest {
  /** multipart/form-data with one file field (the saved-objects import). */
  form?: { field: string; filename: string; content: string; contentType: string };
}

function authHeader(conn: NormalisedConnection): Record<string, string> {
  if (!conn.auth) return {};
  if ('apiKey' in conn.auth) return { authorization: `ApiKey ${conn.auth.apiKey}` };
  return { authorization: `Basic ${Buffer.from(`${conn.auth.username}:${conn.auth.password}`).toString('base64')}` };
}

/** Kibana answers errors as {statusCode, error, message}; keep the message as the reason. */
function kibanaError(status: number, body: unknown, method: string, path: string): ClusterError {
  const b = body && typeof body === 'object' ? (body as { error?: string; message?: string }) : {};
  const reason = b.message ?? (typeof body === 'string' ? body.slice(0, 500) : undefined);
  return new ClusterError({ kind: 'response', message: `Kibana ${method} ${path} failed with ${status}${reason ? `: ${reason}` : ''}`, method, path, status, type: b.error, reason });
}

class KibanaTransport implements Transport {
  private readonly dispatcher: Agent;

  constructor(
    private readonly conn: NormalisedConnection,
    private readonly space: string | undefined,
  ) {
    this.dispatcher = new Agent({ connect: conn.ca ? { ca: conn.ca, rejectUnauthorized: true } : { rejectUnauthorized: true } });
  }

  async send<T>(req: ClusterRequest): Promise<ClusterResponse<T>> {
    const r = req as KibanaRequest;
    const prefix = this.space && this.space !== 'default' ? `/s/${encodeURIComponent(this.space)}` : '';
    const url = new URL(`${prefix}${r.path}`, this.conn.url);
    for (const [k, v] of Object.entries(r.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { 'kbn-xsrf': 'cryptochannel', 'elastic-api-version': '2023-10-31', ...authHeader(this.conn) };
    let body: string | FormData | undefined;
    if (r.form) {
      const form = new FormData();
      form.append(r.form.field, new Blob([r.form.content], { type: r.form.contentType }), r.form.filename);
      body = form;
    } else if (r.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(r.body);
    }
    let res;
    try {
      res = await undiciRequest(url, { method: r.method, headers, body, dispatcher: this.dispatcher, headersTimeout: this.conn.requestTimeoutMs, bodyTimeout: this.conn.requestTimeoutMs });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const timeout = e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
      throw new ClusterError({ kind: timeout ? 'timeout' : 'connection', message: `Kibana ${r.method} ${r.path}: ${e.message}`, method: r.method, path: r.path, code: e.code });
    }
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* Kibana's proxies may answer HTML: keep the text for the error */
    }
    if (res.statusCode >= 400 && !(r.ignore ?? []).includes(res.statusCode)) throw kibanaError(res.statusCode, parsed, r.method, r.path);
    return { status: res.statusCode, body: parsed as T };
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

export interface KibanaClient {
  readonly url: string;
  readonly space: string;
  request<T = unknown>(request: KibanaRequest): Promise<ClusterResponse<T>>;
  close(): Promise<void>;
}

export function kibanaClient(options: ConnectionOptions & { kibanaUrl: string; space?: string }, hooks: { onRetry?: (e: RetryEvent) => void } = {}): KibanaClient {
  const conn = normaliseConnection({ ...options, url: options.kibanaUrl });
  const transport = new KibanaTransport(conn, options.space);
  return {
    url: conn.url,
    space: options.space ?? 'default',
    request: <T>(req: KibanaRequest) => sendWithRetries<T>(transport, req, conn.retry, hooks.onRetry),
    close: () => transport.close(),
  };
}
