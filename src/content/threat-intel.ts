/**
 * Threat-intel seed lists (abuse.ch SSLBL: JA3 fingerprints and certificate SHA1s) turned into
 * indicator documents. The format is told by the list's own column header, so a user's newer copy of
 * either list loads the same way.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { ContentError, listFiles } from './files';
import { sha256 } from './hash';

export const THREAT_INTEL_INDEX = 'cryptochannel-threatintel';

export type IndicatorKind = 'ja3' | 'cert_sha1';

export interface IntelDocument {
  _id: string;
  doc: Record<string, unknown>;
}

interface ListFormat {
  kind: IndicatorKind;
  list: string;
  feed: string;
  header: RegExp;
  row(cells: string[]): { value: string; reason: string; first?: string; last?: string } | undefined;
}

const FORMATS: ListFormat[] = [
  {
    kind: 'ja3',
    list: 'abusech_sslbl_ja3',
    feed: 'abuse.ch SSLBL JA3 Fingerprint Blacklist',
    header: /^#\s*ja3_md5,Firstseen,Lastseen,Listingreason/i,
    row: ([value, first, last, reason]) => (value && /^[0-9a-f]{32}$/i.test(value) ? { value: value.toLowerCase(), reason: reason ?? '', first, last } : undefined),
  },
  {
    kind: 'cert_sha1',
    list: 'abusech_sslbl_certificates',
    feed: 'abuse.ch SSLBL SSL Certificate Blacklist',
    header: /^#\s*Listingdate,SHA1,Listingreason/i,
    // ECS writes certificate fingerprints in upper case (tls.server.hash.sha1): so do the indicators.
    row: ([first, value, reason]) => (value && /^[0-9a-f]{40}$/i.test(value) ? { value: value.toUpperCase(), reason: reason ?? '', first } : undefined),
  },
];

/** "2019-07-27 20:42:54" (UTC, as abuse.ch writes it) → ISO 8601. */
function isoTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const t = Date.parse(`${value.trim().replace(' ', 'T')}Z`);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export function parseIntelList(file: string, text: string): IntelDocument[] {
  const lines = text.split(/\r?\n/);
  const format = FORMATS.find((f) => lines.some((l) => f.header.test(l)));
  if (!format) throw new ContentError(file, 'not a known threat-intel list: expected the column header of an abuse.ch SSLBL JA3 or certificate list');
  const docs: IntelDocument[] = [];
  const byId = new Map<string, IntelDocument>();
  lines.forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    const parsed = format.row(line.split(',').map((c) => c.trim()));
    if (!parsed) throw new ContentError(file, `line ${i + 1}: not a ${format.kind} row: ${line.slice(0, 120)}`);
    // A value listed twice (abuse.ch re-lists a certificate under another family): one indicator, both reasons.
    const seen = byId.get(`${format.kind}:${parsed.value}`);
    if (seen) {
      const intel = (seen.doc.cryptochannel as { intel: { reason: string } }).intel;
      if (!intel.reason.split('; ').includes(parsed.reason)) intel.reason = `${intel.reason}; ${parsed.reason}`;
      return;
    }
    const first = isoTime(parsed.first);
    const last = isoTime(parsed.last);
    docs.push({
      _id: `${format.kind}:${parsed.value}`,
      doc: {
        '@timestamp': first ?? last,
        threat: {
          feed: { name: format.feed },
          indicator: {
            type: format.kind === 'cert_sha1' ? 'x509-certificate' : 'other',
            description: parsed.reason,
            provider: 'abuse.ch',
            ...(first ? { first_seen: first } : {}),
            ...(last ? { last_seen: last } : {}),
          },
        },
        cryptochannel: { intel: { kind: format.kind, value: parsed.value, list: format.list, reason: parsed.reason, file: path.basename(file) } },
      },
    });
    byId.set(docs[docs.length - 1]!._id, docs[docs.length - 1]!);
  });
  return docs;
}

export interface ThreatIntelSeed {
  files: string[];
  documents: IntelDocument[];
  sha256: string;
}

export function loadThreatIntelSeed(integrationRoot: string): ThreatIntelSeed {
  const dir = path.join(integrationRoot, 'threat-intel');
  const files = listFiles(dir, (n) => n.endsWith('.csv'));
  const documents = files.flatMap((f) => parseIntelList(f, readFileSync(f, 'utf8')));
  return { files: files.map((f) => path.basename(f)), documents, sha256: sha256(documents) };
}

/** The threat-intel index's mapping: ECS threat.* plus the lookup keys the correlator uses. */
export const THREAT_INTEL_MAPPINGS = {
  dynamic: false,
  properties: {
    '@timestamp': { type: 'date' },
    threat: {
      properties: {
        feed: { properties: { name: { type: 'keyword' } } },
        indicator: {
          properties: {
            type: { type: 'keyword' },
            description: { type: 'keyword' },
            provider: { type: 'keyword' },
            first_seen: { type: 'date' },
            last_seen: { type: 'date' },
          },
        },
      },
    },
    cryptochannel: {
      properties: {
        intel: {
          properties: {
            kind: { type: 'keyword' },
            value: { type: 'keyword' },
            list: { type: 'keyword' },
            reason: { type: 'keyword' },
            file: { type: 'keyword' },
          },
        },
      },
    },
  },
} as const;
