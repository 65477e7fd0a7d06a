/**
 * AN1496 (Windows) golden tests. Each scenario in test/fixtures/correlator/an1496/ is a file of
 * normalised events, `<scenario>.events.ndjson` (one `{index, id, doc}` per line: real outputs of the
 * ingest pipelines, see the README there), and the alerts expected from it, `<scenario>.expected.json`
 * (analytic, id, score, summary, reasons with observed values and thresholds, evidence, entities).
 * Scenarios run through correlateAll with a fixed AlertContext and a threat-intel lookup over the
 * seed lists in integration/threat-intel.
 *
 * The expected files change only on purpose:
 *   CRYPTOCHANNEL_UPDATE_GOLDEN=1 npx jest test/unit/correlator/an1496.test.ts
 * rewrites them from the current output; review the diff by eye before keeping it.
 */

import { an1496, AN1496_POINTS } from '../../../src/correlator/analytics/an1496';
import { SHARED_POINTS } from '../../../src/correlator/analytics/endpoint';
import { goldenHarness } from './support/golden';
import { SlidingCorrelator } from '../../../src/correlator/correlate';

import type { SourceEvent } from '../../../src/correlator/types';

const { scenarioFiles, defaults, alertCtx, noIntel, ctxWith, load, run, project, golden, reasonNames, scoreOf } = goldenHarness('AN1496', an1496);

describe('AN1496 golden scenarios', () => {
  const scenarios: Array<[string, number]> = [
    ['malicious', 1],
    ['benign', 0],
    ['evasive-renamed-binary', 1],
    ['evasive-nonstandard-port', 1],
    ['evasive-long-delay', 1],
    ['evasive-clock-skew', 1],
    ['evasive-netflow-ids', 1],
    ['outside-window', 0],
    ['threat-intel', 1],
    ['allowed-process', 1],
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

describe('AN1496 joins and evidence', () => {
  it('joins library loads, the connection, CAPI2, the Zeek session and its x509 leaf into one finding', () => {
    const [alert] = run(load('malicious'));
    const a = (alert!.doc.cryptochannel as any).alert;
    const actions = a.evidence.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['process-created', 'image-loaded', 'dns-query', 'network-connection', 'certificate-chain-built', 'certificate-chain-policy-verified', 'certificate-details', 'tls_session', 'x509_certificate', 'network_flow']),
    );
    expect(reasonNames(alert!)).toEqual(['unexpected_crypto_process', 'unsigned_crypto_library', 'egress_after_crypto_load', 'self_signed_certificate', 'weak_key', 'sni_certificate_mismatch', 'capi2_chain_error']);
    // host.* is the endpoint that ran the process (design.md "Whose alert").
    expect(alert!.doc.host).toEqual({ name: 'WKS-ENG-117.corp.example.com', ip: ['10.20.40.117'], os: { type: 'windows' } });
    expect((alert!.doc.tls as any).client.ja3).toBe('72a589da586844d7f0818ce684948eea');
    expect((alert!.doc.tls as any).server.hash.sha1).toBe('4F0E2C1B9A8D7E6F5C4B3A2918076F5E4D3C2B1A');
  });

  it('benign look-alikes (chrome and svchost loading crypt32.dll with valid chains, an unlisted app to Let\'s Encrypt on 443) yield no finding at all', () => {
    expect(an1496(load('benign'), ctxWith())).toEqual([]);
  });

  it('joins a sensor whose clock is off by less than the skew, not by more', () => {
    const events = load('evasive-clock-skew');
    expect(reasonNames(run(events)[0]!)).toEqual(expect.arrayContaining(['self_signed_certificate', 'handshake_failed']));
    // Move the sensor a further 30 s back: 130 s apart, beyond CLOCK_SKEW_MS (120 s). Nothing abnormal joins.
    const further = events.map((e) => (e.id.includes('-zeek-') ? { ...e, time: e.time - 30_000 } : e));
    expect(an1496(further, ctxWith())).toEqual([]);
  });

  it('gives the same alerts whatever the input order, and emits them once from the sliding correlator', () => {
    const events = load('malicious');
    const once = run(events).map((a) => a._id);
    expect(once).toHaveLength(1);
    expect(run([...events].reverse()).map((a) => a._id)).toEqual(once);
    // Runs a minute apart, as the scheduler makes them: the alert comes once, with all its evidence.
    const c = new SlidingCorrelator({ AN1496: an1496 }, ctxWith(), alertCtx, Number.NEGATIVE_INFINITY);
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
    const events = load('malicious');
    const junk: SourceEvent[] = [
      { index: 'x', id: 'nan-time', time: Number.NaN, doc: events[4]!.doc },
      { index: 'x', id: 'no-doc', time: events[4]!.time, doc: null as unknown as Record<string, unknown> },
      { index: 'x', id: 'wrong-types', time: events[4]!.time, doc: { event: { dataset: 'cryptochannel.sysmon', action: 'network-connection' }, process: 'igfxsvc', destination: { ip: 42, port: 'x' }, network: { direction: 'egress' } } },
      { index: 'x', id: 'no-process', time: events[2]!.time, doc: { event: { dataset: 'cryptochannel.sysmon', action: 'image-loaded' }, cryptochannel: { sysmon: { crypto_library: true } } } },
      { index: 'x', id: 'capi2-junk', time: events[8]!.time, doc: { event: { dataset: 'cryptochannel.capi2' }, process: { pid: 'nine' }, cryptochannel: { capi2: { policy: 'CERT_CHAIN_POLICY_SSL', result_code: 7 } } } },
      { index: 'x', id: 'zeek-junk', time: events[6]!.time, doc: { event: { dataset: 'cryptochannel.zeek', action: 'tls_session' }, network: { community_id: ['a'] }, tls: 'x' } },
      { index: 'x', id: 'array-doc', time: events[0]!.time, doc: [] as unknown as Record<string, unknown> },
    ];
    expect(() => an1496([...events, ...junk], ctxWith())).not.toThrow();
    expect(run([...events, ...junk]).map(project)).toEqual(run(events).map(project));
  });
});

describe('AN1496 tunables', () => {
  it('AllowedCryptoProcesses: an allowed process gets -40 instead of +25 and stops alerting', () => {
    const events = load('allowed-process');
    const [alert] = run(events);
    expect(reasonNames(alert!)).toContain('unexpected_crypto_process');
    const allowed = ctxWith({ AllowedCryptoProcesses: [...defaults.AllowedCryptoProcesses, 'SyncSvc.exe'] });
    expect(run(events, allowed)).toEqual([]);
    const [finding] = an1496(events, allowed);
    expect(finding!.reasons.find((r) => r.name === 'allowed_crypto_process')).toMatchObject({ observed: 'syncsvc.exe', points: AN1496_POINTS.allowed_crypto_process, tunable: 'AllowedCryptoProcesses' });
  });

  it('AllowedCryptoProcesses: an allowed name on a renamed binary (PE original file name not allowed) is still unexpected', () => {
    const events = load('evasive-renamed-binary');
    const [alert] = run(events);
    expect(reasonNames(alert!)).toEqual(expect.arrayContaining(['unexpected_crypto_process', 'renamed_binary']));
    // Allowing the binary's real name as well makes it an allowed process again.
    const [finding] = an1496(events, ctxWith({ AllowedCryptoProcesses: [...defaults.AllowedCryptoProcesses, 'svc-loader.exe'] }));
    expect(finding!.reasons.map((r) => r.name)).toContain('allowed_crypto_process');
    expect(finding!.reasons.map((r) => r.name)).not.toContain('renamed_binary');
  });

  it('CertificateAuthorityList: the issuer is judged by the live list, not the ingest-time fact', () => {
    const events = load('untrusted-issuer');
    const [alert] = run(events);
    expect((alert!.doc.cryptochannel as any).alert.reasons.find((r: { name: string }) => r.name === 'untrusted_issuer')).toMatchObject({
      observed: 'FIA Root R9, Fast Issuing Authority',
      tunable: 'CertificateAuthorityList',
      points: SHARED_POINTS.untrusted_issuer,
    });
    expect(scoreOf(alert!)).toBe(70);
    expect(run(events, ctxWith({ CertificateAuthorityList: [...defaults.CertificateAuthorityList, 'Fast Issuing Authority'] }))).toEqual([]);
  });

  it('HandshakeTimeout: a certificate 7.2 s after the ClientHello is slow at 5000 ms, not at 10000 ms', () => {
    const events = load('slow-handshake');
    const [alert] = run(events);
    expect((alert!.doc.cryptochannel as any).alert.reasons.find((r: { name: string }) => r.name === 'handshake_slow')).toMatchObject({ threshold: '<= 5000 ms', tunable: 'HandshakeTimeout' });
    expect(run(events, ctxWith({ HandshakeTimeout: 10000 }))).toEqual([]);
  });

  it('CorrelationWindow: a connection 14 min after the load joins in 15m, not in 10m; one 15 min 1 s after joins only in a longer window', () => {
    expect(run(load('evasive-long-delay'))).toHaveLength(1);
    expect(run(load('evasive-long-delay'), ctxWith({ CorrelationWindow: '10m' }))).toEqual([]);
    expect(an1496(load('outside-window'), ctxWith())).toEqual([]);
    expect(run(load('outside-window'), ctxWith({ CorrelationWindow: '20m' }))).toHaveLength(1);
  });

  it('ScoreThreshold: a 70-point finding alerts at 60, not at 75', () => {
    expect(run(load('untrusted-issuer'))).toHaveLength(1);
    expect(run(load('untrusted-issuer'), ctxWith({ ScoreThreshold: 75 }))).toEqual([]);
  });

  it('CertValidationPolicy.min_rsa_key_bits decides what a weak key is', () => {
    expect(reasonNames(run(load('malicious'))[0]!)).toContain('weak_key');
    const policy = { ...defaults.CertValidationPolicy, min_rsa_key_bits: 1024 };
    expect(reasonNames(run(load('malicious'), ctxWith({ CertValidationPolicy: policy }))[0]!)).not.toContain('weak_key');
  });
});

describe('AN1496 threat intel', () => {
  it('raises a quiet connection to an alert when its certificate (SSLBL, DCRat C&C) and JA3 are listed', () => {
    const events = load('threat-intel');
    expect(run(events, ctxWith({}, noIntel))).toEqual([]);
    const [alert] = run(events);
    const reasons = (alert!.doc.cryptochannel as any).alert.reasons as Array<{ name: string; observed: string; points: number }>;
    expect(reasons.find((r) => r.name === 'threat_intel_certificate')).toMatchObject({ observed: '2E3519B7CB61A3CD6167F727DF993F68311085EA', points: 35 });
    expect(reasons.find((r) => r.name === 'threat_intel_ja3')).toMatchObject({ observed: 'b386946a5a44d1ddcc843bc75336dfce', points: 15 });
    expect(scoreOf(alert!)).toBe(AN1496_POINTS.unexpected_crypto_process + SHARED_POINTS.egress_after_crypto_load + 35 + 15);
  });

  it('adds to an alert that fires anyway', () => {
    const events = load('evasive-nonstandard-port');
    const without = run(events, ctxWith({}, noIntel));
    const withIntel = run(events);
    expect(reasonNames(without[0]!)).not.toContain('threat_intel_ja3');
    expect(reasonNames(withIntel[0]!)).toContain('threat_intel_ja3');
  });
});
