/**
 * AN1496 (Windows): a process not expected to use crypto loads crypto libraries (Sysmon EID 7 with
 * cryptochannel.sysmon.crypto_library), then opens an outbound connection (Sysmon EID 3, same
 * host + process.entity_id, within CorrelationWindow), and that connection shows an abnormal
 * certificate chain or handshake: CAPI2 chain errors of the same process (host + pid, tied to the
 * connection by server address, SNI, the certificate's thumbprint or time), or the network sensor's
 * view of the session (Zeek ssl + x509, Suricata tls, flows, IDS alerts) joined by community id or
 * 5-tuple within the clock skew.
 *
 * Allow-list: a process in AllowedCryptoProcesses adds -40 instead of +25, and a connection of
 * an allowed process with nothing abnormal yields no finding at all; a strongly abnormal session
 * of an allowed process (powershell.exe to a self-signed, weak-key, untrusted-root server) can
 * still alert. A process whose image name is allowed but whose PE original file name is not is a
 * renamed binary and is treated as unexpected.
 */
import { baseName, get, inList, list, num, processKey, sourceOf, str } from '../fields';
import type { AnalyticFn, Finding, Reason, SourceEvent } from '../types';
import {
  addressesOf,
  byTime,
  certificateReasons,
  connectionProcess,
  endpointFinding,
  ENDPOINT_JITTER_MS,
  groupBy,
  idsReason,
  indexNetwork,
  libraryNames,
  limits,
  loadsBefore,
  networkView,
  processName,
  sensorHandshakeMeasures,
  uniqueEvents,
  validTime,
  type EndpointConnection,
  type HandshakeMeasure,
  type LibraryLoad,
  type Limits,
} from './endpoint';

export const AN1496_POINTS = {
  unexpected_crypto_process: 25,
  allowed_crypto_process: -40,
  renamed_binary: 10,
  unsigned_crypto_library: 10,
  capi2_chain_error: 25,
} as const;

/** CAPI2 results that only say revocation could not be checked (offline CRL): common on healthy networks. */
const REVOCATION_ONLY = new Set(['0x80092013', '0x80092012']);
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function isSysmon(e: SourceEvent, action: string): boolean {
  return sourceOf(e) === 'sysmon' && str(e, 'event.action') === action;
}

/** The host part of a CAPI2 ↔ Sysmon join: both name the Windows computer; compare its first label. */
function hostLabel(e: SourceEvent): string | undefined {
  const name = str(e, 'host.name');
  if (name) return name.toLowerCase().split('.')[0];
  return str(e, 'host.id')?.toLowerCase();
}

function sysmonConnection(e: SourceEvent): EndpointConnection | undefined {
  const key = processKey(e);
  const destIp = str(e, 'destination.ip');
  const outbound = str(e, 'network.direction') === 'egress' || get(e.doc, 'cryptochannel.sysmon.initiated') === true;
  if (!key || !destIp || !outbound) return undefined;
  return {
    event: e,
    parts: [],
    key,
    time: e.time,
    destIp,
    destPort: num(e, 'destination.port'),
    sourceIp: str(e, 'source.ip'),
    sourcePort: num(e, 'source.port'),
    transport: str(e, 'network.transport'),
    communityId: str(e, 'network.community_id'),
    hostIps: addressesOf(e),
  };
}

function sysmonLoad(e: SourceEvent): LibraryLoad | undefined {
  const key = processKey(e);
  const name = str(e, 'dll.name') ?? baseName(str(e, 'dll.path'));
  if (!key || !name || get(e.doc, 'cryptochannel.sysmon.crypto_library') !== true) return undefined;
  const trusted = get(e.doc, 'dll.code_signature.trusted');
  return { events: [e], key, time: e.time, name, path: str(e, 'dll.path'), trusted: typeof trusted === 'boolean' ? trusted : undefined };
}

/** A CAPI2 event about a TLS server certificate (not code signing, not a private-key operation). */
function isTlsCapi2(e: SourceEvent): boolean {
  if (sourceOf(e) !== 'capi2') return false;
  return (
    str(e, 'cryptochannel.capi2.policy') === 'CERT_CHAIN_POLICY_SSL' ||
    list(e, 'cryptochannel.capi2.usage_oids').includes(SERVER_AUTH) ||
    !!str(e, 'tls.server.hash.sha1') ||
    !!str(e, 'destination.ip') ||
    !!str(e, 'destination.domain')
  );
}

function capi2Names(e: SourceEvent): string[] {
  return [str(e, 'destination.domain'), str(e, 'tls.client.server_name')].filter((v): v is string => !!v).map((v) => v.toLowerCase());
}

/**
 * The CAPI2 validations that belong to this connection: events of the same host and pid from just
 * before the connect to the clock skew after it, grouped by validation task; a task belongs if it
 * names the connection's server (address, SNI or a name the process resolved to that address) or
 * the certificate the sensor saw; a task that names no server belongs only when no task does.
 */
function capi2For(conn: EndpointConnection, capi2ByHostPid: Map<string, SourceEvent[]>, serverNames: Set<string>, sensorSha1: Set<string>, lim: Limits): SourceEvent[] {
  const pid = num(conn.event, 'process.pid');
  const host = hostLabel(conn.event);
  if (pid === undefined || !host) return [];
  const name = processName(conn.event)?.toLowerCase();
  const near = (capi2ByHostPid.get(`${host}|${pid}`) ?? []).filter((e) => {
    const n = processName(e)?.toLowerCase();
    return e.time >= conn.time - ENDPOINT_JITTER_MS && e.time <= conn.time + lim.skewMs && (!n || !name || n === name);
  });
  const tasks = groupBy(near, (e) => str(e, 'cryptochannel.capi2.task_id') ?? str(e, 'cryptochannel.capi2.chain_ref') ?? `${e.index}/${e.id}`);
  const named: SourceEvent[][] = [];
  const unnamed: SourceEvent[][] = [];
  for (const [, group] of [...tasks.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const names = group.some((e) => str(e, 'destination.ip') || capi2Names(e).length > 0);
    const ours = group.some(
      (e) =>
        str(e, 'destination.ip') === conn.destIp ||
        capi2Names(e).some((n) => serverNames.has(n)) ||
        sensorSha1.has((str(e, 'cryptochannel.capi2.thumbprint') ?? '').toUpperCase()),
    );
    if (ours) named.push(group);
    else if (!names) unnamed.push(group);
  }
  if (named.length) return uniqueEvents(named.flat());
  const first = unnamed.sort((a, b) => Math.min(...a.map((e) => e.time)) - Math.min(...b.map((e) => e.time)))[0];
  return first ? uniqueEvents(first) : [];
}

function capi2Reason(events: SourceEvent[]): Reason | undefined {
  // One entry per error, with the chain's trust flags: the build (11) and policy (30) events of one validation repeat it.
  const errors = new Map<string, Set<string>>();
  for (const e of events) {
    const code = str(e, 'cryptochannel.capi2.result_code');
    if (!code || code === '0x00000000' || REVOCATION_ONLY.has(code.toUpperCase().replace('0X', '0x'))) continue;
    const name = str(e, 'cryptochannel.capi2.error_name') ?? code;
    const flags = errors.get(name) ?? new Set<string>();
    for (const t of list(e, 'cryptochannel.capi2.trust_errors')) if (!t.includes('REVOCATION')) flags.add(t);
    errors.set(name, flags);
  }
  if (errors.size === 0) return undefined;
  return {
    name: 'capi2_chain_error',
    observed: [...errors.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, flags]) => `${name}${flags.size ? ` (${[...flags].sort().join(', ')})` : ''}`)
      .join('; '),
    threshold: 'S_OK',
    points: AN1496_POINTS.capi2_chain_error,
    message: 'Windows (CAPI2) could not validate the server certificate chain',
  };
}

export const an1496: AnalyticFn = (events, ctx) => {
  const lim = limits(ctx);
  const t = ctx.tunables;
  const valid = events.filter(validTime);

  const loads: LibraryLoad[] = [];
  const conns: EndpointConnection[] = [];
  const starts: SourceEvent[] = [];
  const dns: SourceEvent[] = [];
  const capi2: SourceEvent[] = [];
  for (const e of valid) {
    if (isSysmon(e, 'image-loaded')) {
      const l = sysmonLoad(e);
      if (l) loads.push(l);
    } else if (isSysmon(e, 'network-connection')) {
      const c = sysmonConnection(e);
      if (c) conns.push(c);
    } else if (isSysmon(e, 'process-created')) starts.push(e);
    else if (isSysmon(e, 'dns-query')) dns.push(e);
    else if (isTlsCapi2(e)) capi2.push(e);
  }
  if (conns.length === 0 || loads.length === 0) return [];

  const loadsByKey = groupBy(loads, (l) => l.key);
  const startsByKey = groupBy(starts, processKey);
  const dnsByKey = groupBy(dns, processKey);
  const capi2ByHostPid = groupBy(capi2, (e) => {
    const host = hostLabel(e);
    const pid = num(e, 'process.pid');
    return host && pid !== undefined ? `${host}|${pid}` : undefined;
  });
  const net = indexNetwork(valid);

  const findings: Finding[] = [];
  for (const conn of conns) {
    const joined = loadsBefore(conn, loadsByKey, lim);
    if (joined.length === 0) continue;
    const inWindow = (e: SourceEvent) => e.time <= conn.time && conn.time - e.time <= lim.windowMs;
    const start = (startsByKey.get(conn.key) ?? []).filter(inWindow).sort(byTime).pop();
    // Names the process resolved to this server (Sysmon EID 22): they tie CAPI2's server name to the address.
    const lookups = (dnsByKey.get(conn.key) ?? []).filter((e) => inWindow(e) && list(e, 'dns.resolved_ip').includes(conn.destIp));

    const nonLate = [...joined.map((l) => l.time), conn.time - lim.skewMs, ...(start ? [start.time] : []), ...lookups.map((e) => e.time)];
    const horizon = Math.min(...nonLate) + lim.windowMs + lim.skewMs;
    const view = networkView(conn, net, lim, horizon);

    const serverNames = new Set<string>(
      [str(conn.event, 'destination.domain'), ...lookups.map((e) => str(e, 'dns.question.name')), ...view.sessions.flatMap((s) => [str(s, 'tls.client.server_name'), str(s, 'destination.domain')])]
        .filter((v): v is string => !!v)
        .map((v) => v.toLowerCase()),
    );
    const sensorSha1 = new Set(view.sessions.map((s) => str(s, 'tls.server.hash.sha1')?.toUpperCase()).filter((v): v is string => !!v));
    const chain = capi2For(conn, capi2ByHostPid, serverNames, sensorSha1, lim);

    // The process: allowed, unexpected, or an allowed name on a renamed binary.
    const name = connectionProcess(conn);
    const original = start ? str(start, 'process.pe.original_file_name') : undefined;
    const allowedName = inList(name, t.AllowedCryptoProcesses);
    const renamed = allowedName && !!original && !inList(original, t.AllowedCryptoProcesses);
    const libs = libraryNames(joined);
    const reasons: Reason[] = [];
    if (allowedName && !renamed) {
      reasons.push({
        name: 'allowed_crypto_process',
        observed: name,
        threshold: 'a process not in AllowedCryptoProcesses',
        tunable: 'AllowedCryptoProcesses',
        points: AN1496_POINTS.allowed_crypto_process,
        message: 'the process is expected to use crypto libraries',
      });
    } else {
      reasons.push({
        name: 'unexpected_crypto_process',
        observed: `${name} loaded ${libs.join(', ')}`,
        threshold: 'a process in AllowedCryptoProcesses',
        tunable: 'AllowedCryptoProcesses',
        points: AN1496_POINTS.unexpected_crypto_process,
        message: 'a process not expected to use crypto loaded crypto libraries',
      });
    }
    if (renamed) {
      reasons.push({
        name: 'renamed_binary',
        observed: `${name} is ${original} (PE original file name)`,
        threshold: 'the original file name of an allowed process',
        tunable: 'AllowedCryptoProcesses',
        points: AN1496_POINTS.renamed_binary,
        message: 'the binary carries an allowed name but is another program',
      });
    }
    const unsigned = joined.filter((l) => l.trusted === false);
    if (unsigned.length) {
      reasons.push({
        name: 'unsigned_crypto_library',
        observed: unsigned.map((l) => l.path ?? l.name).join(', '),
        threshold: 'crypto libraries with a trusted signature',
        points: AN1496_POINTS.unsigned_crypto_library,
        message: 'the process loaded a crypto library that is not signed by a trusted publisher',
      });
    }

    const measures: HandshakeMeasure[] = sensorHandshakeMeasures(view);
    const firstCheck = chain.find((e) => e.time >= conn.time);
    if (firstCheck) measures.push({ ms: firstCheck.time - conn.time, how: 'from the TCP connect to the certificate check, Sysmon to CAPI2', evidence: [firstCheck] });
    const certSources = [...view.sessions, ...view.certificates, ...view.alerts, ...chain];
    const abnormal: Reason[] = [...certificateReasons(certSources, view.sessions, measures, ctx)];
    const chainError = capi2Reason(chain);
    if (chainError) abnormal.push(chainError);
    const ids = idsReason(view.alerts);
    if (ids) abnormal.push(ids);

    const finding = endpointFinding(
      {
        analytic: 'AN1496',
        loadVerb: 'loaded',
        conn,
        loads: joined,
        view,
        processReasons: reasons,
        abnormal,
        allowListed: allowedName && !renamed,
        endpointCertificates: chain,
        endpointEvidence: [...(start ? [start] : []), ...lookups],
        commandLine: start ? str(start, 'process.command_line') : undefined,
        domain: lookups.map((e) => str(e, 'dns.question.name')).find(Boolean) ?? str(conn.event, 'destination.domain'),
      },
      ctx,
    );
    if (finding) findings.push(finding);
  }
  return findings;
};
