/**
 * The one error type for everything that goes wrong talking to a cluster.
 *
 * The vendor clients' errors carry the whole request (headers included), so they are never
 * rethrown: only the fields below survive, which keeps credentials out of messages and logs.
 */
export type ClusterErrorKind = 'response' | 'connection' | 'timeout' | 'unsupported';

export interface ScriptErrorDetail {
  /** Painless's own excerpt of the script around the failure, one line per frame. */
  scriptStack: string[];
  script?: string;
  lang?: string;
  position?: { offset: number; start: number; end: number };
}

export interface ClusterErrorInit {
  kind: ClusterErrorKind;
  message: string;
  method?: string;
  path?: string;
  status?: number;
  type?: string;
  reason?: string;
  rootCause?: Array<{ type: string; reason: string }>;
  script?: ScriptErrorDetail;
  /** Low-level code such as ECONNRESET or ECONNREFUSED. */
  code?: string;
}

export class ClusterError extends Error {
  readonly kind: ClusterErrorKind;
  readonly method?: string;
  readonly path?: string;
  readonly status?: number;
  readonly type?: string;
  readonly reason?: string;
  readonly rootCause: Array<{ type: string; reason: string }>;
  readonly script?: ScriptErrorDetail;
  readonly code?: string;

  constructor(init: ClusterErrorInit) {
    super(init.message);
    this.name = 'ClusterError';
    this.kind = init.kind;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.type = init.type;
    this.reason = init.reason;
    this.rootCause = init.rootCause ?? [];
    this.script = init.script;
    this.code = init.code;
  }

  /** 429, 502–504 and dropped or refused connections: worth another try if the call is idempotent. */
  get transient(): boolean {
    if (this.kind === 'connection' || this.kind === 'timeout') return true;
    return this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504;
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      message: this.message,
      method: this.method,
      path: this.path,
      status: this.status,
      type: this.type,
      reason: this.reason,
      root_cause: this.rootCause.length ? this.rootCause : undefined,
      script: this.script,
      code: this.code,
    };
  }
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Painless puts script_stack/position on the innermost cause; walk caused_by and root_cause to find it. */
function findScriptDetail(error: Json | undefined, depth = 0): ScriptErrorDetail | undefined {
  if (!error || depth > 8) return undefined;
  if (Array.isArray(error.script_stack)) {
    const pos = asObject(error.position);
    return {
      scriptStack: error.script_stack.map(String),
      script: str(error.script),
      lang: str(error.lang),
      position:
        pos && typeof pos.offset === 'number'
          ? { offset: pos.offset, start: Number(pos.start), end: Number(pos.end) }
          : undefined,
    };
  }
  for (const cause of [error.caused_by, ...(Array.isArray(error.root_cause) ? error.root_cause : [])]) {
    const found = findScriptDetail(asObject(cause), depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The deepest caused_by that still has a reason is usually the one a human needs. */
function deepestCause(error: Json): { type?: string; reason?: string } {
  let found: { type?: string; reason?: string } = {};
  let current: Json | undefined = error;
  for (let i = 0; current && i < 8; i++) {
    if (str(current.reason)) found = { type: str(current.type), reason: str(current.reason) };
    current = asObject(current.caused_by);
  }
  return found;
}

/** Builds a ClusterError from an error response body of either engine. */
export function fromResponse(status: number, body: unknown, method?: string, path?: string): ClusterError {
  const top = asObject(body);
  const error = asObject(top?.error);
  const rootCause = Array.isArray(error?.root_cause)
    ? error.root_cause
        .map(asObject)
        .filter((c): c is Json => c !== undefined)
        .map((c) => ({ type: str(c.type) ?? 'unknown', reason: str(c.reason) ?? '' }))
    : [];
  const type = str(error?.type);
  const reason = str(error?.reason) ?? (typeof top?.error === 'string' ? top.error : undefined);
  const cause = error ? deepestCause(error) : {};
  const script = findScriptDetail(error);
  const where = method && path ? `${method} ${path}` : 'request';
  let message = `${where} failed with ${status}`;
  if (type || reason) message += `: ${type ?? 'error'}${reason ? `: ${reason}` : ''}`;
  if (cause.reason && cause.reason !== reason) message += ` (caused by ${cause.type ?? 'error'}: ${cause.reason})`;
  if (script) message += `\n  script_stack:\n    ${script.scriptStack.join('\n    ')}`;
  return new ClusterError({ kind: 'response', message, method, path, status, type, reason, rootCause, script });
}

/** The `_shards` header of a search response. */
export interface ShardsHeader {
  total?: number;
  failed?: number;
  failures?: Array<{ index?: string | null; shard?: number; reason?: { type?: string; reason?: string } }>;
}

/**
 * A search that some shards failed still answers 200 with the other shards' hits. For a reader that
 * moves a checkpoint past what it read, or dedups against what it found, a partial answer would
 * lose events or duplicate alerts without a word, so callers that need every shard throw this.
 */
export function requireAllShards(shards: ShardsHeader | undefined, request: { method: string; path: string }): void {
  if (!shards?.failed) return;
  const first = shards.failures?.[0];
  const where = first?.index ? ` on ${first.index}` : '';
  const why = first?.reason ? `: ${first.reason.type ?? 'error'}: ${first.reason.reason ?? ''}` : '';
  throw new ClusterError({
    kind: 'response',
    message: `${request.method} ${request.path}: ${shards.failed} of ${shards.total ?? '?'} shard(s) failed${where}${why}`,
    method: request.method,
    path: request.path,
    type: 'partial_search_failure',
    reason: first?.reason?.reason,
    rootCause: (shards.failures ?? []).map((f) => ({ type: f.reason?.type ?? 'error', reason: f.reason?.reason ?? '' })),
  });
}
