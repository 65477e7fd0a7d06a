/**
 * AN1498, macOS (unified log + network sensor): an application or launchd service that calls the
 * Security framework's public-key routines (SecKey…: cryptochannel.unifiedlog.public_key_api) and,
 * within CorrelationWindow, opens an outbound connection that presents an unrecognised certificate,
 * carries high-entropy payloads, or is DNS-over-HTTPS to a resolver outside TrustedDoHEndpoints.
 *
 * Joins. A process is host + process.pid + process.executable: the unified log names no host, so two
 * lines join only when both name the same host (shipper metadata) or neither does. A connection is
 * Network.framework's connection id of that process (start, flow, boringssl and summary lines), or,
 * for CFNetwork lines without one, the process and the server they name. Trust failures Security
 * logs inside the process (no connection id) belong to the process's latest connection started within
 * the clock skew before them. The network sensor's TLS session joins by community id when the log's
 * connection summary gave one, else by server (address or SNI, and port) within the clock skew; the
 * log's summary line gives the Mac's own address, and with it the join is by address (design.md "Whose
 * alert"): host.ip of the alert is that address, or the sensor's client. Suricata alerts join that
 * session by community id (payload entropy, DoH signatures).
 *
 * Points: public-key routine within the window 25, unrecognised certificate (a boringssl alert this
 * side sent, a trust failure, the sensor's self-signed / untrusted issuer / expired / failed
 * validation per CertValidationPolicy and CertificateAuthorityList) 40, untrusted DoH resolver 35,
 * outbound payload entropy above PayloadEntropyThreshold 20. A finding needs one of the last three:
 * key use plus a clean TLS session is what every browser does. Key use with an unrecognised
 * certificate (65) or an untrusted resolver (60) alerts; either alone does not. TrustedDoHEndpoints is
 * an allow-list that suppresses the DoH reason (by name, address, *.suffix or CIDR).
 */
import { CLOCK_SKEW_MS } from '../correlate';
import { bool, durationMs, list, num, str } from '../fields';
import type { AnalyticFn, Finding, Reason, SourceEvent } from '../types';
import type { Tunables } from '../../content';
import {
  certificateIndex,
  certificateIssues,
  candidates,
  hostNames,
  inHostList,
  indicatorsOf,
  isIdsAlert,
  isInternal,
  isTlsSession,
  leafCertificate,
  networkOf,
  reason,
  sensorIndex,
  sensorSessionsFor,
  serverOf,
  tlsOf,
  uniqueEvidence,
  type SensorIndex,
  type Server,
} from './network';

const UNIFIED_LOG = 'cryptochannel.unifiedlog';
const CONNECTION_ACTIONS = new Set(['network_connection', 'doh_connection', 'tls_handshake_failed', 'tls_connected', 'network_connection_state']);
/** Sensor certificate facts that make a certificate "unrecognised". */
const UNRECOGNISED = new Set(['self_signed', 'untrusted_issuer', 'cert_expired', 'cert_not_yet_valid', 'validation_failed']);
/**
 * OSStatus / NSURLError codes that are about the server's certificate (-9807 chain invalid, -9808 bad
 * certificate, -9812 unknown root, -9813 no root, -9814 expired, -9815 not yet valid, -9825 bad
 * certificate format; -1201..-1204 untrusted, bad date, unknown root, not yet valid); -1200 and the
 * rest are other TLS failures (protocol version, handshake), not an unrecognised certificate.
 */
const CERTIFICATE_STATUS = new Set([-9807, -9808, -9812, -9813, -9814, -9815, -9825, -1201, -1202, -1203, -1204]);
/** Alert descriptions and verdicts about the certificate (not protocol versions or handshake failures). */
const CERTIFICATE_WORDS = /cert|verif|trust|anchor|leaf|root|expired|valid|hostname|self.signed|\bca\b/i;
/** Suricata signatures about DNS over HTTPS (ET INFO/POLICY "DNS over HTTPS", "DoH"). */
const DOH_SIGNATURE = /\bDoH\b|DNS[\s-]over[\s-]HTTPS/i;

const isUnifiedLog = (e: SourceEvent): boolean => str(e, 'event.dataset') === UNIFIED_LOG;

/** host | pid | executable; undefined without a usable pid. */
function processKey(e: SourceEvent): string | undefined {
  const pid = num(e, 'process.pid');
  if (pid === undefined || !Number.isInteger(pid)) return undefined;
  const host = (str(e, 'host.name') ?? str(e, 'host.id') ?? '').toLowerCase();
  return `${host}|${pid}|${str(e, 'process.executable') ?? str(e, 'process.name') ?? ''}`;
}

interface Connection {
  proc: string;
  lines: SourceEvent[];
  start: number;
  server: Server;
  doh: boolean;
  dohName?: string;
  clientIps: string[];
  communityId?: string;
  trust: SourceEvent[];
}

function connectionKey(e: SourceEvent): string | undefined {
  const id = str(e, 'cryptochannel.unifiedlog.connection_id');
  if (id) return `conn:${id}`;
  const s = serverOf(e);
  return s.ip || s.domain ? `server:${s.ip ?? s.domain}:${s.port ?? ''}` : undefined;
}

function connectionsOf(lines: SourceEvent[], windowMs: number): Connection[] {
  const byKey = new Map<string, SourceEvent[]>();
  for (const e of lines) {
    const proc = processKey(e);
    const conn = connectionKey(e);
    if (!proc || !conn) continue;
    const key = `${proc}\u0000${conn}`;
    const at = byKey.get(key);
    if (at) at.push(e);
    else byKey.set(key, [e]);
  }
  const out: Connection[] = [];
  for (const [key, group] of byKey) {
    group.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
    let current: SourceEvent[] = [];
    const flush = (): void => {
      if (current.length) out.push(connection(key.split('\u0000')[0]!, current));
      current = [];
    };
    for (const e of group) {
      // Connection ids are counters: the same id far apart is another connection.
      if (current.length && e.time - current[current.length - 1]!.time > windowMs) flush();
      current.push(e);
    }
    flush();
  }
  return out;
}

function connection(proc: string, lines: SourceEvent[]): Connection {
  const withServer = lines.find((l) => str(l, 'destination.ip') || str(l, 'destination.domain'));
  const server = withServer ? serverOf(withServer) : {};
  const dohLine = lines.find((l) => bool(l, 'cryptochannel.unifiedlog.doh') === true);
  const clientIps = [...new Set(lines.map((l) => str(l, 'source.ip')).filter((v): v is string => !!v))];
  const communityId = lines.map((l) => str(l, 'network.community_id')).find(Boolean);
  return {
    proc,
    lines,
    start: lines[0]!.time,
    server,
    doh: !!dohLine,
    dohName: dohLine ? (str(dohLine, 'url.domain') ?? str(dohLine, 'destination.domain') ?? str(dohLine, 'destination.ip')) : undefined,
    clientIps,
    communityId,
    trust: [],
  };
}

/** What the log itself says about the server's certificate on this connection. */
function logCertificateFacts(conn: Connection): Array<{ what: string; from: SourceEvent }> {
  const out: Array<{ what: string; from: SourceEvent }> = [];
  for (const l of [...conn.lines, ...conn.trust]) {
    const alert = str(l, 'cryptochannel.unifiedlog.tls_alert');
    // An alert this side wrote about a certificate rejects the server's; one it read is the server rejecting us.
    if (alert && CERTIFICATE_WORDS.test(alert) && bool(l, 'cryptochannel.unifiedlog.tls_alert_sent') === true) out.push({ what: `TLS alert sent: ${alert}`, from: l });
    const status = str(l, 'cryptochannel.tls.validation_status');
    if (status && CERTIFICATE_WORDS.test(status)) out.push({ what: status, from: l });
    const failures = list(l, 'cryptochannel.unifiedlog.trust_failures');
    if (failures.length && !status) out.push({ what: failures.join(', '), from: l });
    const code = num(l, 'cryptochannel.unifiedlog.trust_status');
    if (code !== undefined && CERTIFICATE_STATUS.has(code)) out.push({ what: `trust error ${code}`, from: l });
    const result = str(l, 'cryptochannel.unifiedlog.trust_result');
    if (result && /Failure|Deny/i.test(result)) out.push({ what: `trust result ${result}`, from: l });
  }
  return out;
}

function routine(e: SourceEvent): string {
  const m = /^\s*(Sec[A-Za-z]+)/.exec(str(e, 'message') ?? '');
  return m ? m[1]! : 'SecKey';
}

function analyse(conn: Connection, procIps: string[], keyUses: SourceEvent[], sessions: SensorIndex, alerts: SensorIndex, names: Map<string, string>, certs: ReturnType<typeof certificateIndex>, tunables: Tunables, windowMs: number): Finding | undefined {
  // Host-based direction: a connection the Mac accepted is not a channel it opened.
  if (conn.lines.some((l) => str(l, 'network.direction') === 'ingress')) return undefined;

  // The Mac's address: from this connection's summary line, else from another connection of the same process.
  const known = conn.clientIps.length ? conn.clientIps : procIps;
  let matched = conn.server.ip || conn.server.domain || conn.communityId ? sensorSessionsFor({ time: conn.start, server: conn.server, communityId: conn.communityId, clientIps: known }, sessions, windowMs) : [];
  const sessionClients = new Set(matched.map((s) => str(s, 'source.ip')));
  if (!known.length && sessionClients.size > 1) {
    // Several Macs reached that server at that moment: without the Mac's address, the nearest session's client is the best guess.
    const nearest = [...matched].sort((a, b) => Math.abs(a.time - conn.start) - Math.abs(b.time - conn.start))[0]!;
    matched = matched.filter((s) => str(s, 'source.ip') === str(nearest, 'source.ip'));
  }
  const leafs = matched.map((s) => leafCertificate(s, certs, windowMs)).filter((c): c is SourceEvent => !!c);
  const clients = [...new Set([...known, ...matched.map((s) => str(s, 'source.ip')).filter((v): v is string => !!v)])];
  const sessionCids = new Set(matched.map((s) => str(s, 'network.community_id')).filter(Boolean));
  if (conn.communityId) sessionCids.add(conn.communityId);
  const from = conn.start - windowMs;
  const to = conn.start + windowMs;
  const joinedAlerts = uniqueEvidence([
    ...[...sessionCids].flatMap((cid) => candidates(alerts, { communityId: cid }, from, to)),
    ...(clients.length ? candidates(alerts, { server: { ip: conn.server.ip }, clientIps: clients }, from, to) : []),
  ]).filter((a) => {
    if (Math.abs(a.time - conn.start) > windowMs) return false;
    const cid = str(a, 'network.community_id');
    if (cid && sessionCids.size) return sessionCids.has(cid);
    // No community id to go by: the alert's endpoints are the Mac and the server, in either orientation.
    const [src, dst] = [str(a, 'source.ip'), str(a, 'destination.ip')];
    const serverAt = (ip: string | undefined, port: number | undefined): boolean => !!conn.server.ip && ip === conn.server.ip && (conn.server.port === undefined || port === conn.server.port);
    return (serverAt(dst, num(a, 'destination.port')) && clients.includes(src ?? '')) || (serverAt(src, num(a, 'source.port')) && clients.includes(dst ?? ''));
  });

  const reasons: Reason[] = [];
  const evidence: SourceEvent[] = [...conn.lines, ...conn.trust];

  const logFacts = logCertificateFacts(conn);
  const sensorIssues = certificateIssues([...matched, ...leafs], tunables).filter((i) => UNRECOGNISED.has(i.name));
  if (logFacts.length || sensorIssues.length) {
    const observed = [...new Set([...logFacts.map((f) => f.what), ...sensorIssues.map((i) => `${i.name.replace(/_/g, ' ')}: ${i.observed}`)])].join('; ');
    reasons.push(reason('untrusted_certificate', 40, observed, 'a certificate the Mac and CertificateAuthorityList recognise', 'the server presented a certificate that was not recognised', sensorIssues.length ? 'CertificateAuthorityList' : undefined));
    evidence.push(...sensorIssues.map((i) => i.from));
  }

  const threshold = tunables.PayloadEntropyThreshold;
  const outbound = joinedAlerts.filter((a) => {
    const entropy = num(a, 'cryptochannel.payload.entropy');
    if (entropy === undefined || entropy <= threshold) return false;
    const dir = str(a, 'cryptochannel.suricata.direction');
    return dir ? dir === 'to_server' : clients.includes(str(a, 'source.ip') ?? '');
  });
  if (outbound.length) {
    const top = Math.max(...outbound.map((a) => num(a, 'cryptochannel.payload.entropy')!));
    reasons.push(reason('high_entropy_payload', 20, `${top} bits/byte`, `${threshold} bits/byte`, 'the Mac sent payloads as random as encrypted or packed data', 'PayloadEntropyThreshold'));
    evidence.push(...outbound);
  }

  const dohAlerts = joinedAlerts.filter((a) => DOH_SIGNATURE.test(str(a, 'rule.name') ?? ''));
  if (conn.doh || dohAlerts.length) {
    const resolvers = [conn.dohName, conn.server.domain, conn.server.ip, ...matched.map((s) => str(s, 'destination.domain'))].filter((v): v is string => !!v);
    const resolver = resolvers[0];
    if (resolver && !resolvers.some((n) => inHostList(n, tunables.TrustedDoHEndpoints))) {
      reasons.push(reason('untrusted_doh', 35, resolver, `TrustedDoHEndpoints (${tunables.TrustedDoHEndpoints.length} entries)`, 'DNS over HTTPS to a resolver outside TrustedDoHEndpoints', 'TrustedDoHEndpoints'));
      evidence.push(...dohAlerts);
    }
  }
  if (!reasons.length) return undefined;

  const near = keyUses.filter((k) => Math.abs(k.time - conn.start) <= windowMs);
  if (near.length) {
    // One event per routine, the nearest: a process may call SecKey thousands of times; the routines are what explain.
    const byRoutine = new Map<string, SourceEvent>();
    for (const k of near) {
      const r = routine(k);
      const seen = byRoutine.get(r);
      if (!seen || Math.abs(k.time - conn.start) < Math.abs(seen.time - conn.start)) byRoutine.set(r, k);
    }
    reasons.unshift(reason('security_framework_key_use', 25, [...byRoutine.keys()].sort().join(', '), `within CorrelationWindow (${tunables.CorrelationWindow})`, 'the process called Security-framework public-key routines', 'CorrelationWindow'));
    evidence.push(...byRoutine.values());
  }

  const first = conn.lines[0]!;
  const ev = uniqueEvidence([...evidence, ...matched, ...leafs]);
  const hostIps = clients.filter((ip) => isInternal(ip, tunables) !== false);
  const named = [...conn.lines, ...near].find((l) => str(l, 'host.name') || str(l, 'host.id'));
  const hostName = (named && str(named, 'host.name')) ?? (hostIps[0] ? names.get(hostIps[0]) : undefined);
  const hostId = named && str(named, 'host.id');
  const pid = num(first, 'process.pid')!;
  const pname = str(first, 'process.name');
  const exe = str(first, 'process.executable');
  const session = matched[0];
  const destIp = conn.server.ip ?? (session && str(session, 'destination.ip'));
  const domain = conn.server.domain ?? (session && str(session, 'destination.domain'));
  const port = conn.server.port ?? (session && num(session, 'destination.port'));
  const srcLine = [...conn.lines, ...matched].find((l) => str(l, 'source.ip'));
  const tls = tlsOf([...matched, ...leafs, ...conn.lines]);
  const what = reasons.map((r) => r.name.replace(/_/g, ' ')).join(', ');
  return {
    analytic: 'AN1498',
    evidence: ev,
    reasons,
    entities: {
      host: { ...(hostId ? { id: hostId } : {}), ...(hostName ? { name: hostName } : {}), ...(hostIps.length ? { ip: hostIps } : {}), os: { type: 'macos' } },
      process: { pid, ...(pname ? { name: pname } : {}), ...(exe ? { executable: exe } : {}) },
      ...(srcLine ? { source: { ip: str(srcLine, 'source.ip')!, ...(num(srcLine, 'source.port') !== undefined ? { port: num(srcLine, 'source.port') } : {}) } } : {}),
      ...(destIp || domain || port !== undefined ? { destination: { ...(destIp ? { ip: destIp } : {}), ...(port !== undefined ? { port } : {}), ...(domain ? { domain } : {}) } } : {}),
      network: networkOf([...conn.lines, ...matched]),
      ...(tls ? { tls } : {}),
    },
    indicators: indicatorsOf(ev),
    summary: `${pname ?? exe ?? `pid ${pid}`} (pid ${pid}) → ${domain ?? destIp ?? 'unknown server'}${port !== undefined ? `:${port}` : ''}: ${what}`,
  };
}

export const an1498: AnalyticFn = (events, ctx) => {
  const windowMs = durationMs(ctx.tunables.CorrelationWindow);
  const log = events.filter(isUnifiedLog);
  const connections = connectionsOf(
    log.filter((e) => CONNECTION_ACTIONS.has(str(e, 'event.action') ?? '')),
    windowMs,
  );
  // Trust failures name no connection: they go to the process's latest connection started within the skew before them.
  const byProc = new Map<string, Connection[]>();
  for (const c of connections) byProc.set(c.proc, [...(byProc.get(c.proc) ?? []), c]);
  for (const t of log.filter((e) => str(e, 'event.action') === 'trust_evaluation_failed' && !connectionKey(e))) {
    const proc = processKey(t);
    const candidates = (proc ? byProc.get(proc) ?? [] : []).filter((c) => c.start <= t.time && t.time - c.start <= CLOCK_SKEW_MS);
    const latest = candidates.sort((a, b) => b.start - a.start)[0];
    latest?.trust.push(t);
  }
  const keyUses = new Map<string, SourceEvent[]>();
  for (const k of log.filter((e) => bool(e, 'cryptochannel.unifiedlog.public_key_api') === true)) {
    const proc = processKey(k);
    if (proc) keyUses.set(proc, [...(keyUses.get(proc) ?? []), k]);
  }
  const sessions = sensorIndex(events.filter(isTlsSession));
  const alerts = sensorIndex(events.filter(isIdsAlert));
  const names = hostNames(events);
  const certs = certificateIndex(events);
  const procIps = new Map<string, string[]>();
  for (const c of connections) procIps.set(c.proc, [...new Set([...(procIps.get(c.proc) ?? []), ...c.clientIps])]);
  const out: Finding[] = [];
  for (const conn of connections) {
    const finding = analyse(conn, procIps.get(conn.proc) ?? [], keyUses.get(conn.proc) ?? [], sessions, alerts, names, certs, ctx.tunables, windowMs);
    if (finding) out.push(finding);
  }
  return out;
};
