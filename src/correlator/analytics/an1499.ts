/**
 * AN1499, ESXi: hostd or vpxa negotiating TLS with a peer outside BaselineMgmtHosts (its vCenters and
 * VMware's update servers). The esxi pipeline flags the peer at ingest (cryptochannel.esxi.peer_in_baseline)
 * with that day's list; the correlator decides on the live list itself, so adding a vCenter to the
 * tunable quiets the next run and removing one brings it back.
 *
 * One finding per ESXi host, management process and peer, over the lines that lie within
 * CorrelationWindow of each other (connect, handshake completed or failed, certificate verification
 * failed: a peer named without a port joins its lines with a port). The network sensor's TLS session of
 * the same connection joins by community id when the line carried the TCP tuple, else by server
 * (address or SNI, and port) and the ESXi host's address within the clock skew.
 *
 * Points: peer outside BaselineMgmtHosts 45, its address outside InternalNetworks 15, certificate
 * verification failed 30, the sensor's certificate facts abnormal (per CertValidationPolicy and
 * CertificateAuthorityList) 25, handshake failed or timed out 10, RSA key exchange 10. A peer in the
 * baseline (by name, *.suffix, address or CIDR, also through the address the sensor saw for a named
 * peer) yields no finding at all: the allow-list suppresses, whatever else happened, because a listed
 * vCenter with a self-signed VMCA certificate is the normal case. An unlisted internal peer whose TLS
 * went well (45) stays below ScoreThreshold; an external one (60), or any certificate failure, alerts.
 */
import { bool, durationMs, num, str } from '../fields';
import type { AnalyticFn, Finding, Reason, SourceEvent } from '../types';
import type { Tunables } from '../../content';
import {
  certificateIndex,
  certificateIssues,
  inHostList,
  indicatorsOf,
  isInternal,
  isIp,
  isTlsSession,
  leafCertificate,
  networkOf,
  reason,
  sensorIndex,
  sensorSessionsFor,
  type SensorIndex,
  tlsOf,
  uniqueEvidence,
} from './network';

export const MANAGEMENT_PROCESSES = ['hostd', 'vpxa'];

function hostOf(e: SourceEvent): string | undefined {
  return str(e, 'host.name') ?? str(e, 'host.hostname') ?? str(e, 'log.syslog.hostname');
}

function peerOf(e: SourceEvent): string | undefined {
  return str(e, 'cryptochannel.esxi.peer_address') ?? str(e, 'destination.domain') ?? str(e, 'destination.ip');
}

function portOf(e: SourceEvent): number | undefined {
  return num(e, 'cryptochannel.esxi.peer_port') ?? num(e, 'destination.port');
}

/** An outbound TLS line of hostd or vpxa that names its peer. */
function isManagementTls(e: SourceEvent): boolean {
  if (str(e, 'event.dataset') !== 'cryptochannel.esxi') return false;
  const proc = (str(e, 'process.name') ?? '').toLowerCase();
  return MANAGEMENT_PROCESSES.includes(proc) && bool(e, 'cryptochannel.esxi.outbound') === true && !!peerOf(e) && !!hostOf(e);
}

function groups(lines: SourceEvent[], windowMs: number): SourceEvent[][] {
  const byKey = new Map<string, SourceEvent[]>();
  for (const e of lines) {
    const key = `${hostOf(e)!.toLowerCase()}|${str(e, 'process.name')!.toLowerCase()}|${peerOf(e)!.toLowerCase().replace(/\.$/, '')}`;
    const at = byKey.get(key);
    if (at) at.push(e);
    else byKey.set(key, [e]);
  }
  const out: SourceEvent[][] = [];
  for (const group of byKey.values()) {
    group.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
    let current: SourceEvent[] = [];
    for (const e of group) {
      if (current.length && e.time - current[current.length - 1]!.time > windowMs) {
        out.push(current);
        current = [];
      }
      current.push(e);
    }
    out.push(current);
  }
  return out;
}

/** Each ESXi host's own addresses, from any of its lines that carried the TCP tuple. */
function esxiAddresses(events: SourceEvent[], tunables: Tunables): Map<string, string[]> {
  const byHost = new Map<string, Set<string>>();
  for (const e of events) {
    const host = hostOf(e)?.toLowerCase();
    if (str(e, 'event.dataset') !== 'cryptochannel.esxi' || !host) continue;
    const ip = bool(e, 'cryptochannel.esxi.outbound') === true ? str(e, 'source.ip') : str(e, 'destination.ip');
    if (!ip || isInternal(ip, tunables) === false) continue;
    const at = byHost.get(host) ?? new Set<string>();
    at.add(ip);
    byHost.set(host, at);
  }
  return new Map([...byHost].map(([h, ips]) => [h, [...ips]]));
}

const ABNORMAL = new Set(['self_signed', 'untrusted_issuer', 'cert_expired', 'cert_not_yet_valid', 'weak_rsa_key', 'validation_failed', 'malformed_certificate']);

function analyse(lines: SourceEvent[], addresses: Map<string, string[]>, sessions: SensorIndex, certs: ReturnType<typeof certificateIndex>, tunables: Tunables, windowMs: number): Finding | undefined {
  const first = lines[0]!;
  const host = hostOf(first)!;
  const proc = str(first, 'process.name')!;
  const peer = peerOf(first)!;
  const ports = [...new Set(lines.map(portOf).filter((p): p is number => p !== undefined))];
  const baseline = tunables.BaselineMgmtHosts;
  // Listed by name or address: nothing to join or score (the common case, a vCenter, costs no lookup).
  if (inHostList(peer, baseline)) return undefined;
  const ownIps = addresses.get(host.toLowerCase()) ?? [];

  let matched: SourceEvent[] = [];
  for (const line of lines) {
    const server = { ...(isIp(peer) ? { ip: peer } : { domain: peer.toLowerCase().replace(/\.$/, '') }), port: portOf(line) };
    matched.push(...sensorSessionsFor({ time: line.time, server, communityId: str(line, 'network.community_id'), clientIps: ownIps }, sessions, windowMs));
  }
  // Without the host's own address, sessions of several clients to the same server are ambiguous: keep the nearest one's client.
  const clients = new Set(matched.map((s) => str(s, 'source.ip')));
  if (!ownIps.length && clients.size > 1) {
    const nearest = [...matched].sort((a, b) => Math.abs(a.time - first.time) - Math.abs(b.time - first.time))[0]!;
    matched = matched.filter((s) => str(s, 'source.ip') === str(nearest, 'source.ip'));
  }
  matched = uniqueEvidence(matched);
  const leafs = matched.map((s) => leafCertificate(s, certs, windowMs)).filter((c): c is SourceEvent => !!c);
  const peerIps = [...new Set([...(isIp(peer) ? [peer] : []), ...lines.map((l) => str(l, 'destination.ip')), ...matched.map((s) => str(s, 'destination.ip'))].filter((v): v is string => !!v))];

  // A named peer is listed through its address too (a CIDR of the management network).
  if (peerIps.some((ip) => inHostList(ip, baseline))) return undefined;

  const reasons: Reason[] = [];
  const where = ports.length ? `${peer}:${ports.join(',')}` : peer;
  reasons.push(reason('peer_outside_baseline', 45, where, `BaselineMgmtHosts (${baseline.length} entries)`, `${proc} negotiated TLS with a host that is neither a listed vCenter nor an update server`, 'BaselineMgmtHosts'));
  const external = peerIps.filter((ip) => isInternal(ip, tunables) === false);
  if (external.length) reasons.push(reason('peer_external', 15, external.join(', '), 'InternalNetworks', 'the peer is outside the internal networks', 'InternalNetworks'));
  const certFailed = lines.filter((l) => bool(l, 'cryptochannel.esxi.cert_verification_failed') === true);
  if (certFailed.length) {
    const what = certFailed.map((l) => str(l, 'cryptochannel.tls.validation_status') ?? (bool(l, 'cryptochannel.tls.self_signed') ? 'self-signed certificate' : bool(l, 'cryptochannel.tls.cert_expired') ? 'certificate expired' : 'certificate verification failed'));
    reasons.push(reason('certificate_verification_failed', 30, [...new Set(what)].join('; '), 'the peer certificate verifies', `${proc} could not verify the peer's certificate`));
  }
  const failed = lines.filter((l) => bool(l, 'cryptochannel.esxi.cert_verification_failed') !== true && (bool(l, 'cryptochannel.esxi.handshake_timeout') === true || bool(l, 'cryptochannel.tls.handshake_failed') === true));
  if (failed.length && !certFailed.length) {
    const timeout = failed.some((l) => bool(l, 'cryptochannel.esxi.handshake_timeout') === true);
    reasons.push(reason('handshake_failed', 10, timeout ? 'handshake timeout' : 'handshake failed', 'a completed handshake', 'the TLS handshake did not complete'));
  }
  const abnormal = certificateIssues([...matched, ...leafs], tunables).filter((i) => ABNORMAL.has(i.name));
  if (abnormal.length) {
    reasons.push(reason('sensor_certificate_abnormal', 25, abnormal.map((i) => `${i.name.replace(/_/g, ' ')}: ${i.observed}`).join('; '), 'CertValidationPolicy, CertificateAuthorityList', 'the network sensor saw the same session present an abnormal certificate', 'CertValidationPolicy'));
  }
  const rsa = [...lines, ...matched].find((e) => bool(e, 'cryptochannel.tls.rsa_key_exchange') === true);
  if (rsa) reasons.push(reason('rsa_key_exchange', 10, str(rsa, 'tls.cipher') ?? 'TLS_RSA_WITH_*', 'forward-secret key exchange', 'the session used RSA key transport (no forward secrecy)'));

  const evidence = uniqueEvidence([...lines, ...matched, ...leafs, ...abnormal.map((i) => i.from)]);
  const tuple = [...lines, ...matched].find((e) => str(e, 'source.ip') && str(e, 'destination.ip'));
  const pid = num(first, 'process.pid');
  const domain = isIp(peer) ? matched.map((s) => str(s, 'destination.domain')).find(Boolean) : peer;
  const destIp = peerIps[0];
  const tls = tlsOf([...matched, ...leafs, ...lines]);
  const clientIps = ownIps.length ? ownIps : [...new Set(matched.map((s) => str(s, 'source.ip')).filter((v): v is string => !!v))];
  const what = reasons.slice(1).map((r) => r.name.replace(/_/g, ' '));
  return {
    analytic: 'AN1499',
    evidence,
    reasons,
    entities: {
      host: { name: host, ...(clientIps.length ? { ip: clientIps } : {}) },
      process: { name: proc, ...(pid !== undefined ? { pid } : {}) },
      ...(tuple ? { source: { ip: str(tuple, 'source.ip')!, ...(num(tuple, 'source.port') !== undefined ? { port: num(tuple, 'source.port') } : {}) } } : {}),
      destination: { ...(destIp ? { ip: destIp } : {}), ...(ports[0] !== undefined ? { port: ports[0] } : {}), ...(domain ? { domain } : {}) },
      network: networkOf([...lines, ...matched], 'tls'),
      ...(tls ? { tls } : {}),
    },
    indicators: indicatorsOf(evidence),
    summary: `${proc} on ${host} negotiated TLS with ${where}, outside BaselineMgmtHosts${what.length ? `: ${what.join(', ')}` : ''}`,
  };
}

export const an1499: AnalyticFn = (events, ctx) => {
  const windowMs = durationMs(ctx.tunables.CorrelationWindow);
  const sessions = sensorIndex(events.filter(isTlsSession));
  const addresses = esxiAddresses(events, ctx.tunables);
  const certs = certificateIndex(events);
  const out: Finding[] = [];
  for (const lines of groups(events.filter(isManagementTls), windowMs)) {
    const finding = analyse(lines, addresses, sessions, certs, ctx.tunables, windowMs);
    if (finding) out.push(finding);
  }
  return out;
};
