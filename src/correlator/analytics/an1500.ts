/**
 * AN1500, network devices (sensors only): one finding per connection an internal client opened
 * that the sensors saw speak TLS, when its key exchange, port, certificate, IDS verdicts or traffic
 * shape are wrong. A connection is every Zeek / Suricata / NetFlow event with its community id (or,
 * without one, its 5-tuple in either orientation), chained while consecutive events lie within
 * CorrelationWindow of each other: that is how NetFlow/IPFIX records meet the IDS's alerts and
 * anomalies "by 5-tuple and time", and how a long-lived session meets an alert minutes later. Zeek
 * certificates join their session by file id or fingerprint.
 *
 * Points (ScoreThreshold 60 alerts): an RSA key exchange outside PortProfiles 40 (15 on a profiled
 * port), TLS on a port outside PortProfiles 20, certificate per CertValidationPolicy: self-signed 35,
 * issuer outside CertificateAuthorityList 25, expired or not yet valid 20, RSA key under
 * min_rsa_key_bits 20, malformed 20, validity over max_validity_days 15, sensor validation failed 15,
 * SNI not matching it 10; an IDS alert 30/20/10 by severity 1/2/3+, a TLS protocol anomaly 15,
 * client-heavy traffic (bytes out/in above TrafficAsymmetryRatio, from 64 KiB sent) 15. So "ECDHE on
 * an odd port" (20) or a lone self-signed certificate on 443 (35) stays below the threshold, while
 * RSA on an odd port (60), or an odd port with an invalid certificate, alerts.
 */
import { bool, durationMs, num, sourceOf, str } from '../fields';
import type { AnalyticFn, Finding, Reason, SourceEvent } from '../types';
import type { Tunables } from '../../content';
import {
  certificateIndex,
  certificateIssues,
  endpointsOf,
  hostNames,
  indicatorsOf,
  isAnomaly,
  isFlow,
  isIdsAlert,
  isInternal,
  isTlsSession,
  leafCertificate,
  networkOf,
  reason,
  span,
  speaksTls,
  tlsOf,
  uniqueEvidence,
  type CertIssueName,
  type Endpoints,
} from './network';

const CERT_POINTS: Record<CertIssueName, number> = {
  self_signed: 35,
  untrusted_issuer: 25,
  cert_expired: 20,
  cert_not_yet_valid: 20,
  weak_rsa_key: 20,
  malformed_certificate: 20,
  cert_validity_too_long: 15,
  validation_failed: 15,
  sni_cert_mismatch: 10,
};

const CERT_MESSAGES: Record<CertIssueName, string> = {
  self_signed: 'the server presented a self-signed certificate',
  untrusted_issuer: 'the certificate was not issued by a CA of CertificateAuthorityList',
  cert_expired: 'the certificate had expired',
  cert_not_yet_valid: 'the certificate was not yet valid',
  weak_rsa_key: 'the certificate has a short RSA key',
  malformed_certificate: 'the certificate is malformed or weakly signed',
  cert_validity_too_long: 'the certificate is valid for longer than public CAs issue',
  validation_failed: 'the sensor could not validate the certificate',
  sni_cert_mismatch: 'the certificate does not name the server the client asked for',
};

/** A handshake-sized exchange says nothing about traffic shape: the ratio counts from this much sent. */
export const CLIENT_HEAVY_MIN_BYTES = 64 * 1024;

const RELEVANT = (e: SourceEvent): boolean => isTlsSession(e) || isFlow(e) || isIdsAlert(e) || isAnomaly(e);

function connectionKey(e: SourceEvent): string | undefined {
  const cid = str(e, 'network.community_id');
  if (cid) return `cid:${cid}`;
  const a = str(e, 'source.ip');
  const b = str(e, 'destination.ip');
  const ap = num(e, 'source.port');
  const bp = num(e, 'destination.port');
  if (!a || !b || ap === undefined || bp === undefined) return undefined;
  const [x, y] = [`${a}|${ap}`, `${b}|${bp}`].sort();
  return `5t:${str(e, 'network.transport') ?? 'tcp'}|${x}|${y}`;
}

/** The sensor events of each connection, split where CorrelationWindow passes without an event. */
function connections(events: SourceEvent[], windowMs: number): SourceEvent[][] {
  const byKey = new Map<string, SourceEvent[]>();
  for (const e of events) {
    if (!RELEVANT(e)) continue;
    const key = connectionKey(e);
    if (!key) continue;
    const at = byKey.get(key);
    if (at) at.push(e);
    else byKey.set(key, [e]);
  }
  const out: SourceEvent[][] = [];
  for (const group of byKey.values()) {
    group.sort((a, b) => span(a)[0] - span(b)[0] || a.id.localeCompare(b.id));
    let current: SourceEvent[] = [];
    let reach = Number.NEGATIVE_INFINITY;
    for (const e of group) {
      const [start, end] = span(e);
      if (current.length && start - reach > windowMs) {
        out.push(current);
        current = [];
      }
      current.push(e);
      reach = Math.max(reach, end);
    }
    if (current.length) out.push(current);
  }
  return out;
}

function severityPoints(severity: number | undefined): number {
  if (severity === 1) return 30;
  if (severity === 2) return 20;
  return 10;
}

/** Bytes the client sent per byte it received, by the best flow record(s) at hand. */
function clientHeavy(events: SourceEvent[], ends: Endpoints): { ratio: number; out: number; in: number; from: SourceEvent[] } | undefined {
  let best: { ratio: number; out: number; in: number; from: SourceEvent[] } | undefined;
  const consider = (out: number, inn: number, from: SourceEvent[]): void => {
    const ratio = out / Math.max(inn, 1);
    if (!best || ratio > best.ratio) best = { ratio, out, in: inn, from };
  };
  for (const f of events.filter((e) => isFlow(e) && sourceOf(e) !== 'netflow')) {
    const out = num(f, 'source.bytes');
    const inn = num(f, 'destination.bytes');
    if (out !== undefined && inn !== undefined) consider(out, inn, [f]);
  }
  const client = ends.client?.ip;
  const netflow = events.filter((e) => sourceOf(e) === 'netflow');
  if (client && netflow.length) {
    const up = netflow.filter((e) => str(e, 'source.ip') === client);
    const down = netflow.filter((e) => str(e, 'destination.ip') === client);
    // One-way export without the reverse record: no ratio, rather than an infinite one.
    if (up.length && down.length) {
      const sum = (xs: SourceEvent[]): number => xs.reduce((s, e) => s + (num(e, 'source.bytes') ?? num(e, 'network.bytes') ?? 0), 0);
      consider(sum(up), sum(down), [...up, ...down]);
    }
  }
  return best;
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, '').replace(/\.$/, ''));

function analyse(conn: SourceEvent[], names: Map<string, string>, certs: ReturnType<typeof certificateIndex>, tunables: Tunables, windowMs: number): Finding | undefined {
  if (!conn.some(speaksTls)) return undefined;
  const ends = endpointsOf(conn);
  if (!ends.client || !ends.server) return undefined;
  // C2 is opened from inside: connections an external client opened (inbound) or transit traffic are
  // not AN1500's, so the internal side of the flow, the alert's host, is the client.
  if (isInternal(ends.client.ip, tunables) !== true) return undefined;

  const sessions = conn.filter(isTlsSession);
  const leafs = sessions.map((s) => leafCertificate(s, certs, windowMs)).filter((c): c is SourceEvent => !!c);
  const reasons: Reason[] = [];
  const port = ends.server.port;
  const portProfiled = port !== undefined && tunables.PortProfiles.includes(port);
  if (port !== undefined && !portProfiled) {
    reasons.push(reason('nonstandard_port', 20, String(port), `PortProfiles (${tunables.PortProfiles.join(', ')})`, `TLS on port ${port}, outside the ports where TLS is expected`, 'PortProfiles'));
  }
  const rsa = sessions.find((s) => bool(s, 'cryptochannel.tls.rsa_key_exchange') === true);
  if (rsa) {
    const ja3s = str(rsa, 'cryptochannel.tls.ja3s_string');
    const observed = str(rsa, 'tls.cipher') ?? (ja3s ? `JA3S ${ja3s}` : 'TLS_RSA_WITH_*');
    reasons.push(
      portProfiled
        ? reason('rsa_key_exchange', 15, observed, 'forward-secret key exchange', 'RSA key transport (no forward secrecy) on a profiled TLS port', 'PortProfiles')
        : reason('rsa_key_exchange', 40, observed, `no RSA key transport outside PortProfiles`, `RSA key transport (no forward secrecy) outside the expected TLS flows`, 'PortProfiles'),
    );
  }
  const certEvidence: SourceEvent[] = [];
  for (const issue of certificateIssues([...sessions, ...leafs], tunables)) {
    reasons.push(reason(issue.name, CERT_POINTS[issue.name], issue.observed, issue.threshold, CERT_MESSAGES[issue.name], issue.tunable));
    certEvidence.push(issue.from);
  }
  const alerts = conn.filter(isIdsAlert);
  if (alerts.length) {
    const severities = alerts.map((a) => num(a, 'event.severity') ?? 3);
    const top = Math.min(...severities);
    const signatures = [...new Set(alerts.map((a) => str(a, 'rule.name') ?? str(a, 'message') ?? 'IDS alert'))];
    reasons.push(reason('ids_alert', severityPoints(top), signatures.join('; '), 'no IDS alert on the connection', `the IDS alerted on this connection (severity ${top})`));
  }
  const anomalies = conn.filter((e) => isAnomaly(e) && str(e, 'cryptochannel.suricata.anomaly.type') === 'applayer');
  if (anomalies.length) {
    const kinds = [...new Set(anomalies.map((a) => str(a, 'cryptochannel.suricata.anomaly.event') ?? 'anomaly'))];
    reasons.push(reason('tls_protocol_anomaly', 15, kinds.join('; '), 'a well-formed TLS exchange', 'the IDS saw the TLS exchange break protocol'));
  }
  const heavy = clientHeavy(conn, ends);
  if (heavy && heavy.out >= CLIENT_HEAVY_MIN_BYTES && heavy.ratio > tunables.TrafficAsymmetryRatio) {
    reasons.push(reason('client_heavy', 15, `${fmt(heavy.ratio)} (${heavy.out} bytes out, ${heavy.in} in)`, String(tunables.TrafficAsymmetryRatio), 'the client sent far more than it received', 'TrafficAsymmetryRatio'));
  }
  if (!reasons.some((r) => r.points > 0)) return undefined;

  const evidence = uniqueEvidence([...conn, ...leafs, ...certEvidence]);
  const hostIp = ends.client.ip;
  const hostName = names.get(hostIp);
  const domain = sessions.map((s) => str(s, 'destination.domain')).find(Boolean);
  const tls = tlsOf([...sessions, ...leafs, ...alerts]);
  const what = reasons.filter((r) => r.points > 0).map((r) => r.name.replace(/_/g, ' ')).join(', ');
  return {
    analytic: 'AN1500',
    evidence,
    reasons,
    entities: {
      host: { ip: [hostIp], ...(hostName ? { name: hostName } : {}) },
      source: { ip: ends.client.ip, ...(ends.client.port !== undefined ? { port: ends.client.port } : {}) },
      destination: { ip: ends.server.ip, ...(port !== undefined ? { port } : {}), ...(domain ? { domain } : {}) },
      network: networkOf(conn, 'tls'),
      ...(tls ? { tls } : {}),
    },
    indicators: indicatorsOf(evidence),
    summary: `${ends.client.ip} → ${domain ?? ends.server.ip}:${port ?? '?'} over TLS: ${what}`,
  };
}

export const an1500: AnalyticFn = (events, ctx) => {
  const windowMs = durationMs(ctx.tunables.CorrelationWindow);
  const certs = certificateIndex(events);
  const names = hostNames(events);
  const out: Finding[] = [];
  for (const conn of connections(events, windowMs)) {
    const finding = analyse(conn, names, certs, ctx.tunables, windowMs);
    if (finding) out.push(finding);
  }
  return out;
};
