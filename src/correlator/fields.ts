/**
 * Reading normalised events: typed accessors over dotted paths, and the event shapes the analytics
 * join (crypto-library loads, endpoint connections, TLS sessions, certificates, flows, IDS alerts).
 * Every predicate reads only fields the pipelines write (see ingest-pipelines/<source>/fields).
 */
import type { SourceEvent } from './types';

// The analytics read the same few dozen paths millions of times per run (every buffered event at
// every grid step): splitting each path once, not at every read, was most of a run's time (profiled).
const PATHS = new Map<string, readonly string[]>();

function pathParts(dotted: string): readonly string[] {
  let parts = PATHS.get(dotted);
  if (!parts) {
    parts = dotted.split('.');
    PATHS.set(dotted, parts);
  }
  return parts;
}

export function get(doc: unknown, dotted: string): unknown {
  const parts = pathParts(dotted);
  let node: unknown = doc;
  for (let i = 0; i < parts.length; i++) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[parts[i]!];
  }
  return node;
}

export function str(e: SourceEvent, path: string): string | undefined {
  const v = get(e.doc, path);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function num(e: SourceEvent, path: string): number | undefined {
  const v = get(e.doc, path);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function bool(e: SourceEvent, path: string): boolean | undefined {
  const v = get(e.doc, path);
  return typeof v === 'boolean' ? v : undefined;
}

/** A keyword field that may be one value or an array (ECS arrays such as event.category). */
export function list(e: SourceEvent, path: string): string[] {
  const v = get(e.doc, path);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

export function dataset(e: SourceEvent): string | undefined {
  return str(e, 'event.dataset');
}

// Every analytic asks every buffered event its source at every grid step; an event's source never changes.
const SOURCE = new WeakMap<SourceEvent, string | null>();

/** `cryptochannel.<source>` → `<source>`. */
export function sourceOf(e: SourceEvent): string | undefined {
  let source = SOURCE.get(e);
  if (source === undefined) {
    const d = dataset(e);
    source = d?.startsWith('cryptochannel.') ? d.slice('cryptochannel.'.length) : null;
    SOURCE.set(e, source);
  }
  return source ?? undefined;
}

/** "15m", "90s", "2h", "500ms" → milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new RangeError(`not a duration: ${text} (use 500ms, 90s, 15m, 2h, 1d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

/** The endpoint identity two endpoint events must share to be one process's story. */
export function processKey(e: SourceEvent): string | undefined {
  const entity = str(e, 'process.entity_id');
  if (!entity) return undefined;
  const host = str(e, 'host.id') ?? str(e, 'host.name') ?? '';
  return `${host}\u0000${entity}`;
}

export interface FiveTuple {
  transport: string;
  a: string;
  ap: number;
  b: string;
  bp: number;
}

/** Source → destination 5-tuple, when the event has one. */
export function fiveTuple(e: SourceEvent): FiveTuple | undefined {
  const a = str(e, 'source.ip');
  const b = str(e, 'destination.ip');
  const ap = num(e, 'source.port');
  const bp = num(e, 'destination.port');
  if (!a || !b || ap === undefined || bp === undefined) return undefined;
  return { transport: str(e, 'network.transport') ?? 'tcp', a, ap, b, bp };
}

/**
 * Two observations of one connection: the same community id, or else the same 5-tuple (either
 * orientation, since sensors disagree about who is the source) within `skewMs` of each other.
 */
export function sameConnection(x: SourceEvent, y: SourceEvent, skewMs: number): boolean {
  const cx = str(x, 'network.community_id');
  const cy = str(y, 'network.community_id');
  if (cx && cy) return cx === cy && Math.abs(x.time - y.time) <= skewMs;
  const tx = fiveTuple(x);
  const ty = fiveTuple(y);
  if (!tx || !ty || Math.abs(x.time - y.time) > skewMs) return false;
  const forward = tx.a === ty.a && tx.ap === ty.ap && tx.b === ty.b && tx.bp === ty.bp;
  const reverse = tx.a === ty.b && tx.ap === ty.bp && tx.b === ty.a && tx.bp === ty.ap;
  return (forward || reverse) && tx.transport === ty.transport;
}

/** The same server: destination ip and port (for joins where the client port is not known, as in the unified log). */
export function sameServer(x: SourceEvent, y: SourceEvent): boolean {
  const dx = str(x, 'destination.ip') ?? str(x, 'destination.domain');
  const dy = str(y, 'destination.ip') ?? str(y, 'destination.domain');
  return !!dx && dx === dy && num(x, 'destination.port') === num(y, 'destination.port');
}

/** Case-insensitive membership, for names users type (process names, hosts). */
export function inList(value: string | undefined, entries: readonly string[]): boolean {
  if (!value) return false;
  const v = value.toLowerCase();
  return entries.some((e) => e.toLowerCase() === v);
}

/** The file name of a Windows or POSIX path. */
export function baseName(path: string | undefined): string | undefined {
  if (!path) return undefined;
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}
