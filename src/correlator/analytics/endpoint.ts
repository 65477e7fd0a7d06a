/**
 * What the two endpoint analytics share (AN1496 Windows, AN1497 Linux): an endpoint saw a process
 * load crypto libraries and then connect out; this module finds what the network sensors saw of
 * that connection (TLS session, certificate, flow, IDS alert), turns the certificate, handshake,
 * traffic-shape and IDS facts into reasons with their observed values and thresholds, and builds the
 * finding of the connection (`endpointFinding`) from what each analytic adds of its own.
 *
 * Joins (design.md, issue 5):
 *   - endpoint connection ↔ sensor record: network.community_id, else the 5-tuple in either
 *     orientation, else (auditd has no local port) server address + port and the endpoint's own
 *     address when known; TLS sessions within CLOCK_SKEW_MS of the connection;
 *   - Zeek ssl ↔ x509: the leaf's file id (cert_chain_fuids[0] ↔ fuid) or fingerprint
 *     (cert_chain_fps[0] ↔ fingerprint);
 *   - flows and IDS alerts may be written after the connection (a flow record at the flow's end),
 *     but never later than the correlator can still hold the library load (see `horizon`).
 *
 * Facts computed at ingest from a tunable (issuer_trusted, handshake_slow, weak_key) are recomputed
 * here from the raw values with the live tunables, so that a tuning change takes effect on the next
 * run without re-ingesting. Every reader tolerates missing or malformed fields.
 */
import { CLOCK_SKEW_MS } from '../correlate';
import { baseName, durationMs, get, list, num, sourceOf, str } from '../fields';
import type { AnalyticId, CorrelationContext, Finding, FindingEntities, Reason, SourceEvent } from '../types';

/** Points of the reasons both analytics share (the analytic modules hold their own). */
export const SHARED_POINTS = {
  egress_after_crypto_load: 10,
  self_signed_certificate: 30,
  untrusted_issuer: 20,
  certificate_expired: 15,
  certificate_not_yet_valid: 15,
  weak_key: 15,
  sni_certificate_mismatch: 15,
  handshake_failed: 20,
  handshake_slow: 20,
  ids_alert: 15,
  client_heavy_traffic: 25,
} as const;

/**
 * A bytes-out/bytes-in ratio says nothing about a handful of packets (a ClientHello and a reset
 * has a "ratio" of its own size): traffic counts as client-heavy only from this many bytes sent.
 */
export const MIN_CLIENT_HEAVY_BYTES = 4096;

/** CAPI2 and sysmon come from one host clock; a chain event may precede the logged connect by this much. */
export const ENDPOINT_JITTER_MS = 2000;

export interface Limits {
  windowMs: number;
  skewMs: number;
}

export function limits(ctx: CorrelationContext): Limits {
  return { windowMs: durationMs(ctx.tunables.CorrelationWindow), skewMs: CLOCK_SKEW_MS };
}

export function validTime(e: SourceEvent): boolean {
  return typeof e.time === 'number' && Number.isFinite(e.time) && !!e.doc && typeof e.doc === 'object';
}

/** Oldest first, ties by id: evidence order, and so alert ids, never depend on input order. */
export function byTime(a: SourceEvent, b: SourceEvent): number {
  return a.time - b.time || a.index.localeCompare(b.index) || a.id.localeCompare(b.id);
}

export function uniqueEvents(events: SourceEvent[]): SourceEvent[] {
  const seen = new Map<string, SourceEvent>();
  for (const e of events) seen.set(`${e.index}\u0000${e.id}`, e);
  return [...seen.values()].sort(byTime);
}

function lower(v: string | undefined): string | undefined {
  return v?.toLowerCase();
}

function firstOf(e: SourceEvent, path: string): string | undefined {
  return list(e, path)[0] ?? str(e, path);
}

export function parseTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${m}m`;
}

/** One outbound connection as the endpoint logged it, with the records that carry its parts. */
export interface EndpointConnection {
  event: SourceEvent;
  /** Further records of the same connection (auditd SOCKADDR). */
  parts: SourceEvent[];
  key: string;
  time: number;
  destIp: string;
  destPort?: number;
  sourceIp?: string;
  sourcePort?: number;
  transport?: string;
  communityId?: string;
  /** Addresses the endpoint is known to have (host.ip, the connection's source.ip). */
  hostIps: string[];
}

/** A crypto library the process loaded or mapped, with the records that say so. */
export interface LibraryLoad {
  events: SourceEvent[];
  key: string;
  time: number;
  name: string;
  path?: string;
  /** false when the endpoint says the file is unsigned or its signature does not verify (sysmon). */
  trusted?: boolean;
}

/** Crypto loads of the connection's process within CorrelationWindow before it (the join of issue 5). */
export function loadsBefore(conn: EndpointConnection, loadsByKey: Map<string, LibraryLoad[]>, lim: Limits): LibraryLoad[] {
  return (loadsByKey.get(conn.key) ?? []).filter((l) => l.time <= conn.time && conn.time - l.time <= lim.windowMs);
}

export function groupBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const bucket = out.get(k);
    if (bucket) bucket.push(item);
    else out.set(k, [item]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The network side

function isSensor(e: SourceEvent): boolean {
  const s = sourceOf(e);
  return s === 'zeek' || s === 'suricata' || s === 'netflow';
}

export function isTlsSession(e: SourceEvent): boolean {
  const s = sourceOf(e);
  return (s === 'zeek' || s === 'suricata') && str(e, 'event.action') === 'tls_session';
}

export function isX509(e: SourceEvent): boolean {
  return sourceOf(e) === 'zeek' && str(e, 'event.action') === 'x509_certificate';
}

export function isFlow(e: SourceEvent): boolean {
  const s = sourceOf(e);
  const a = str(e, 'event.action');
  return ((s === 'zeek' || s === 'suricata') && a === 'network_flow') || (s === 'netflow' && a === 'netflow_flow');
}

export function isIdsAlert(e: SourceEvent): boolean {
  return sourceOf(e) === 'suricata' && str(e, 'event.kind') === 'alert';
}

/** The sensors' records indexed for the joins, built once per analytic call. */
export interface NetworkIndex {
  byCommunity: Map<string, SourceEvent[]>;
  /** `ip|port` of either end → records (the server side is what an auditd connect knows). */
  byEndpoint: Map<string, SourceEvent[]>;
  x509ByFuid: Map<string, SourceEvent[]>;
  x509ByFingerprint: Map<string, SourceEvent[]>;
}

export function indexNetwork(events: SourceEvent[]): NetworkIndex {
  const idx: NetworkIndex = { byCommunity: new Map(), byEndpoint: new Map(), x509ByFuid: new Map(), x509ByFingerprint: new Map() };
  const add = (map: Map<string, SourceEvent[]>, k: string | undefined, e: SourceEvent) => {
    if (!k) return;
    const bucket = map.get(k);
    if (bucket) bucket.push(e);
    else map.set(k, [e]);
  };
  for (const e of events) {
    if (!validTime(e) || !isSensor(e)) continue;
    if (isX509(e)) {
      add(idx.x509ByFuid, str(e, 'cryptochannel.zeek.fuid'), e);
      add(idx.x509ByFingerprint, lower(str(e, 'cryptochannel.zeek.fingerprint')), e);
      continue;
    }
    if (!isTlsSession(e) && !isFlow(e) && !isIdsAlert(e)) continue;
    add(idx.byCommunity, str(e, 'network.community_id'), e);
    for (const side of ['source', 'destination']) {
      const ip = str(e, `${side}.ip`);
      const port = num(e, `${side}.port`);
      if (ip && port !== undefined) add(idx.byEndpoint, `${ip}|${port}`, e);
    }
  }
  return idx;
}

/** Does the sensor record describe this connection (addresses only; time is checked per kind)? */
function sameFlowKey(conn: EndpointConnection, e: SourceEvent): 'strong' | 'weak' | false {
  const cid = str(e, 'network.community_id');
  if (conn.communityId && cid) return conn.communityId === cid ? 'strong' : false;
  const sip = str(e, 'source.ip');
  const dip = str(e, 'destination.ip');
  const sp = num(e, 'source.port');
  const dp = num(e, 'destination.port');
  if (!sip || !dip) return false;
  const transport = str(e, 'network.transport');
  if (conn.transport && transport && conn.transport !== transport) return false;
  if (conn.sourceIp && conn.sourcePort !== undefined) {
    const forward = sip === conn.sourceIp && sp === conn.sourcePort && dip === conn.destIp && dp === conn.destPort;
    const reverse = dip === conn.sourceIp && dp === conn.sourcePort && sip === conn.destIp && sp === conn.destPort;
    return forward || reverse ? 'strong' : false;
  }
  // No local port (auditd): the server end must match, and the client end must be this host when its address is known.
  const clientOf = (ip: string) => conn.hostIps.length === 0 || conn.hostIps.includes(ip);
  if (dip === conn.destIp && dp === conn.destPort && clientOf(sip)) return 'weak';
  if (sip === conn.destIp && sp === conn.destPort && clientOf(dip)) return 'weak';
  return false;
}

/** When a flow began: suricata and netflow records are written at the flow's end. */
function flowStart(e: SourceEvent): number {
  return parseTime(str(e, 'event.start')) ?? e.time;
}

export interface NetworkView {
  sessions: SourceEvent[];
  certificates: SourceEvent[];
  /** Each session with the x509 record of its own certificate (what a handshake time is measured on). */
  certificateOf: Array<[SourceEvent, SourceEvent]>;
  flows: SourceEvent[];
  alerts: SourceEvent[];
}

/**
 * What the sensors saw of one endpoint connection. `horizon` bounds records written after the
 * connection (flow ends, IDS alerts): the correlator holds events for CorrelationWindow + skew, so
 * evidence spanning more than that from the first library load could not be found again.
 */
export function networkView(conn: EndpointConnection, idx: NetworkIndex, lim: Limits, horizon: number): NetworkView {
  const candidates = new Map<string, SourceEvent>();
  for (const e of conn.communityId ? (idx.byCommunity.get(conn.communityId) ?? []) : []) candidates.set(`${e.index}/${e.id}`, e);
  for (const e of idx.byEndpoint.get(`${conn.destIp}|${conn.destPort}`) ?? []) candidates.set(`${e.index}/${e.id}`, e);

  const matched: Array<{ e: SourceEvent; strength: 'strong' | 'weak' }> = [];
  for (const e of candidates.values()) {
    const strength = sameFlowKey(conn, e);
    if (!strength) continue;
    const ok = isTlsSession(e)
      ? Math.abs(e.time - conn.time) <= lim.skewMs
      : isFlow(e)
        ? Math.abs(flowStart(e) - conn.time) <= lim.skewMs && e.time <= horizon
        : e.time >= conn.time - lim.skewMs && e.time <= horizon;
    if (ok) matched.push({ e, strength });
  }
  // A weak (3-tuple) match may catch another client's connection to the same server: keep only the
  // sensor connection (by community id) that started nearest in time to this one.
  let chosen = matched.filter((m) => m.strength === 'strong').map((m) => m.e);
  const weak = matched.filter((m) => m.strength === 'weak').map((m) => m.e);
  if (chosen.length === 0 && weak.length > 0) {
    const byCid = groupBy(weak, (e) => str(e, 'network.community_id') ?? `${e.index}/${e.id}`);
    let best: SourceEvent[] = [];
    let bestDelta = Number.POSITIVE_INFINITY;
    for (const [, group] of [...byCid.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const delta = Math.min(...group.map((e) => Math.abs((isFlow(e) ? flowStart(e) : e.time) - conn.time)));
      if (delta < bestDelta) {
        best = group;
        bestDelta = delta;
      }
    }
    chosen = best;
  }
  const sessions = uniqueEvents(chosen.filter(isTlsSession));
  const certificates: SourceEvent[] = [];
  const certificateOf: Array<[SourceEvent, SourceEvent]> = [];
  for (const s of sessions) {
    const fuid = list(s, 'cryptochannel.zeek.cert_chain_fuids')[0];
    const fp = lower(list(s, 'cryptochannel.zeek.cert_chain_fps')[0]);
    // A file id names this session's own certificate. A fingerprint is shared by every session to
    // the same server: only the nearest record in time is this session's, the others are other
    // sessions' (joining them made a busy server's later sessions look like one slow handshake).
    const byFuid = (fuid ? (idx.x509ByFuid.get(fuid) ?? []) : []).filter((x) => Math.abs(x.time - s.time) <= lim.skewMs);
    const byFp = (fp ? (idx.x509ByFingerprint.get(fp) ?? []) : []).filter((x) => Math.abs(x.time - s.time) <= lim.skewMs);
    const nearest = [...byFp].sort((a, b) => Math.abs(a.time - s.time) - Math.abs(b.time - s.time))[0];
    const own = byFuid.length ? byFuid : nearest ? [nearest] : [];
    for (const x of own) {
      certificates.push(x);
      certificateOf.push([s, x]);
    }
  }
  return {
    sessions,
    certificates: uniqueEvents(certificates),
    certificateOf,
    flows: uniqueEvents(chosen.filter(isFlow)),
    alerts: uniqueEvents(chosen.filter(isIdsAlert)),
  };
}

// ---------------------------------------------------------------------------------------------
// Certificate and handshake reasons

function reason(name: keyof typeof SHARED_POINTS, observed: string, threshold: string, message: string, tunable?: string): Reason {
  return { name, observed, threshold, ...(tunable ? { tunable } : {}), points: SHARED_POINTS[name], message };
}

function subjectOf(e: SourceEvent): string | undefined {
  return firstOf(e, 'tls.server.x509.subject.common_name') ?? str(e, 'cryptochannel.capi2.subject_name') ?? str(e, 'tls.server.subject');
}

/**
 * The issuer's names, from events that know the issuer: a sensor's certificate or CAPI2's
 * certificate details (event 90). CAPI2's chain event (11) knows only the next chain element's
 * common name ("R11", "WR2"), too little to judge the issuer by: it is not used.
 */
function issuerNames(e: SourceEvent): string[] {
  const organization = list(e, 'tls.server.x509.issuer.organization');
  if (sourceOf(e) === 'capi2' && organization.length === 0) return [];
  return [...list(e, 'tls.server.x509.issuer.common_name'), ...organization];
}

/** Sensor verdicts (Zeek validation_status) that say the issuer could not be verified, whatever its name. */
const UNVERIFIED_ISSUER = ['unable to get local issuer', 'unable to get issuer', 'unknown ca'];

export interface HandshakeMeasure {
  ms: number;
  how: string;
  evidence: SourceEvent[];
}

/**
 * Certificate and handshake reasons from every event that describes the server certificate or the
 * handshake: sensor sessions, Zeek x509 leaves, IDS alerts with TLS fields, CAPI2 events. Each
 * reason fires once, naming the first event that shows it.
 */
export function certificateReasons(sources: SourceEvent[], sessions: SourceEvent[], measures: HandshakeMeasure[], ctx: CorrelationContext): Reason[] {
  const t = ctx.tunables;
  const out: Reason[] = [];

  const selfSigned = sources.find((e) => get(e.doc, 'cryptochannel.tls.self_signed') === true);
  if (selfSigned) {
    const status = str(selfSigned, 'cryptochannel.tls.validation_status');
    out.push(
      reason(
        'self_signed_certificate',
        `${subjectOf(selfSigned) ?? 'server certificate'} is self-signed${status ? ` (${status})` : ''}`,
        'a certificate issued by a CA',
        'the server presented a self-signed certificate',
      ),
    );
  } else {
    // Issuer trust from the issuer's names and the live CertificateAuthorityList (not the ingest-time fact).
    const named = sources.find((e) => issuerNames(e).length > 0);
    const cas = t.CertificateAuthorityList.map((ca) => ca.toLowerCase());
    if (named) {
      const names = issuerNames(named);
      const listed = names.some((n) => cas.some((ca) => ca !== '' && n.toLowerCase().includes(ca)));
      const unverified = sources.map((e) => str(e, 'cryptochannel.tls.validation_status')).find((s) => s && UNVERIFIED_ISSUER.some((u) => s.toLowerCase().includes(u)));
      if (!listed || unverified) {
        out.push(
          reason(
            'untrusted_issuer',
            `${names.join(', ')}${listed && unverified ? ` (listed, but the sensor could not verify it: ${unverified})` : ''}`,
            'an issuer in CertificateAuthorityList',
            listed ? 'the sensor could not verify the certificate issuer' : 'the certificate issuer is not a trusted public CA',
            'CertificateAuthorityList',
          ),
        );
      }
    } else {
      const unverified = sources.find((e) => {
        const s = lower(str(e, 'cryptochannel.tls.validation_status'));
        return !!s && UNVERIFIED_ISSUER.some((u) => s.includes(u));
      });
      if (unverified) {
        out.push(
          reason(
            'untrusted_issuer',
            `unknown issuer (${str(unverified, 'cryptochannel.tls.validation_status')})`,
            'an issuer in CertificateAuthorityList',
            'the sensor could not verify the certificate issuer',
            'CertificateAuthorityList',
          ),
        );
      }
    }
  }

  const expired = sources.find((e) => get(e.doc, 'cryptochannel.tls.cert_expired') === true);
  if (expired) {
    const notAfter = str(expired, 'tls.server.x509.not_after') ?? str(expired, 'tls.server.not_after');
    out.push(reason('certificate_expired', notAfter ? `not valid after ${notAfter}` : 'expired', 'valid at the time of the session', 'the server certificate had expired'));
  }
  const notYet = sources.find((e) => get(e.doc, 'cryptochannel.tls.cert_not_yet_valid') === true);
  if (notYet) {
    const notBefore = str(notYet, 'tls.server.x509.not_before') ?? str(notYet, 'tls.server.not_before');
    out.push(reason('certificate_not_yet_valid', notBefore ? `not valid before ${notBefore}` : 'not yet valid', 'valid at the time of the session', 'the server certificate was not yet valid'));
  }

  // Key strength against the live CertValidationPolicy.min_rsa_key_bits, from the key size itself.
  const minBits = t.CertValidationPolicy.min_rsa_key_bits;
  let weak: Reason | undefined;
  for (const e of sources) {
    const alg = lower(str(e, 'tls.server.x509.public_key_algorithm'));
    const bits = num(e, 'tls.server.x509.public_key_size');
    if (alg?.includes('rsa') && bits !== undefined && bits < minBits) {
      weak = reason('weak_key', `RSA ${bits} bits`, `RSA >= ${minBits} bits`, 'the server certificate has a weak RSA key', 'CertValidationPolicy.min_rsa_key_bits');
      break;
    }
  }
  if (weak) out.push(weak);

  const mismatch = sources.find((e) => get(e.doc, 'cryptochannel.tls.sni_cert_mismatch') === true);
  if (mismatch) {
    const sni = str(mismatch, 'tls.client.server_name') ?? 'the requested name';
    out.push(reason('sni_certificate_mismatch', `SNI ${sni}, certificate ${subjectOf(mismatch) ?? 'for another name'}`, 'the certificate names the SNI', 'the certificate does not name the server the client asked for'));
  }

  const failed = sessions.find((e) => get(e.doc, 'tls.established') === false || get(e.doc, 'cryptochannel.tls.handshake_failed') === true);
  if (failed) {
    const detail = [str(failed, 'cryptochannel.zeek.last_alert') && `alert ${str(failed, 'cryptochannel.zeek.last_alert')}`, str(failed, 'cryptochannel.zeek.ssl_history') && `history ${str(failed, 'cryptochannel.zeek.ssl_history')}`]
      .filter(Boolean)
      .join(', ');
    out.push(reason('handshake_failed', `not established${detail ? ` (${detail})` : ''}`, 'an established session', 'the TLS handshake did not complete'));
  }

  const slow = measures.filter((m) => m.ms > t.HandshakeTimeout).sort((a, b) => b.ms - a.ms)[0];
  if (slow) {
    out.push(reason('handshake_slow', `${Math.round(slow.ms)} ms (${slow.how})`, `<= ${t.HandshakeTimeout} ms`, 'the TLS handshake was slower than HandshakeTimeout', 'HandshakeTimeout'));
  }
  return out;
}

/**
 * How long the handshake took, from what the sensors give: a duration the sensor reports
 * (cryptochannel.tls.handshake_ms), or the time from the session's start (Zeek ssl ts: the
 * ClientHello) to the server certificate (Zeek x509 ts). The latter is a lower bound of the
 * handshake, so exceeding the timeout with it proves a slow handshake.
 */
export function sensorHandshakeMeasures(view: NetworkView): HandshakeMeasure[] {
  const out: HandshakeMeasure[] = [];
  for (const s of view.sessions) {
    const ms = num(s, 'cryptochannel.tls.handshake_ms');
    if (ms !== undefined && ms >= 0) out.push({ ms, how: 'reported by the sensor', evidence: [s] });
  }
  for (const [s, x] of view.certificateOf) {
    const delta = x.time - s.time;
    if (delta >= 0) out.push({ ms: delta, how: 'from the ClientHello to the server certificate, Zeek ssl to x509', evidence: [s, x] });
  }
  return out;
}

export function idsReason(alerts: SourceEvent[]): Reason | undefined {
  if (alerts.length === 0) return undefined;
  const names = [...new Set(alerts.map((a) => str(a, 'rule.name') ?? str(a, 'message') ?? 'IDS alert'))];
  return reason('ids_alert', names.join('; '), 'no IDS signature on the session', 'the network IDS raised an alert on this session');
}

// ---------------------------------------------------------------------------------------------
// Traffic shape

export interface TrafficShape {
  ratio: number;
  out: number;
  in: number;
  evidence: SourceEvent[];
}

/**
 * Bytes the endpoint sent per byte it received on this connection, per sensor: a bidirectional
 * record (Zeek conn, Suricata flow, Elastic's biflow) oriented by the endpoint's address, or the
 * two unidirectional NetFlow/IPFIX records summed. The most client-heavy sensor view wins.
 */
export function trafficShape(conn: EndpointConnection, flows: SourceEvent[]): TrafficShape | undefined {
  const isClient = (ip: string | undefined) => !!ip && (ip === conn.sourceIp || conn.hostIps.includes(ip) || (!conn.sourceIp && conn.hostIps.length === 0 && ip !== conn.destIp));
  const shapes: TrafficShape[] = [];
  for (const [, records] of groupBy(flows, (e) => sourceOf(e) ?? '?')) {
    const bidirectional = records.filter((e) => num(e, 'destination.bytes') !== undefined && num(e, 'source.bytes') !== undefined);
    for (const e of bidirectional) {
      const forward = isClient(str(e, 'source.ip')) || str(e, 'destination.ip') === conn.destIp;
      const sent = num(e, forward ? 'source.bytes' : 'destination.bytes') ?? 0;
      const received = num(e, forward ? 'destination.bytes' : 'source.bytes') ?? 0;
      shapes.push({ ratio: received > 0 ? sent / received : sent, out: sent, in: received, evidence: [e] });
    }
    const unidirectional = records.filter((e) => !bidirectional.includes(e));
    if (unidirectional.length > 0) {
      let sent = 0;
      let received = 0;
      for (const e of unidirectional) {
        const bytes = num(e, 'network.bytes') ?? num(e, 'source.bytes') ?? 0;
        if (str(e, 'source.ip') === conn.destIp) received += bytes;
        else sent += bytes;
      }
      shapes.push({ ratio: received > 0 ? sent / received : sent, out: sent, in: received, evidence: unidirectional });
    }
  }
  return shapes.sort((a, b) => b.ratio - a.ratio)[0];
}

export function trafficReason(shape: TrafficShape | undefined, ctx: CorrelationContext): Reason | undefined {
  const limit = ctx.tunables.TrafficAsymmetryRatio;
  if (!shape || shape.out < MIN_CLIENT_HEAVY_BYTES || !(shape.ratio > limit)) return undefined;
  const ratio = Math.round(shape.ratio * 1000) / 1000;
  return reason(
    'client_heavy_traffic',
    `${ratio} (${shape.out} bytes out, ${shape.in} in)`,
    `<= ${limit}`,
    'the endpoint sent far more than it received: client-heavy, exfiltration-shaped traffic',
    'TrafficAsymmetryRatio',
  );
}

function egressReason(conn: EndpointConnection, loads: LibraryLoad[], ctx: CorrelationContext): Reason {
  const last = loads.reduce((a, b) => (b.time > a.time ? b : a));
  const dest = `${conn.destIp}${conn.destPort !== undefined ? `:${conn.destPort}` : ''}${conn.transport ? `/${conn.transport}` : ''}`;
  return {
    name: 'egress_after_crypto_load',
    observed: `${dest} ${formatDuration(conn.time - last.time)} after loading ${last.name}`,
    threshold: `within ${ctx.tunables.CorrelationWindow}`,
    tunable: 'CorrelationWindow',
    points: SHARED_POINTS.egress_after_crypto_load,
    message: 'the process connected out after loading crypto libraries',
  };
}

// ---------------------------------------------------------------------------------------------
// Indicators and entities

function indicators(sources: SourceEvent[]): { ja3?: string[]; cert_sha1?: string[] } {
  const ja3 = new Set<string>();
  const sha1 = new Set<string>();
  for (const e of sources) {
    const j = str(e, 'tls.client.ja3');
    if (j && /^[0-9a-f]{32}$/i.test(j)) ja3.add(j.toLowerCase());
    for (const path of ['tls.server.hash.sha1', 'cryptochannel.capi2.thumbprint']) {
      const h = str(e, path);
      if (h && /^[0-9a-f]{40}$/i.test(h)) sha1.add(h.toUpperCase());
    }
  }
  return { ...(ja3.size ? { ja3: [...ja3].sort() } : {}), ...(sha1.size ? { cert_sha1: [...sha1].sort() } : {}) };
}

/** Whether threat intel lists any indicator: the only thing that makes a quiet connection worth a finding. */
function intelListed(ind: { ja3?: string[]; cert_sha1?: string[] }, ctx: CorrelationContext): boolean {
  return (ind.ja3 ?? []).some((h) => ctx.intel.ja3(h) !== undefined) || (ind.cert_sha1 ?? []).some((h) => ctx.intel.certSha1(h) !== undefined);
}

/** ECS tls.* of the alert: the sensor's session when there is one, completed from the certificate records. */
function tlsEntity(sessions: SourceEvent[], others: SourceEvent[]): Record<string, unknown> | undefined {
  const base = [...sessions, ...others].map((e) => get(e.doc, 'tls')).find((v) => v && typeof v === 'object' && !Array.isArray(v)) as Record<string, unknown> | undefined;
  if (!base) return undefined;
  const tls = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  const server = (tls.server && typeof tls.server === 'object' ? tls.server : (tls.server = {})) as Record<string, unknown>;
  const hash = (server.hash && typeof server.hash === 'object' ? server.hash : {}) as Record<string, unknown>;
  if (typeof hash.sha1 !== 'string') {
    const sha1 = [...sessions, ...others].map((e) => str(e, 'tls.server.hash.sha1') ?? str(e, 'cryptochannel.capi2.thumbprint')).find(Boolean);
    if (sha1) server.hash = { ...hash, sha1: sha1.toUpperCase() };
  }
  if (!server.x509) {
    const x509 = others.map((e) => get(e.doc, 'tls.server.x509')).find((v) => v && typeof v === 'object');
    if (x509) server.x509 = JSON.parse(JSON.stringify(x509));
  }
  return tls;
}

function connectionEntities(conn: EndpointConnection, view: NetworkView, domain: string | undefined): Pick<FindingEntities, 'source' | 'destination' | 'network'> {
  const e = conn.event;
  const sniDomain = view.sessions.map((s) => str(s, 'destination.domain')).find(Boolean);
  const communityId = conn.communityId ?? [...view.sessions, ...view.flows, ...view.alerts].map((s) => str(s, 'network.community_id')).find(Boolean);
  // An endpoint that logs no local address or port (auditd): the client side as the sensor saw it.
  let sourceIp = conn.sourceIp;
  let sourcePort = conn.sourcePort;
  if (!sourceIp) {
    for (const s of [...view.sessions, ...view.flows, ...view.alerts]) {
      const forward = str(s, 'destination.ip') === conn.destIp;
      const ip = str(s, forward ? 'source.ip' : 'destination.ip');
      if (ip && (conn.hostIps.length === 0 || conn.hostIps.includes(ip))) {
        sourceIp = ip;
        sourcePort = num(s, forward ? 'source.port' : 'destination.port');
        break;
      }
    }
  }
  sourceIp ??= conn.hostIps[0];
  const transport = conn.transport ?? [...view.sessions, ...view.flows].map((s) => str(s, 'network.transport')).find(Boolean);
  return {
    source: sourceIp ? { ip: sourceIp, ...(sourcePort !== undefined ? { port: sourcePort } : {}) } : undefined,
    destination: { ip: conn.destIp, ...(conn.destPort !== undefined ? { port: conn.destPort } : {}), ...((sniDomain ?? domain) ? { domain: sniDomain ?? domain } : {}) },
    network: {
      ...(communityId ? { community_id: communityId } : {}),
      ...(transport ? { transport } : {}),
      ...(view.sessions.length ? { protocol: 'tls' } : {}),
      direction: str(e, 'network.direction') ?? 'egress',
    },
  };
}

/** host.* of the alert: the endpoint that ran the process (design.md "Whose alert"). */
function hostEntity(conn: EndpointConnection, view: NetworkView): FindingEntities['host'] {
  const e = conn.event;
  const ips = new Set(conn.hostIps);
  if (ips.size === 0) {
    // An endpoint that logs no address of its own (raw auditd): the client side the sensor saw.
    for (const s of [...view.sessions, ...view.flows]) {
      const sip = str(s, 'source.ip');
      const dip = str(s, 'destination.ip');
      if (dip === conn.destIp && sip) ips.add(sip);
      else if (sip === conn.destIp && dip) ips.add(dip);
    }
  }
  const host = {
    ...(str(e, 'host.id') ? { id: str(e, 'host.id') } : {}),
    ...(str(e, 'host.name') ? { name: str(e, 'host.name') } : {}),
    ...(ips.size ? { ip: [...ips].sort() } : {}),
    ...(str(e, 'host.os.type') ? { os: { type: str(e, 'host.os.type') } } : {}),
  };
  return Object.keys(host).length ? host : undefined;
}

export function addressesOf(e: SourceEvent): string[] {
  const out = new Set<string>(list(e, 'host.ip'));
  const sip = str(e, 'source.ip');
  if (sip) out.add(sip);
  return [...out].sort();
}

/** The name of the process an event is about: its name, else its executable's file name. */
export function processName(e: SourceEvent): string | undefined {
  return str(e, 'process.name') ?? baseName(str(e, 'process.executable'));
}

/** What the reasons and the summary call the connection's process. */
export function connectionProcess(conn: EndpointConnection): string {
  return processName(conn.event) ?? 'unknown process';
}

/** Each crypto library once, in load order: what the reasons and the summary list. */
export function libraryNames(loads: LibraryLoad[]): string[] {
  return [...new Set(loads.map((l) => l.name))];
}

// ---------------------------------------------------------------------------------------------
// The finding

/** One endpoint connection joined to its library loads and the sensors' view, and what its analytic adds. */
export interface EndpointFindingInput {
  analytic: Extract<AnalyticId, 'AN1496' | 'AN1497'>;
  /** How the summary says the process took the libraries: Windows loads a DLL, Linux opens or maps a shared object. */
  loadVerb: 'loaded' | 'mapped';
  conn: EndpointConnection;
  /** The crypto loads joined to the connection (`loadsBefore`): at least one. */
  loads: LibraryLoad[];
  view: NetworkView;
  /** What the endpoint says of the process and its libraries: the finding's first reasons. */
  processReasons: Reason[];
  /** What is abnormal about the connection: the finding's last reasons, and what its summary names. */
  abnormal: Reason[];
  /**
   * The process is allow-listed (AN1496's AllowedCryptoProcesses; nothing on Linux is): with nothing
   * abnormal, its connection is no finding even when threat intel lists an indicator.
   */
  allowListed: boolean;
  /** The endpoint's own records of the server certificate (CAPI2): indicators and tls.* come from them too. */
  endpointCertificates: SourceEvent[];
  /** Further endpoint records that a reason or an entity came from (process start, DNS lookups, exec). */
  endpointEvidence: SourceEvent[];
  /** process.command_line, when an endpoint record gives it. */
  commandLine?: string;
  /** destination.domain when no sensor session names the server (a name the process resolved). */
  domain?: string;
}

/**
 * The finding of one endpoint connection: reasons (the process's, the egress after the load, what
 * is abnormal), evidence, entities, indicators and summary. None when nothing is abnormal and no
 * indicator is threat-intel listed, or nothing is abnormal and the process is allow-listed.
 */
export function endpointFinding(input: EndpointFindingInput, ctx: CorrelationContext): Finding | undefined {
  const { conn, loads, view, abnormal } = input;
  const ind = indicators([...view.sessions, ...view.certificates, ...view.alerts, ...input.endpointCertificates]);
  if (abnormal.length === 0 && (input.allowListed || !intelListed(ind, ctx))) return undefined;

  const evidence = uniqueEvents([
    ...loads.flatMap((l) => l.events),
    conn.event,
    ...conn.parts,
    ...input.endpointEvidence,
    ...input.endpointCertificates,
    ...view.sessions,
    ...view.certificates,
    ...view.flows,
    ...view.alerts,
  ]);
  const name = connectionProcess(conn);
  const executable = str(conn.event, 'process.executable');
  // The library the alert names: the first whose signature does not verify (only Sysmon says), else the first loaded.
  const dll = loads.find((l) => l.trusted === false) ?? loads[0]!;
  const entities: FindingEntities = {
    host: hostEntity(conn, view),
    process: {
      ...(str(conn.event, 'process.entity_id') ? { entity_id: str(conn.event, 'process.entity_id') } : {}),
      ...(num(conn.event, 'process.pid') !== undefined ? { pid: num(conn.event, 'process.pid') } : {}),
      name,
      ...(executable ? { executable } : {}),
      ...(input.commandLine ? { command_line: input.commandLine } : {}),
    },
    ...(str(conn.event, 'user.name') ? { user: { name: str(conn.event, 'user.name') } } : {}),
    dll: { name: dll.name, ...(dll.path ? { path: dll.path } : {}) },
    ...connectionEntities(conn, view, input.domain),
    tls: tlsEntity(view.sessions, [...view.certificates, ...view.alerts, ...input.endpointCertificates]),
  };
  const dest = `${entities.destination?.domain ? `${entities.destination.domain} ` : ''}${conn.destIp}${conn.destPort !== undefined ? `:${conn.destPort}` : ''}`;
  const what = abnormal.length ? abnormal.map((r) => r.name.replace(/_/g, ' ')).join(', ') : 'threat-intel listed indicator';
  const host = str(conn.event, 'host.name') ?? entities.host?.ip?.[0] ?? 'an unnamed host';
  return {
    analytic: input.analytic,
    evidence,
    reasons: [...input.processReasons, egressReason(conn, loads, ctx), ...abnormal],
    entities,
    ...(ind.ja3 || ind.cert_sha1 ? { indicators: ind } : {}),
    // One alert per endpoint connection, however many sensor records join it later.
    key: `${conn.event.index}/${conn.event.id}`,
    summary: `${name} on ${host} ${input.loadVerb} ${libraryNames(loads).join(', ')} and connected to ${dest}: ${what}`,
  };
}
