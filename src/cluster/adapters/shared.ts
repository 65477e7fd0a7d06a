import type { ClusterRequest, QueryValue } from '../client';
import type { NormalisedConnection } from '../connection';
import { ClusterError, fromResponse } from '../errors';

export function cleanQuery(query: Record<string, QueryValue> | undefined): Record<string, string> | undefined {
  if (!query) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) if (value !== undefined) out[key] = String(value);
  return out;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes both official clients export under the same names. */
export interface VendorErrors {
  ResponseError: ErrorClass;
  TimeoutError: ErrorClass;
  ConnectionError: ErrorClass;
  NoLivingConnectionsError: ErrorClass;
  RequestAbortedError: ErrorClass;
}

const CODE_PATTERN = /\b(E[A-Z]{3,})\b/;

/**
 * Maps a vendor client's error to ClusterError. The vendor errors carry the whole request
 * (headers and credentials included), so only status, body and socket code are kept.
 */
export function mapVendorError(
  err: unknown,
  request: ClusterRequest,
  conn: NormalisedConnection,
  vendor: VendorErrors,
): ClusterError {
  if (err instanceof ClusterError) return err;
  const where = `${request.method} ${request.path}`;
  const base = { method: request.method, path: request.path };
  if (err instanceof vendor.ResponseError) {
    const meta = (err as unknown as { meta: { statusCode?: number; body?: unknown } }).meta;
    return fromResponse(meta.statusCode ?? 0, meta.body, request.method, request.path);
  }
  if (err instanceof vendor.TimeoutError) {
    return new ClusterError({ ...base, kind: 'timeout', message: `${where}: no answer from ${conn.url} within ${conn.requestTimeoutMs} ms` });
  }
  if (err instanceof vendor.RequestAbortedError) {
    return new ClusterError({ ...base, kind: 'connection', code: 'ABORTED', message: `${where}: aborted` });
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof vendor.ConnectionError || err instanceof vendor.NoLivingConnectionsError) {
    const code = CODE_PATTERN.exec(message)?.[1] ?? (/socket hang up/i.test(message) ? 'ECONNRESET' : undefined);
    return new ClusterError({
      ...base,
      kind: 'connection',
      code,
      message: `${where}: cannot reach ${conn.url}${code ? ` (${code})` : ''}: ${message}`,
    });
  }
  return new ClusterError({ ...base, kind: 'connection', message: `${where}: ${message}` });
}
