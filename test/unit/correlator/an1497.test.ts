/**
 * AN1497 (Linux) golden tests. Each scenario in test/fixtures/correlator/an1497/ is a file of
 * normalised events, `<scenario>.events.ndjson` (one `{index, id, doc}` per line: real outputs of the
 * ingest pipelines, see the README there), and the alerts expected from it, `<scenario>.expected.json`
 * (analytic, id, score, summary, reasons with observed values and thresholds, evidence, entities).
 * Scenarios run through correlateAll with a fixed AlertContext and a threat-intel lookup over the
 * seed lists in integration/threat-intel.
 *
 * The expected files change only on purpose:
 *   CRYPTOCHANNEL_UPDATE_GOLDEN=1 npx jest --selectProjects unit --testPathPatterns correlator/an1497
 * rewrites them from the current output; review the diff by eye before keeping it.
 */

import { an1497, AN1497_POINTS } from '../../../src/correlator/analytics/an1497';
import { SHARED_POINTS } from '../../../src/correlator/analytics/endpoint';
import { goldenHarness } from './support/golden';
import { SlidingCorrelator } from '../../../src/correlator/correlate';

import { score } from '../../../src/correlator/scoring';
import type { SourceEvent } from '../../../src/correlator/types';

const { scenarioFiles, defaults, alertCtx, noIntel, ctxWith, load, run, project, golden, reasonNames, scoreOf, reasonsOf, evidenceIds } = goldenHarness('AN1497', an1497);

describe('AN1497 golden scenarios', () => {
  const scenarios: Array<[string, number]> = [
    ['malicious', 1],
    ['malicious-auditd-raw', 1],
    ['certificate-validation-disabled', 1],
    ['benign', 0],
    ['evasive-renamed-binary', 1],
    ['evasive-nonstandard-port', 1],
    ['evasive-long-delay', 1],
    ['evasive-clock-skew', 1],
    ['evasive-netflow-ids', 1],
    ['outside-window', 0],
    ['threat-intel', 1],
    ['client-heavy', 1],
    ['untrusted-issuer', 1],
    ['slow-handshake', 1],
  ];
  it.each(scenarios)('%s yields the expected alerts (%i)', (scenario, count) => {
    const alerts = run(load(scenario));
    expect(alerts).toHaveLength(count);
    for (const a of alerts) expect(scoreOf(a)).toBeGreaterThanOrEqual(defaults.ScoreThreshold);
    golden(scenario, alerts);
  });

  it('every fixture has its scenario here', () => {
    expect(scenarioFiles()).toEqual(scenarios.map(([s]) => s).sort());
  });
});

describe('AN1497 joins and evidence', () => {
  it('joins Tetragon library opens and tcp_connect to the Zeek session, x509 leaf and conn record', () => {
    const [alert] = run(load('malicious'));
    const actions = ((alert!.doc.cryptochannel as any).alert.evidence as Array<{ action: string }>).map((e) => e.action);
    expect(actions).toEqual(['security_file_open', 'security_mmap_file', 'tcp_connect', 'network_flow', 'tls_session', 'x509_certificate']);
    expect(reasonNames(alert!)).toEqual(['crypto_library_mapped', 'process_from_writable_path', 'egress_after_crypto_load', 'self_signed_certificate', 'client_heavy_traffic']);
    expect(reasonsOf(alert!).find((r) => r.name === 'client_heavy_traffic')).toMatchObject({ observed: '128 (5242880 bytes out, 40960 in)', threshold: '<= 3', tunable: 'TrafficAsymmetryRatio' });
    expect(alert!.doc.host).toEqual({ name: 'build-runner-04', ip: ['192.168.40.14'] });
  });

  it('puts raw auditd records back together (SYSCALL with PATH, SYSCALL with SOCKADDR) and names the host from the sensor', () => {
    const [alert] = run(load('malicious-auditd-raw'));
    expect(evidenceIds(alert!)).toEqual(['an1497-raw-auditd-01', 'an1497-raw-auditd-02', 'an1497-raw-auditd-03', 'an1497-raw-auditd-04', 'an1497-raw-suricata-01', 'an1497-raw-suricata-02']);
    // auditd logs neither the host's address nor the local port: both come from the sensor's view of the session.
    expect(alert!.doc.host).toEqual({ name: 'build-07', ip: ['10.30.0.7'] });
    expect(alert!.doc.source).toEqual({ ip: '10.30.0.7', port: 51514 });
  });

  it('an auditd connection without a local port joins the sensor session nearest in time, not another client\'s', () => {
    const events = load('malicious-auditd-raw');
    const session = events.find((e) => e.id === 'an1497-raw-suricata-01')!;
    // Another client reaches the same server 40 s later: also a candidate by address, but further in time.
    const other = JSON.parse(JSON.stringify(session.doc));
    other.source = { ...other.source, ip: '10.30.0.99', address: '10.30.0.99', port: 40000 };
    other.network = { ...other.network, community_id: '1:another-connection' };
    const decoy: SourceEvent = { index: session.index, id: 'decoy', time: session.time + 40_000, doc: other };
    const [alert] = run([...events, decoy]);
    expect(evidenceIds(alert!)).not.toContain('decoy');
    expect(evidenceIds(alert!)).toContain('an1497-raw-suricata-01');
  });

  it('benign look-alikes (curl to a trusted CA, Let\'s Encrypt on 443) yield no finding; a backup\'s client-heavy upload stays below the threshold', () => {
    const findings = an1497(load('benign'), ctxWith());
    expect(findings.map((f) => f.entities.process?.name)).toEqual(['duplicity']);
    const scored = score(findings[0]!, ctxWith());
    expect(scored.reasons.map((r) => r.name)).toEqual(['crypto_library_mapped', 'egress_after_crypto_load', 'client_heavy_traffic']);
    expect(scored.score).toBe(55);
    expect(scored.score).toBeLessThan(defaults.ScoreThreshold);
  });

  it('joins a sensor whose clock is ahead by less than the skew, not by more', () => {
    const events = load('evasive-clock-skew');
    expect(reasonNames(run(events)[0]!)).toEqual(expect.arrayContaining(['self_signed_certificate', 'handshake_failed']));
    const further = events.map((e) => (e.id.includes('-zeek-') ? { ...e, time: e.time + 30_000 } : e));
    expect(an1497(further, ctxWith())).toEqual([]);
  });

  it('gives the same alerts whatever the input order, and emits them once from the sliding correlator', () => {
    const events = load('malicious');
    const once = run(events).map((a) => a._id);
    expect(once).toHaveLength(1);
    expect(run([...events].reverse()).map((a) => a._id)).toEqual(once);
    const c = new SlidingCorrelator({ AN1497: an1497 }, ctxWith(), alertCtx, Number.NEGATIVE_INFINITY);
    const minute = 60_000;
    const first = Math.floor(Math.min(...events.map((e) => e.time)) / minute) * minute;
    const emitted: string[] = [];
    for (let w = first; w <= first + 30 * minute; w += minute) {
      c.push(events.filter((e) => e.time >= w - minute && e.time < w));
      emitted.push(...c.advance(w).map((a) => a._id));
    }
    expect(emitted).toEqual(once);
  });

  it('skips events with missing or malformed fields and never throws', () => {
    const events = load('malicious-auditd-raw');
    const t = events[0]!.time;
    const junk: SourceEvent[] = [
      { index: 'x', id: 'nan-time', time: Number.NaN, doc: events[2]!.doc },
      { index: 'x', id: 'no-doc', time: t, doc: undefined as unknown as Record<string, unknown> },
      { index: 'x', id: 'bad-sequence', time: t, doc: { event: { dataset: 'cryptochannel.auditd', sequence: 'x', action: 'connect' }, process: { entity_id: 7 } } },
      { index: 'x', id: 'orphan-sockaddr', time: t, doc: { event: { dataset: 'cryptochannel.auditd', sequence: 999999 }, destination: { ip: '203.0.113.50', port: 8443 }, network: { direction: 'egress' } } },
      { index: 'x', id: 'lib-no-name', time: t, doc: { event: { dataset: 'cryptochannel.tetragon', action: 'security_file_open', category: 'file' }, process: { entity_id: 'p' }, dll: { name: 5 } } },
      { index: 'x', id: 'connect-no-ip', time: t, doc: { event: { dataset: 'cryptochannel.tetragon', action: 'tcp_connect' }, process: { entity_id: 'p' }, network: { direction: 'egress' }, destination: { ip: null } } },
      { index: 'x', id: 'flow-junk', time: t, doc: { event: { dataset: 'cryptochannel.suricata', action: 'network_flow', start: 'yesterday' }, source: { ip: '10.30.0.7', bytes: 'many' }, destination: { ip: '203.0.113.50', port: 8443 } } },
    ];
    expect(() => an1497([...events, ...junk], ctxWith())).not.toThrow();
    expect(run([...events, ...junk]).map(project)).toEqual(run(events).map(project));
  });
});

describe('AN1497 tunables', () => {
  it('ExpectedCryptoLibs: a library counts only when its name starts with an entry', () => {
    const events = load('malicious');
    expect(reasonsOf(run(events)[0]!)[0]).toMatchObject({ name: 'crypto_library_mapped', observed: 'kworker mapped libssl.so.3, libcrypto.so.3', tunable: 'ExpectedCryptoLibs', points: AN1497_POINTS.crypto_library_mapped });
    expect(reasonsOf(run(events, ctxWith({ ExpectedCryptoLibs: ['libcrypto.so'] }))[0]!)[0]!.observed).toBe('kworker mapped libcrypto.so.3');
    expect(an1497(events, ctxWith({ ExpectedCryptoLibs: ['libgnutls.so', 'libnss3.so'] }))).toEqual([]);
  });

  it('TrafficAsymmetryRatio: 51x more out than in is client-heavy at 3, not at 100', () => {
    const events = load('client-heavy');
    const [alert] = run(events);
    expect(reasonsOf(alert!).find((r) => r.name === 'client_heavy_traffic')).toMatchObject({ observed: '51.2 (26214400 bytes out, 512000 in)', points: SHARED_POINTS.client_heavy_traffic });
    expect(run(events, ctxWith({ TrafficAsymmetryRatio: 100 }))).toEqual([]);
  });

  it('TrafficAsymmetryRatio: NetFlow\'s two one-way records are summed per direction', () => {
    const [alert] = run(load('evasive-netflow-ids'));
    expect(reasonsOf(alert!).find((r) => r.name === 'client_heavy_traffic')!.observed).toBe('51.415 (61870122 bytes out, 1203344 in)');
    expect(reasonNames(run(load('evasive-netflow-ids'), ctxWith({ TrafficAsymmetryRatio: 60 }))[0]!)).not.toContain('client_heavy_traffic');
  });

  it('CertificateAuthorityList: the issuer is judged by the live list', () => {
    const events = load('untrusted-issuer');
    expect(scoreOf(run(events)[0]!)).toBe(65);
    expect(run(events, ctxWith({ CertificateAuthorityList: [...defaults.CertificateAuthorityList, 'Fast Issuing Authority'] }))).toEqual([]);
  });

  it('HandshakeTimeout: a certificate 7.2 s after the ClientHello is slow at 5000 ms, not at 10000 ms', () => {
    const events = load('slow-handshake');
    expect(reasonsOf(run(events)[0]!).find((r) => r.name === 'handshake_slow')).toMatchObject({ observed: '7200 ms (from the ClientHello to the server certificate, Zeek ssl to x509)', tunable: 'HandshakeTimeout' });
    expect(run(events, ctxWith({ HandshakeTimeout: 10000 }))).toEqual([]);
  });

  it('CorrelationWindow: a connection 14 min after the load joins in 15m, not in 10m; one 15 min 1 s after joins only in a longer window', () => {
    expect(run(load('evasive-long-delay'))).toHaveLength(1);
    expect(run(load('evasive-long-delay'), ctxWith({ CorrelationWindow: '10m' }))).toEqual([]);
    expect(an1497(load('outside-window'), ctxWith())).toEqual([]);
    expect(run(load('outside-window'), ctxWith({ CorrelationWindow: '20m' }))).toHaveLength(1);
  });

  it('ScoreThreshold: a 65-point finding alerts at 60, not at 70', () => {
    expect(run(load('untrusted-issuer'))).toHaveLength(1);
    expect(run(load('untrusted-issuer'), ctxWith({ ScoreThreshold: 70 }))).toEqual([]);
  });
});

describe('AN1497 threat intel', () => {
  it('raises a quiet connection to an alert when its certificate (SSLBL, DCRat C&C) and JA3 are listed', () => {
    const events = load('threat-intel');
    expect(an1497(events, ctxWith({}, noIntel))).toEqual([]);
    const [alert] = run(events);
    expect(reasonsOf(alert!).find((r) => r.name === 'threat_intel_certificate')).toMatchObject({ observed: '2E3519B7CB61A3CD6167F727DF993F68311085EA', points: 35 });
    expect(reasonsOf(alert!).find((r) => r.name === 'threat_intel_ja3')).toMatchObject({ observed: 'b386946a5a44d1ddcc843bc75336dfce', points: 15 });
    expect(scoreOf(alert!)).toBe(AN1497_POINTS.crypto_library_mapped + SHARED_POINTS.egress_after_crypto_load + 35 + 15);
  });
});

describe('AN1497 certificate validation turned off on the command line', () => {
  it('reads the command line from the audit EXECVE record of the process', () => {
    const [alert] = run(load('certificate-validation-disabled'));
    expect(reasonsOf(alert!).find((r) => r.name === 'certificate_validation_disabled')).toMatchObject({ observed: 'python ssl._create_unverified_context', points: AN1497_POINTS.certificate_validation_disabled });
    expect(evidenceIds(alert!)).toContain('an1497-unv-auditd-01');
  });

  it('finds a script in a writable directory among the exec arguments of an interpreter', () => {
    const events = load('certificate-validation-disabled').map((e) => {
      if (e.id !== 'an1497-unv-auditd-01') return e;
      const doc = JSON.parse(JSON.stringify(e.doc));
      doc.process = { ...doc.process, args: ['python3', '/tmp/.update/sync.py'], args_count: 2, command_line: 'python3 /tmp/.update/sync.py' };
      return { ...e, doc };
    });
    const [finding] = an1497(events, ctxWith());
    expect(finding!.reasons.find((r) => r.name === 'process_from_writable_path')).toMatchObject({ observed: '/tmp/.update/sync.py', points: AN1497_POINTS.process_from_writable_path });
    expect(finding!.reasons.map((r) => r.name)).not.toContain('certificate_validation_disabled');
    expect(finding!.evidence.map((e) => e.id)).toContain('an1497-unv-auditd-01');
  });
});

describe("AN1497 and a server many sessions reach with one certificate", () => {
  it("measures a session's handshake on its own certificate record, not on a later session's with the same fingerprint", () => {
    const events = load('benign');
    const x509 = events.filter((e) => (e.doc.event as { action?: string } | undefined)?.action === 'x509_certificate');
    expect(x509.length).toBeGreaterThan(0);
    // Other sessions to the same servers, a minute later: Zeek logs their certificate again with the
    // same fingerprint (and a file id of their own).
    const later = x509.map((x) => {
      const doc = structuredClone(x.doc) as Record<string, any>;
      doc.cryptochannel.zeek.fuid = `${String(doc.cryptochannel.zeek.fuid ?? 'F')}-later`;
      doc['@timestamp'] = new Date(x.time + 60_000).toISOString();
      return { ...x, id: `${x.id}-later`, time: x.time + 60_000, doc };
    });
    expect(run(events)).toHaveLength(0);
    expect(run([...events, ...later])).toHaveLength(0);
  });
});
