/**
 * Threat intel for one run: the indicators `apply` and `intel load` put into
 * cryptochannel-threatintel (abuse.ch SSLBL JA3s and certificate SHA1s), read whole at the start of
 * each run (a few thousand small documents), so a refreshed list is used from the next run on.
 */
import { encodePath, searchAllShards, type ClusterClient } from '../cluster';
import { THREAT_INTEL_INDEX } from '../content/threat-intel';
import type { IntelHit, IntelLookup } from './types';

export interface IntelSource {
  cryptochannel?: { intel?: { kind?: string; value?: string; list?: string; reason?: string } };
}

export interface LoadedIntel {
  lookup: IntelLookup;
  ja3: number;
  certSha1: number;
  /** False when the index is missing: the run goes on without intel, and says so. */
  present: boolean;
}

/** The indicator an intel document holds (as loadIntel reads it, or as the seed lists parse), if any. */
export function intelHit(source: IntelSource | undefined): IntelHit | undefined {
  const i = source?.cryptochannel?.intel;
  if ((i?.kind === 'ja3' || i?.kind === 'cert_sha1') && i.value) return { kind: i.kind, value: i.value, list: i.list ?? 'threat intel', reason: i.reason ?? '' };
  return undefined;
}

export function intelLookup(hits: IntelHit[]): IntelLookup {
  const ja3 = new Map<string, IntelHit>();
  const sha1 = new Map<string, IntelHit>();
  for (const hit of hits) {
    if (hit.kind === 'ja3') ja3.set(hit.value.toLowerCase(), hit);
    else sha1.set(hit.value.toUpperCase(), hit);
  }
  return { ja3: (md5) => ja3.get(md5.toLowerCase()), certSha1: (s) => sha1.get(s.toUpperCase()) };
}

const PAGE = 5000;

export async function loadIntel(client: ClusterClient, index = THREAT_INTEL_INDEX, signal?: AbortSignal): Promise<LoadedIntel> {
  const hits: IntelHit[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const res = await searchAllShards<{ hits: { hits: Array<{ _source?: IntelSource; sort?: unknown[] }> } }>(client, {
      path: `${encodePath(index)}/_search`,
      // kind + value is the indicator's identity (its _id is `kind:value`), so it is a total order for search_after.
      body: { size: PAGE, _source: ['cryptochannel.intel'], sort: [{ 'cryptochannel.intel.kind': 'asc' }, { 'cryptochannel.intel.value': 'asc' }], ...(after ? { search_after: after } : {}) },
      ignore: [404],
      signal,
    });
    if (res.status === 404) return { lookup: intelLookup([]), ja3: 0, certSha1: 0, present: false };
    const page = res.body.hits.hits;
    for (const h of page) {
      const hit = intelHit(h._source);
      if (hit) hits.push(hit);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.sort;
  }
  return { lookup: intelLookup(hits), ja3: hits.filter((h) => h.kind === 'ja3').length, certSha1: hits.filter((h) => h.kind === 'cert_sha1').length, present: true };
}
