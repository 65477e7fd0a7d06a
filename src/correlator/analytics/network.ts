/**
 * What AN1498, AN1499 and AN1500 share: addresses and the live allow-lists (InternalNetworks,
 * BaselineMgmtHosts, CertificateAuthorityList re-checked here, since the ingest-time flags were computed
 * from the tunables of that day), the network sensors' events (Zeek and Suricata TLS sessions, Zeek
 * certificates, flows, IDS alerts and anomalies), the certificate issues of a session, and the alert
 * entities and indicators a session gives. Pure; every accessor tolerates missing or mistyped fields.
 */
import { CLOCK_SKEW_MS } from '../correlate';
import { bool, get, list, num, sourceOf, str } from '../fields';
import type { FindingEntities, Reason, SourceEvent } from '../types';
import type { Tunables } from '../../content';

// ---------------------------------------------------------------------------------------------
// Addresses

// A run asks about the same few thousand addresses at every grid step; parsing is pure, so each
// text is parsed once. Bounded: a run over millions of distinct addresses starts the cache afresh.
const PARSED = new Map<string, readonly number[] | undefined>();
const PARSED_MAX = 100_000;

/** An address as 16 bytes (IPv4 mapped into ::ffff:0:0/96), or undefined when the text is not one. */
export function ipBytes(text: string | undefined): readonly number[] | undefined {
  if (!text) return undefined;
  if (PARSED.has(text)) return PARSED.get(text);
  const bytes = parseIp(text);
  if (PARSED.size >= PARSED_MAX) PARSED.clear();
  PARSED.set(text, bytes ? Object.freeze(bytes) : undefined);
  return PARSED.get(text);
}

function parseIp(text: string): number[] | undefined {
  const s = text.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const v4 = (t: string): number[] | undefined => {
    const parts = t.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return parts.map(Number);
  };
  if (!s.includes(':')) {
    const b = v4(s);
    return b ? [...Array(10).fill(0), 0xff, 0xff, ...b] : undefined;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const words = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const groups = part.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const b = v4(g);
        if (!b) return undefined;
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

/** `ip` lies in `cidr` ("10.0.0.0/8", "fc00::/7", or a bare address meaning /32 or /128). */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, lenText] = cidr.split('/');
  const a = ipBytes(ip);
  const b = ipBytes(net);
  if (!a || !b) return false;
  const v4 = !net!.includes(':');
  const len = lenText === undefined ? 128 : Number(lenText) + (v4 ? 96 : 0);
  if (!Number.isInteger(len) || len < 0 || len > 128) return false;
  for (let bit = 0; bit < len; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

export function isIp(text: string | undefined): boolean {
  return ipBytes(text) !== undefined;
}

/** Internal per the live InternalNetworks tunable; undefined when the text is not an address. */
// Asked for the same addresses at every grid step, under the same tunables object within a run.
const INTERNAL = new WeakMap<Tunables, Map<string, boolean>>();

export function isInternal(ip: string | undefined, tunables: Tunables): boolean | undefined {
  if (!ip || !isIp(ip)) return undefined;
  let known = INTERNAL.get(tunables);
  if (!known) INTERNAL.set(tunables, (known = new Map()));
  let internal = known.get(ip);
  if (internal === undefined) {
    internal = tunables.InternalNetworks.some((c) => inCidr(ip, c));
    if (known.size >= PARSED_MAX) known.clear();
    known.set(ip, internal);
  }
  return internal;
}

function normName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * One allow-list entry against a peer, the way the esxi pipeline reads BaselineMgmtHosts: an exact
 * name (case-insensitive, trailing dot ignored), `*.suffix` for any name under the suffix (not the
 * suffix itself, and only on a label boundary: `*.vmware.com` does not match `evilvmware.com`), an
 * address, or a CIDR.
 */
export function hostEntryMatches(entry: string, peer: string): boolean {
  const e = normName(entry);
  const p = normName(peer);
  if (!e || !p) return false;
  if (isIp(p)) {
    if (e.includes('/')) return inCidr(p, e);
    const a = ipBytes(p);
    const b = ipBytes(e);
    return !!a && !!b && a.every((x, i) => x === b[i]);
  }
  if (e.startsWith('*.')) return p.endsWith(e.slice(1)) && p.length > e.length - 1;
  return e === p;
}

export function inHostList(peer: string | undefined, entries: readonly string[]): boolean {
  return !!peer && entries.some((entry) => hostEntryMatches(entry, peer));
}

// ---------------------------------------------------------------------------------------------
// The sensors' events

export const SENSORS = ['zeek', 'suricata', 'netflow'] as const;

export function isSensor(e: SourceEvent): boolean {
  return (SENSORS as readonly string[]).includes(sourceOf(e) ?? '');
}

const action = (e: SourceEvent): string | undefined => str(e, 'event.action');

export function isTlsSession(e: SourceEvent): boolean {
  return isSensor(e) && action(e) === 'tls_session';
}

export function isCertificate(e: SourceEvent): boolean {
  return sourceOf(e) === 'zeek' && action(e) === 'x509_certificate';
}

export function isFlow(e: SourceEvent): boolean {
  return isSensor(e) && (action(e) === 'network_flow' || action(e) === 'netflow_flow');
}

export function isIdsAlert(e: SourceEvent): boolean {
  return sourceOf(e) === 'suricata' && action(e) === 'ids_alert';
}

export function isAnomaly(e: SourceEvent): boolean {
  return sourceOf(e) === 'suricata' && action(e) === 'protocol_anomaly';
}

/** The sensor says the connection speaks TLS (session, or the IDS's application-layer guess). */
export function speaksTls(e: SourceEvent): boolean {
  const protocol = str(e, 'network.protocol');
  // Zeek's conn.log names the service "ssl" whatever the version.
  return isTlsSession(e) || protocol === 'tls' || protocol === 'ssl' || str(e, 'cryptochannel.suricata.app_proto') === 'tls' || str(e, 'cryptochannel.suricata.anomaly.app_proto') === 'tls';
}

/** [start, end] of an event: flows span event.start..event.end, everything else is a point in time. */
export function span(e: SourceEvent): [number, number] {
  const s = Date.parse(str(e, 'event.start') ?? '');
  const t = Date.parse(str(e, 'event.end') ?? '');
  const start = Number.isFinite(s) ? Math.min(s, e.time) : e.time;
  const end = Number.isFinite(t) ? Math.max(t, e.time) : e.time;
  return [start, end];
}

export interface Server {
  ip?: string;
  domain?: string;
  port?: number;
}

export function serverOf(e: SourceEvent): Server {
  const domain = str(e, 'destination.domain');
  return { ip: str(e, 'destination.ip'), domain: domain ? normName(domain) : undefined, port: num(e, 'destination.port') };
}

/** The same server: ports equal (when both known), and the same address or the same name. */
export function sameServer(a: Server, b: Server): boolean {
  if (a.port !== undefined && b.port !== undefined && a.port !== b.port) return false;
  if (a.ip && b.ip) return a.ip === b.ip;
  return !!a.domain && !!b.domain && a.domain === b.domain;
}

// ---------------------------------------------------------------------------------------------
// Zeek certificates: x509.log joined to ssl.log by file id (older Zeek) or fingerprint (newer Zeek)

export type CertificateIndex = Map<string, SourceEvent[]>;

export function certificateIndex(events: SourceEvent[]): CertificateIndex {
  const index: CertificateIndex = new Map();
  const add = (key: string, e: SourceEvent): void => {
    const at = index.get(key);
    if (at) at.push(e);
    else index.set(key, [e]);
  };
  for (const e of [...events].sort((a, b) => a.time - b.time)) {
    if (!isCertificate(e)) continue;
    const fuid = str(e, 'cryptochannel.zeek.fuid');
    const fp = str(e, 'cryptochannel.zeek.fingerprint');
    if (fuid) add(`fuid:${fuid}`, e);
    if (fp) add(`fp:${fp.toLowerCase()}`, e);
  }
  return index;
}

/** Index of the first event at or after `time` in a time-ordered list. */
function lowerBound(events: SourceEvent[], time: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.time < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The server (leaf) certificate of a Zeek session: the first of its chain, the nearest in time (a
 * fingerprint recurs for every session to the same server, so this is a search, not a scan).
 */
export function leafCertificate(session: SourceEvent, index: CertificateIndex, windowMs: number): SourceEvent | undefined {
  const keys = [...list(session, 'cryptochannel.zeek.cert_chain_fuids').slice(0, 1).map((f) => `fuid:${f}`), ...list(session, 'cryptochannel.zeek.cert_chain_fps').slice(0, 1).map((f) => `fp:${f.toLowerCase()}`)];
  let best: SourceEvent | undefined;
  for (const key of keys) {
    const certs = index.get(key);
    if (!certs) continue;
    const i = lowerBound(certs, session.time);
    for (const c of [certs[i - 1], certs[i]]) {
      if (!c) continue;
      const d = Math.abs(c.time - session.time);
      if (d <= windowMs && (!best || d < Math.abs(best.time - session.time))) best = c;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Certificate issues

export type CertIssueName =
  | 'self_signed'
  | 'untrusted_issuer'
  | 'cert_expired'
  | 'cert_not_yet_valid'
  | 'validation_failed'
  | 'weak_rsa_key'
  | 'cert_validity_too_long'
  | 'sni_cert_mismatch'
  | 'malformed_certificate';

export interface CertIssue {
  name: CertIssueName;
  observed: string;
  threshold: string;
  tunable?: string;
  /** The event that showed it (the session or its certificate). */
  from: SourceEvent;
}

function anyBool(events: SourceEvent[], path: string): SourceEvent | undefined {
  return events.find((e) => bool(e, path) === true);
}

/** Issuer CN and O of a certificate (ECS arrays, else taken from the issuer DN). */
export function issuerNames(e: SourceEvent): string[] {
  const names = [...list(e, 'tls.server.x509.issuer.common_name'), ...list(e, 'tls.server.x509.issuer.organization')];
  if (names.length) return names;
  const dn = str(e, 'tls.server.issuer') ?? str(e, 'tls.server.x509.issuer.distinguished_name');
  if (!dn) return [];
  return [...dn.matchAll(/(?:^|[,/])\s*(?:CN|O)\s*=\s*((?:\\,|[^,/])+)/gi)].map((m) => m[1]!.trim()).filter((n) => n !== '');
}

const SENSOR_NO_ISSUER = /unable to get (?:local )?issuer|unknown ca/i;

/**
 * The issuer is a public CA of the live CertificateAuthorityList (substring of the issuer's O or CN,
 * case-insensitive), never for a self-signed certificate or one whose issuer the sensor could not
 * find. Undefined when the events name no issuer and carry no ingest-time verdict.
 */
export function issuerTrusted(events: SourceEvent[], tunables: Tunables): boolean | undefined {
  if (anyBool(events, 'cryptochannel.tls.self_signed')) return false;
  if (events.some((e) => SENSOR_NO_ISSUER.test(str(e, 'cryptochannel.tls.validation_status') ?? ''))) return false;
  const names = events.flatMap(issuerNames);
  if (names.length) {
    const cas = tunables.CertificateAuthorityList.map((c) => c.toLowerCase()).filter((c) => c !== '');
    return names.some((n) => cas.some((ca) => n.toLowerCase().includes(ca)));
  }
  const flags = events.map((e) => bool(e, 'cryptochannel.tls.issuer_trusted')).filter((b): b is boolean => b !== undefined);
  return flags.length ? flags.every(Boolean) : undefined;
}

const WEAK_SIGNATURE = /^(md2|md4|md5|sha1)with/i;

/**
 * Everything wrong with the certificate a session presented, per the live CertValidationPolicy and
 * CertificateAuthorityList. `events` are the session (and its Zeek certificate when linked); each
 * issue names the event that showed it.
 */
export function certificateIssues(events: SourceEvent[], tunables: Tunables): CertIssue[] {
  const policy = tunables.CertValidationPolicy;
  const issues: CertIssue[] = [];
  const push = (issue: Omit<CertIssue, 'from'>, from: SourceEvent | undefined): void => {
    if (from) issues.push({ ...issue, from });
  };
  const selfSigned = anyBool(events, 'cryptochannel.tls.self_signed');
  if (selfSigned && !policy.allow_self_signed) {
    push({ name: 'self_signed', observed: str(selfSigned, 'tls.server.issuer') ?? 'self-signed', threshold: 'allow_self_signed: false', tunable: 'CertValidationPolicy.allow_self_signed' }, selfSigned);
  }
  const trusted = issuerTrusted(events, tunables);
  if (!selfSigned && trusted === false && policy.require_trusted_issuer) {
    const from = events.find((e) => issuerNames(e).length) ?? events[0];
    const names = [...new Set(events.flatMap(issuerNames))];
    push({ name: 'untrusted_issuer', observed: names.length ? names.join(', ') : (str(from!, 'cryptochannel.tls.validation_status') ?? 'issuer not trusted'), threshold: 'require_trusted_issuer: true; issuer in CertificateAuthorityList', tunable: 'CertValidationPolicy.require_trusted_issuer' }, from);
  }
  const expired = anyBool(events, 'cryptochannel.tls.cert_expired');
  if (expired) push({ name: 'cert_expired', observed: `not after ${str(expired, 'tls.server.x509.not_after') ?? str(expired, 'tls.server.not_after') ?? '(sensor verdict)'}`, threshold: 'valid at the time of the session' }, expired);
  const early = anyBool(events, 'cryptochannel.tls.cert_not_yet_valid');
  if (early) push({ name: 'cert_not_yet_valid', observed: `not before ${str(early, 'tls.server.x509.not_before') ?? str(early, 'tls.server.not_before') ?? '(sensor verdict)'}`, threshold: 'valid at the time of the session' }, early);
  for (const e of events) {
    const bits = num(e, 'tls.server.x509.public_key_size');
    const alg = str(e, 'tls.server.x509.public_key_algorithm') ?? '';
    if (bits !== undefined && /rsa/i.test(alg) && bits < policy.min_rsa_key_bits) {
      push({ name: 'weak_rsa_key', observed: `${bits} bits`, threshold: `${policy.min_rsa_key_bits} bits`, tunable: 'CertValidationPolicy.min_rsa_key_bits' }, e);
      break;
    }
  }
  // Only when no certificate gave the key size: the ingest-time verdict (computed at 2048 bits).
  if (!issues.some((i) => i.name === 'weak_rsa_key') && !events.some((e) => num(e, 'tls.server.x509.public_key_size') !== undefined)) {
    const weak = anyBool(events, 'cryptochannel.tls.weak_key');
    if (weak) push({ name: 'weak_rsa_key', observed: 'below 2048 bits (sensor verdict)', threshold: `${policy.min_rsa_key_bits} bits`, tunable: 'CertValidationPolicy.min_rsa_key_bits' }, weak);
  }
  for (const e of events) {
    const days = num(e, 'cryptochannel.tls.cert_validity_days');
    if (days !== undefined && days > policy.max_validity_days) {
      push({ name: 'cert_validity_too_long', observed: `${days} days`, threshold: `${policy.max_validity_days} days`, tunable: 'CertValidationPolicy.max_validity_days' }, e);
      break;
    }
  }
  const mismatch = anyBool(events, 'cryptochannel.tls.sni_cert_mismatch');
  if (mismatch) push({ name: 'sni_cert_mismatch', observed: str(mismatch, 'tls.client.server_name') ?? 'SNI', threshold: 'SNI matches the certificate subject or a SAN' }, mismatch);
  const malformed: string[] = [];
  let malformedFrom: SourceEvent | undefined;
  for (const e of events) {
    const subject = str(e, 'tls.server.subject') ?? str(e, 'tls.server.x509.subject.distinguished_name');
    const issuer = str(e, 'tls.server.issuer') ?? str(e, 'tls.server.x509.issuer.distinguished_name');
    const what: string[] = [];
    if (!!subject !== !!issuer) what.push(subject ? 'empty issuer DN' : 'empty subject DN');
    const version = str(e, 'tls.server.x509.version_number');
    if (version && version !== '3') what.push(`X.509 v${version}`);
    const sig = str(e, 'tls.server.x509.signature_algorithm');
    if (sig && WEAK_SIGNATURE.test(sig)) what.push(`signed ${sig}`);
    if (what.length) {
      malformed.push(...what);
      malformedFrom ??= e;
    }
  }
  if (malformed.length) push({ name: 'malformed_certificate', observed: [...new Set(malformed)].join(', '), threshold: 'X.509 v3, subject and issuer named, SHA-2 signature' }, malformedFrom);
  // The sensor's own verdict, when none of the above explains it.
  const status = events.map((e) => [e, str(e, 'cryptochannel.tls.validation_status')] as const).find(([, s]) => s && s.toLowerCase() !== 'ok');
  if (status && !issues.length) push({ name: 'validation_failed', observed: status[1]!, threshold: 'sensor validation ok' }, status[0]);
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Endpoints, entities, indicators

/** The client and server of a connection's sensor events, oriented the way the handshake went. */
export interface Endpoints {
  client?: { ip: string; port?: number };
  server?: { ip: string; port?: number };
}

function endpoint(e: SourceEvent, side: 'source' | 'destination'): { ip: string; port?: number } | undefined {
  const ip = str(e, `${side}.ip`);
  return ip ? { ip, port: num(e, `${side}.port`) } : undefined;
}

/**
 * Who opened the connection: a TLS session or a bidirectional flow record says it (source = client);
 * a Suricata alert says it through its direction; NetFlow records are one-way, so the record that
 * started first is the client's; failing all that, the side on the lower port is the server.
 */
export function endpointsOf(events: SourceEvent[]): Endpoints {
  const oriented = events.find((e) => isTlsSession(e) || (isFlow(e) && sourceOf(e) !== 'netflow'));
  if (oriented) return { client: endpoint(oriented, 'source'), server: endpoint(oriented, 'destination') };
  const alert = events.find((e) => (isIdsAlert(e) || isAnomaly(e)) && !bool(e, 'cryptochannel.suricata.orientation_unknown'));
  if (alert) {
    const toClient = str(alert, 'cryptochannel.suricata.direction') === 'to_client';
    return toClient ? { client: endpoint(alert, 'destination'), server: endpoint(alert, 'source') } : { client: endpoint(alert, 'source'), server: endpoint(alert, 'destination') };
  }
  const flows = events.filter((e) => sourceOf(e) === 'netflow').sort((a, b) => span(a)[0] - span(b)[0]);
  if (flows.length) return { client: endpoint(flows[0]!, 'source'), server: endpoint(flows[0]!, 'destination') };
  const any = events.find((e) => str(e, 'source.ip') && str(e, 'destination.ip'));
  if (!any) return {};
  const s = endpoint(any, 'source')!;
  const d = endpoint(any, 'destination')!;
  return (s.port ?? 65536) < (d.port ?? 65536) ? { client: d, server: s } : { client: s, server: d };
}

/**
 * Host names by address, when any host-based source names the address (design.md "Whose alert"):
 * host.ip, or the source address of a connection the named host opened. Built once per run of an
 * analytic, so naming a finding's host costs a lookup, not a pass over the buffer.
 */
export function hostNames(events: SourceEvent[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of events) {
    const name = str(e, 'host.name');
    if (!name || isSensor(e)) continue;
    for (const ip of list(e, 'host.ip')) if (!names.has(ip)) names.set(ip, name);
    const src = str(e, 'source.ip');
    const dir = str(e, 'network.direction');
    if (src && !names.has(src) && (dir === 'egress' || bool(e, 'cryptochannel.esxi.outbound') === true)) names.set(src, name);
  }
  return names;
}

const TLS_FIELDS = [
  'version',
  'version_protocol',
  'cipher',
  'established',
  'client.ja3',
  'client.server_name',
  'server.ja3s',
  'server.hash.sha1',
  'server.hash.sha256',
  'server.issuer',
  'server.subject',
  'server.not_before',
  'server.not_after',
] as const;

/** The tls.* of an alert: the first value each field has across the session's events. */
export function tlsOf(events: SourceEvent[]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const field of TLS_FIELDS) {
    for (const e of events) {
      const v = get(e.doc, `tls.${field}`);
      if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') {
        const parts = field.split('.');
        let node = out;
        for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
        node[parts[parts.length - 1]!] = v;
        break;
      }
    }
  }
  return Object.keys(out).length ? out : undefined;
}

export function indicatorsOf(events: SourceEvent[]): { ja3?: string[]; cert_sha1?: string[] } | undefined {
  const ja3 = [...new Set(events.map((e) => str(e, 'tls.client.ja3')).filter((v): v is string => !!v && /^[0-9a-f]{32}$/i.test(v)))];
  const sha1 = [...new Set(events.map((e) => str(e, 'tls.server.hash.sha1')).filter((v): v is string => !!v && /^[0-9a-f]{40}$/i.test(v)))];
  if (!ja3.length && !sha1.length) return undefined;
  return { ...(ja3.length ? { ja3 } : {}), ...(sha1.length ? { cert_sha1: sha1 } : {}) };
}

function communityIdOf(events: SourceEvent[]): string | undefined {
  for (const e of events) {
    const c = str(e, 'network.community_id');
    if (c) return c;
  }
  return undefined;
}

/** The network.* of an alert. */
export function networkOf(events: SourceEvent[], protocol?: string): FindingEntities['network'] {
  const out: NonNullable<FindingEntities['network']> = {};
  const community = communityIdOf(events);
  if (community) out.community_id = community;
  const transport = events.map((e) => str(e, 'network.transport')).find(Boolean);
  if (transport) out.transport = transport;
  const proto = protocol ?? events.map((e) => str(e, 'network.protocol')).find(Boolean);
  if (proto) out.protocol = proto;
  const direction = events.map((e) => str(e, 'network.direction')).find(Boolean);
  if (direction) out.direction = direction;
  return Object.keys(out).length ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// Sensor sessions seen for an endpoint's connection

/**
 * Sensor events by community id, by server (address or SNI) and by client-server pair, each list in
 * time order, so that a join looks up its key and a time range instead of passing over the buffer: a
 * thousand Macs reaching the same CDN within the window must not cost a million comparisons.
 */
export interface SensorIndex {
  byCommunityId: Map<string, SourceEvent[]>;
  byServer: Map<string, SourceEvent[]>;
  byPair: Map<string, SourceEvent[]>;
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

export function sensorIndex(events: SourceEvent[]): SensorIndex {
  const index: SensorIndex = { byCommunityId: new Map(), byServer: new Map(), byPair: new Map() };
  const add = (map: Map<string, SourceEvent[]>, key: string | undefined, e: SourceEvent): void => {
    if (!key) return;
    const at = map.get(key);
    if (at) at.push(e);
    else map.set(key, [e]);
  };
  for (const e of [...events].sort((a, b) => a.time - b.time)) {
    add(index.byCommunityId, str(e, 'network.community_id'), e);
    const src = str(e, 'source.ip');
    const dst = str(e, 'destination.ip');
    add(index.byServer, dst, e);
    const domain = str(e, 'destination.domain');
    if (domain) add(index.byServer, `name:${normName(domain)}`, e);
    if (src && dst) add(index.byPair, pairKey(src, dst), e);
  }
  return index;
}

/** The events of a time-ordered list within [from, to]. */
function within(events: SourceEvent[] | undefined, from: number, to: number): SourceEvent[] {
  if (!events?.length) return [];
  const out: SourceEvent[] = [];
  for (let i = lowerBound(events, from); i < events.length && events[i]!.time <= to; i++) out.push(events[i]!);
  return out;
}

/**
 * Candidates of a join within [from, to]: the events with that community id, the events between one
 * of the given clients and the server, or (no client known) the events to the server (address or name).
 */
export function candidates(index: SensorIndex, by: { communityId?: string; server?: Server; clientIps?: string[] }, from: number, to: number): SourceEvent[] {
  const out = new Set<SourceEvent>();
  if (by.communityId) for (const e of within(index.byCommunityId.get(by.communityId), from, to)) out.add(e);
  const server = by.server;
  if (server?.ip && by.clientIps?.length) {
    for (const c of by.clientIps) for (const e of within(index.byPair.get(pairKey(c, server.ip)), from, to)) out.add(e);
  } else {
    if (server?.ip) for (const e of within(index.byServer.get(server.ip), from, to)) out.add(e);
    if (server?.domain) for (const e of within(index.byServer.get(`name:${server.domain}`), from, to)) out.add(e);
  }
  return [...out];
}

/**
 * The sensor's TLS session(s) of one connection an endpoint logged: every session with its community
 * id when both sides have one; else the same server (address or SNI, and port) within the clock skew,
 * from the endpoint's own address when that is known, and then the nearest session of each sensor,
 * since one connection is one session (a client opening fifty connections to a CDN in two minutes
 * must not hand each of them all fifty).
 */
export function sensorSessionsFor(
  conn: { time: number; server: Server; communityId?: string; clientIps: string[] },
  sessions: SensorIndex,
  windowMs: number,
): SourceEvent[] {
  const { time } = conn;
  if (conn.communityId) {
    const same = candidates(sessions, { communityId: conn.communityId }, time - windowMs, time + windowMs);
    if (same.length) return uniqueEvidence(same);
  }
  const nearest = new Map<string, SourceEvent>();
  for (const s of candidates(sessions, { server: conn.server, clientIps: conn.server.ip ? conn.clientIps : undefined }, time - CLOCK_SKEW_MS, time + CLOCK_SKEW_MS)) {
    const cid = str(s, 'network.community_id');
    if (conn.communityId && cid) continue;
    if (!sameServer(conn.server, serverOf(s))) continue;
    const client = str(s, 'source.ip');
    if (conn.clientIps.length && (!client || !conn.clientIps.includes(client))) continue;
    const sensor = sourceOf(s) ?? '';
    const seen = nearest.get(sensor);
    const d = Math.abs(s.time - time);
    if (!seen || d < Math.abs(seen.time - time) || (d === Math.abs(seen.time - time) && s.id < seen.id)) nearest.set(sensor, s);
  }
  return uniqueEvidence([...nearest.values()]);
}

/** Reason helper: fills the message from the parts. */
export function reason(name: string, points: number, observed: string, threshold: string, message: string, tunable?: string): Reason {
  return { name, observed, threshold, ...(tunable ? { tunable } : {}), points, message };
}

/** Evidence, each event once, oldest first. */
export function uniqueEvidence(events: SourceEvent[]): SourceEvent[] {
  const seen = new Set<string>();
  const out: SourceEvent[] = [];
  for (const e of events) {
    const key = `${e.index}/${e.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
}
