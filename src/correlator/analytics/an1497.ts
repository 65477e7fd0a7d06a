/**
 * AN1497 (Linux): a process (bash, python, a custom binary) opens or maps a TLS library named in
 * ExpectedCryptoLibs (auditd openat/mmap, Tetragon security_file_open / security_mmap_file), then
 * connects out (auditd connect, Tetragon tcp_connect; same host + process.entity_id, within
 * CorrelationWindow), and the connection shows abnormal certificate validation or handshake on the
 * sensor's session (Zeek ssl + x509, Suricata tls), client-heavy traffic on the flow (Zeek conn,
 * Suricata flow, NetFlow/IPFIX: bytes out per byte in above TrafficAsymmetryRatio), an IDS alert,
 * or a command line that turns certificate validation off.
 *
 * Raw auditd lines arrive one record per event: the records of one audit event (same host and
 * sequence number) are put back together here, SYSCALL (the process) with PATH (the library) or
 * SOCKADDR (the server). auditd knows no local port, so its connections join the sensor by server
 * address and port, the endpoint's own address when known, and time.
 *
 * Nothing on Linux is allow-listed by process: curl and python do TLS all day. What keeps them
 * quiet is that their sessions are normal (trusted issuer, valid certificate, timely handshake,
 * ordinary traffic shape): a connection with nothing abnormal yields no finding.
 */
import { baseName, list, num, processKey, sourceOf, str } from '../fields';
import type { AnalyticFn, Finding, Reason, SourceEvent } from '../types';
import {
  addressesOf,
  byTime,
  certificateReasons,
  connectionProcess,
  endpointFinding,
  groupBy,
  idsReason,
  indexNetwork,
  libraryNames,
  limits,
  loadsBefore,
  networkView,
  sensorHandshakeMeasures,
  trafficReason,
  trafficShape,
  uniqueEvents,
  validTime,
  type EndpointConnection,
  type LibraryLoad,
} from './endpoint';

export const AN1497_POINTS = {
  crypto_library_mapped: 20,
  process_from_writable_path: 15,
  certificate_validation_disabled: 20,
} as const;

/** Where droppers put implants: world-writable, memory-backed or hidden directories. */
const WRITABLE = /^\/(tmp|var\/tmp|dev\/shm|run\/shm|run\/user)\/|\/\.[^/]+\//;

/** Command-line switches that turn TLS certificate validation off, per common client. */
const VALIDATION_OFF: Array<{ test: (cmd: string, exe: string) => boolean; label: string }> = [
  { label: 'python ssl._create_unverified_context', test: (c) => c.includes('_create_unverified_context') },
  { label: 'python CERT_NONE', test: (c) => c.includes('CERT_NONE') },
  { label: 'python verify=False', test: (c) => /verify\s*=\s*False/.test(c) },
  { label: 'curl --insecure', test: (c, exe) => exe === 'curl' && /(^|\s)(--insecure|-[a-zA-Z]*k[a-zA-Z]*)(\s|$)/.test(c) },
  { label: 'wget --no-check-certificate', test: (c) => c.includes('--no-check-certificate') },
  { label: 'openssl s_client', test: (c) => /(^|[\s/])openssl\s+s_client\b/.test(c) },
  { label: 'NODE_TLS_REJECT_UNAUTHORIZED=0', test: (c) => c.includes('NODE_TLS_REJECT_UNAUTHORIZED=0') },
  { label: 'rejectUnauthorized false', test: (c) => /rejectUnauthorized\s*:\s*false/.test(c) },
];

function isCryptoLib(name: string | undefined, prefixes: readonly string[]): boolean {
  if (!name) return false;
  const n = name.toLowerCase();
  return prefixes.some((p) => p !== '' && n.startsWith(p.toLowerCase()));
}

function fileName(e: SourceEvent): string | undefined {
  return str(e, 'dll.name') ?? str(e, 'file.name') ?? baseName(str(e, 'dll.path') ?? str(e, 'file.path'));
}

/** One audit event: the records that share host and sequence number, led by the one naming the process. */
interface AuditEvent {
  lead: SourceEvent;
  records: SourceEvent[];
}

function auditEvents(events: SourceEvent[]): AuditEvent[] {
  const audit = events.filter((e) => sourceOf(e) === 'auditd');
  const groups = groupBy(audit, (e) => {
    const seq = num(e, 'event.sequence');
    return seq === undefined ? `${e.index}/${e.id}` : `${str(e, 'host.name') ?? str(e, 'host.id') ?? '-'}|${seq}`;
  });
  const out: AuditEvent[] = [];
  for (const records of groups.values()) {
    const lead = records.find((r) => processKey(r) !== undefined);
    if (!lead) continue;
    // Sequence numbers restart with auditd: records of one event carry one time.
    out.push({ lead, records: records.filter((r) => Math.abs(r.time - lead.time) <= 1000) });
  }
  return out;
}

function failed(e: SourceEvent): boolean {
  return str(e, 'event.outcome') === 'failure';
}

function loadFrom(lead: SourceEvent, records: SourceEvent[], prefixes: readonly string[]): LibraryLoad | undefined {
  const key = processKey(lead);
  if (!key || failed(lead)) return undefined;
  const lib = records.find((r) => isCryptoLib(fileName(r), prefixes));
  if (!lib) return undefined;
  return { events: uniqueEvents([lead, lib]), key, time: lead.time, name: fileName(lib)!, path: str(lib, 'dll.path') ?? str(lib, 'file.path') };
}

function connectionFrom(lead: SourceEvent, records: SourceEvent[]): EndpointConnection | undefined {
  const key = processKey(lead);
  if (!key || failed(lead)) return undefined;
  const addr = records.find((r) => str(r, 'destination.ip'));
  if (!addr) return undefined;
  const direction = str(addr, 'network.direction') ?? str(lead, 'network.direction');
  if (direction !== 'egress') return undefined;
  const destIp = str(addr, 'destination.ip')!;
  return {
    event: lead,
    parts: addr === lead ? [] : [addr],
    key,
    time: lead.time,
    destIp,
    destPort: num(addr, 'destination.port'),
    sourceIp: str(addr, 'source.ip'),
    sourcePort: num(addr, 'source.port'),
    transport: str(addr, 'network.transport') ?? (sourceOf(lead) === 'tetragon' ? 'tcp' : undefined),
    communityId: str(addr, 'network.community_id'),
    hostIps: [...new Set([...addressesOf(lead), ...addressesOf(addr)])].sort(),
  };
}

function commandLine(e: SourceEvent | undefined): string | undefined {
  if (!e) return undefined;
  return str(e, 'process.command_line') ?? (list(e, 'process.args').join(' ') || undefined) ?? str(e, 'process.title');
}

export const an1497: AnalyticFn = (events, ctx) => {
  const lim = limits(ctx);
  const t = ctx.tunables;
  const valid = events.filter(validTime);

  const loads: LibraryLoad[] = [];
  const conns: EndpointConnection[] = [];
  const execs: Array<{ key: string; event: SourceEvent; command?: string; args: string[] }> = [];
  for (const e of valid) {
    if (sourceOf(e) !== 'tetragon') continue;
    const action = str(e, 'event.action');
    if (action === 'tcp_connect') {
      const c = connectionFrom(e, [e]);
      if (c) conns.push(c);
    } else if (action === 'exec') {
      const key = processKey(e);
      if (key) execs.push({ key, event: e, command: commandLine(e), args: list(e, 'process.args') });
    } else if (list(e, 'event.category').includes('file')) {
      const l = loadFrom(e, [e], t.ExpectedCryptoLibs);
      if (l) loads.push(l);
    }
  }
  for (const a of auditEvents(valid)) {
    const syscall = str(a.lead, 'cryptochannel.auditd.syscall') ?? str(a.lead, 'event.action');
    if (syscall === 'connect') {
      const c = connectionFrom(a.lead, a.records);
      if (c) {
        c.parts = uniqueEvents(a.records.filter((r) => r !== a.lead && str(r, 'destination.ip')));
        conns.push(c);
      }
    } else if (syscall === 'execve') {
      const key = processKey(a.lead);
      // Raw auditd puts the arguments on the EXECVE record, not on the SYSCALL that names the process.
      const command = a.records.map(commandLine).find(Boolean);
      const args = a.records.map((r) => list(r, 'process.args')).find((l) => l.length > 0) ?? [];
      if (key) execs.push({ key, event: a.lead, command, args });
    } else {
      const l = loadFrom(a.lead, a.records, t.ExpectedCryptoLibs);
      if (l) loads.push(l);
    }
  }
  if (conns.length === 0 || loads.length === 0) return [];

  const loadsByKey = groupBy(loads, (l) => l.key);
  const execsByKey = groupBy(execs, (x) => x.key);
  const net = indexNetwork(valid);

  const findings: Finding[] = [];
  for (const conn of conns) {
    const joined = loadsBefore(conn, loadsByKey, lim);
    if (joined.length === 0) continue;
    const exec = (execsByKey.get(conn.key) ?? []).filter((x) => x.event.time <= conn.time && conn.time - x.event.time <= lim.windowMs).sort((a, b) => byTime(a.event, b.event)).pop();
    const horizon = Math.min(...joined.map((l) => l.time), conn.time - lim.skewMs, ...(exec ? [exec.event.time] : [])) + lim.windowMs + lim.skewMs;
    const view = networkView(conn, net, lim, horizon);

    const exe = str(conn.event, 'process.executable');
    const name = connectionProcess(conn);
    const command = commandLine(conn.event) ?? exec?.command;
    const libs = libraryNames(joined);
    const reasons: Reason[] = [
      {
        name: 'crypto_library_mapped',
        observed: `${name} mapped ${libs.join(', ')}`,
        threshold: `a file name starting with ${t.ExpectedCryptoLibs.join(', ')}`,
        tunable: 'ExpectedCryptoLibs',
        points: AN1497_POINTS.crypto_library_mapped,
        message: 'the process opened or mapped a TLS library',
      },
    ];
    const writable = [exe, ...list(conn.event, 'process.args'), ...(exec?.args ?? [])].find((p) => !!p && p.startsWith('/') && WRITABLE.test(p));
    if (writable) {
      reasons.push({
        name: 'process_from_writable_path',
        observed: writable,
        threshold: 'binaries and scripts outside /tmp, /var/tmp, /dev/shm, /run/user and hidden directories',
        points: AN1497_POINTS.process_from_writable_path,
        message: 'the program runs from a writable, memory-backed or hidden location',
      });
    }

    const abnormal: Reason[] = [];
    const off = command ? VALIDATION_OFF.filter((v) => v.test(command, name)).map((v) => v.label) : [];
    if (off.length) {
      abnormal.push({
        name: 'certificate_validation_disabled',
        observed: off.join(', '),
        threshold: 'certificate validation on',
        points: AN1497_POINTS.certificate_validation_disabled,
        message: 'the command line turns TLS certificate validation off',
      });
    }
    abnormal.push(...certificateReasons([...view.sessions, ...view.certificates, ...view.alerts], view.sessions, sensorHandshakeMeasures(view), ctx));
    const traffic = trafficReason(trafficShape(conn, view.flows), ctx);
    if (traffic) abnormal.push(traffic);
    const ids = idsReason(view.alerts);
    if (ids) abnormal.push(ids);

    // The exec is evidence when a reason came from it alone: its arguments or its command line.
    const ownArgs = [exe, ...list(conn.event, 'process.args')];
    const fromExec = !!exec && ((!!writable && !ownArgs.includes(writable)) || (off.length > 0 && !commandLine(conn.event)));
    const finding = endpointFinding(
      {
        analytic: 'AN1497',
        loadVerb: 'mapped',
        conn,
        loads: joined,
        view,
        processReasons: reasons,
        abnormal,
        allowListed: false,
        endpointCertificates: [],
        endpointEvidence: fromExec && exec ? [exec.event] : [],
        commandLine: command,
      },
      ctx,
    );
    if (finding) findings.push(finding);
  }
  return findings;
};
