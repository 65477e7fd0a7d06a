/**
 * endpointFinding: the finding that both endpoint analytics (AN1496 Windows, AN1497 Linux) make of
 * one connection. The golden tests run it through the analytics; these pin what differs by input
 * (the allow-list, the endpoint's own certificate records, the summary's verb) and what the golden
 * projection does not show (the dll and user entities).
 */
import { loadContent } from '../../../src/content';
import { endpointFinding, type EndpointConnection, type EndpointFindingInput, type LibraryLoad } from '../../../src/correlator/analytics/endpoint';
import { intelLookup } from '../../../src/correlator/intel';
import type { CorrelationContext, Reason, SourceEvent } from '../../../src/correlator/types';

const defaults = loadContent().tunables;
const T = Date.parse('2025-11-30T10:00:00.000Z');
const JA3 = '72a589da586844d7f0818ce684948eea';
const THUMBPRINT = '4F0E2C1B9A8D7E6F5C4B3A2918076F5E4D3C2B1A';

function ctx(listedJa3?: string): CorrelationContext {
  return { tunables: defaults, intel: intelLookup(listedJa3 ? [{ kind: 'ja3', value: listedJa3, list: 'test', reason: 'listed in a test' }] : []) };
}

function ev(id: string, offsetMs: number, doc: Record<string, unknown>): SourceEvent {
  return { index: 'logs-test', id, time: T + offsetMs, doc };
}

function reasonNamed(name: string): Reason {
  return { name, observed: name, threshold: '-', points: 10, message: name };
}

const connect = ev('connect', 0, {
  host: { name: 'wks-1', ip: ['10.0.0.5'] },
  process: { entity_id: 'p-1', pid: 42, name: 'updater.exe', executable: 'C:\\Users\\a\\updater.exe' },
  user: { name: 'alice' },
  source: { ip: '10.0.0.5', port: 50000 },
  destination: { ip: '203.0.113.9', port: 443 },
  network: { direction: 'egress', transport: 'tcp' },
});
const sockaddr = ev('sockaddr', 0, { destination: { ip: '203.0.113.9', port: 443 } });
const conn: EndpointConnection = {
  event: connect,
  parts: [sockaddr],
  key: 'wks-1|p-1',
  time: T,
  destIp: '203.0.113.9',
  destPort: 443,
  sourceIp: '10.0.0.5',
  sourcePort: 50000,
  transport: 'tcp',
  hostIps: ['10.0.0.5'],
};
const signedLoad = ev('load-signed', -5000, {});
const unsignedLoad = ev('load-unsigned', -4000, {});
const loads: LibraryLoad[] = [
  { events: [signedLoad], key: conn.key, time: signedLoad.time, name: 'crypt32.dll', path: 'C:\\Windows\\System32\\crypt32.dll', trusted: true },
  { events: [unsignedLoad], key: conn.key, time: unsignedLoad.time, name: 'libssl.dll', path: 'C:\\Users\\a\\libssl.dll', trusted: false },
];
const session = ev('session', 100, {
  tls: { client: { ja3: JA3 } },
  source: { ip: '10.0.0.5', port: 50000 },
  destination: { ip: '203.0.113.9', port: 443 },
  network: { community_id: '1:abc', transport: 'tcp' },
});
const capi2 = ev('capi2', 300, { cryptochannel: { capi2: { thumbprint: THUMBPRINT } } });
const start = ev('start', -9000, {});

function input(over: Partial<EndpointFindingInput> = {}): EndpointFindingInput {
  return {
    analytic: 'AN1496',
    loadVerb: 'loaded',
    conn,
    loads,
    view: { sessions: [session], certificates: [], certificateOf: [], flows: [], alerts: [] },
    processReasons: [reasonNamed('unexpected_crypto_process')],
    abnormal: [reasonNamed('self_signed_certificate')],
    allowListed: false,
    endpointCertificates: [],
    endpointEvidence: [],
    ...over,
  };
}

describe('endpointFinding', () => {
  it('with nothing abnormal, makes a finding only of a listed indicator, and never for an allow-listed process', () => {
    const quiet = input({ abnormal: [] });
    expect(endpointFinding(quiet, ctx())).toBeUndefined();
    const listed = endpointFinding(quiet, ctx(JA3));
    expect(listed?.indicators).toEqual({ ja3: [JA3] });
    expect(listed?.summary).toMatch(/: threat-intel listed indicator$/);
    expect(endpointFinding({ ...quiet, allowListed: true }, ctx(JA3))).toBeUndefined();
    // Something abnormal alerts whatever the allow-list says (the score decides).
    expect(endpointFinding(input({ allowListed: true }), ctx())?.reasons.map((r) => r.name)).toEqual(['unexpected_crypto_process', 'egress_after_crypto_load', 'self_signed_certificate']);
  });

  it('orders the reasons (process, egress, abnormal) and says the analytic, its verb and the server in the summary', () => {
    const f = endpointFinding(input({ analytic: 'AN1497', loadVerb: 'mapped', processReasons: [reasonNamed('crypto_library_mapped')], abnormal: [reasonNamed('handshake_failed'), reasonNamed('ids_alert')], domain: 'c2.example' }), ctx())!;
    expect(f.analytic).toBe('AN1497');
    expect(f.reasons.map((r) => r.name)).toEqual(['crypto_library_mapped', 'egress_after_crypto_load', 'handshake_failed', 'ids_alert']);
    expect(f.summary).toBe('updater.exe on wks-1 mapped crypt32.dll, libssl.dll and connected to c2.example 203.0.113.9:443: handshake failed, ids alert');
    expect(f.key).toBe('logs-test/connect');
  });

  it('names in dll the library whose signature fails, else the first loaded', () => {
    expect(endpointFinding(input(), ctx())!.entities.dll).toEqual({ name: 'libssl.dll', path: 'C:\\Users\\a\\libssl.dll' });
    const unknownTrust = loads.map((l) => ({ ...l, trusted: undefined }));
    expect(endpointFinding(input({ loads: unknownTrust }), ctx())!.entities.dll).toEqual({ name: 'crypt32.dll', path: 'C:\\Windows\\System32\\crypt32.dll' });
  });

  it('cites every record once, oldest first, and takes indicators and tls.* from the endpoint certificate records too', () => {
    const f = endpointFinding(input({ endpointEvidence: [start, connect], endpointCertificates: [capi2], commandLine: 'updater.exe --quiet' }), ctx())!;
    expect(f.evidence.map((e) => e.id)).toEqual(['start', 'load-signed', 'load-unsigned', 'connect', 'sockaddr', 'session', 'capi2']);
    expect(f.indicators).toEqual({ ja3: [JA3], cert_sha1: [THUMBPRINT] });
    expect((f.entities.tls as { server?: { hash?: { sha1?: string } } }).server?.hash?.sha1).toBe(THUMBPRINT);
    expect(f.entities.process).toEqual({ entity_id: 'p-1', pid: 42, name: 'updater.exe', executable: 'C:\\Users\\a\\updater.exe', command_line: 'updater.exe --quiet' });
    expect(f.entities.user).toEqual({ name: 'alice' });
  });
});
