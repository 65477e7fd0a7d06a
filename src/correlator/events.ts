/**
 * From a search hit to a SourceEvent, or to the reason it cannot be correlated. The mapping already
 * refuses most bad values at index time (an ip that is not an address goes to the dead-letter
 * stream); what gets through and still cannot be joined safely is a document that names no source,
 * or a join key of the wrong shape (written around the pipelines, or by an older pipeline). Such an
 * event is skipped and counted by reason, never handed to an analytic, never allowed to end a run.
 */
import { isIP } from 'node:net';
import { isSource } from '../content/sources';
import { get } from './fields';
import type { SourceEvent } from './types';

export interface SearchHit {
  _index: string;
  _id: string;
  _source?: unknown;
  /** [@timestamp in epoch ms, tiebreaker]: the engine's own reading of @timestamp. */
  sort?: unknown[];
}

export type Checked = { ok: true; event: SourceEvent; source: string } | { ok: false; reason: string };

const STRING_KEYS = ['host.id', 'host.name', 'process.entity_id', 'network.community_id', 'event.action'];
const IP_KEYS = ['source.ip', 'destination.ip'];
const PORT_KEYS = ['source.port', 'destination.port'];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function badKey(doc: Record<string, unknown>): string | undefined {
  for (const key of STRING_KEYS) {
    const v = get(doc, key);
    if (v !== undefined && v !== null && typeof v !== 'string') return `${key} is not a string`;
  }
  for (const key of IP_KEYS) {
    const v = get(doc, key);
    if (v !== undefined && v !== null && (typeof v !== 'string' || isIP(v) === 0)) return `${key} is not an IP address`;
  }
  for (const key of PORT_KEYS) {
    const v = get(doc, key);
    if (v === undefined || v === null) continue;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) return `${key} is not a port`;
  }
  const hostIp = get(doc, 'host.ip');
  if (hostIp !== undefined && hostIp !== null && !(Array.isArray(hostIp) ? hostIp : [hostIp]).every((ip) => typeof ip === 'string' && isIP(ip) !== 0)) return 'host.ip is not a list of IP addresses';
  return undefined;
}

/** A hit of the source streams: a correlatable event, or why not. */
export function checkHit(hit: SearchHit): Checked {
  const doc = hit._source;
  if (!isObject(doc)) return { ok: false, reason: '_source is not an object' };
  const time = typeof hit.sort?.[0] === 'number' ? hit.sort[0] : Date.parse(String(doc['@timestamp']));
  if (!Number.isFinite(time)) return { ok: false, reason: '@timestamp is missing or not a date' };
  const dataset = get(doc, 'event.dataset');
  const source = typeof dataset === 'string' && dataset.startsWith('cryptochannel.') ? dataset.slice('cryptochannel.'.length) : undefined;
  if (!source || !isSource(source)) return { ok: false, reason: 'event.dataset does not name a cryptochannel source' };
  const bad = badKey(doc);
  if (bad) return { ok: false, reason: bad };
  return { ok: true, event: { index: hit._index, id: hit._id, time, doc }, source };
}
