/**
 * AN1498 (macOS: Security-framework key use, then TLS with an unrecognised certificate, high-entropy
 * payloads or untrusted DoH), golden scenarios over events the real pipelines normalised from
 * test/fixtures/correlator/an1498/raw/*.json (node test/fixtures/correlator/an1500/normalise.cjs).
 *
 * Expected alerts live in test/fixtures/correlator/an1498/<scenario>.expected.json. To change them on
 * purpose: CRYPTOCHANNEL_UPDATE_GOLDEN=1 npx jest test/unit/correlator/an1498.test.ts, then review the
 * diff by eye. The other tests state their expectations in code.
 */
import { an1498 } from '../../../src/correlator/analytics/an1498';
import type { CorrelationContext, Finding, SourceEvent } from '../../../src/correlator/types';
import { goldenHarness } from './support/golden';

// Without threat intel unless a test adds it (ctxWith({}, intel)), as the expected files were written.
const { defaults, intel, noIntel, ctxWith, load, findings, run, golden, reasonNames, scoreOf, evidenceIds } = goldenHarness('AN1498', an1498);
const byConnection = (fs: Finding[], evidenceId: string): Finding | undefined => fs.find((f) => f.evidence.some((e) => e.id === evidenceId));
const reason = (f: Finding | undefined, name: string) => f?.reasons.find((r) => r.name === name);

describe('AN1498 golden scenarios', () => {
  // scenario, alerts expected with the default tunables (the golden file holds what they are)
  it.each([
    ['malicious', 2],
    ['evasive-renamed', 1],
    ['evasive-nonstandard-port', 1],
    ['evasive-long-delay', 1],
    ['evasive-clock-skew', 1],
    ['outside-window', 0],
    ['benign', 0],
  ] as const)('%s: %d alert(s)', (scenario, count) => {
    const alerts = run(load(scenario));
    expect(alerts).toHaveLength(count);
    golden(scenario, alerts);
  });

  it('malicious: the channel joins key use, the trust failure, the sensor certificate, the payload and the Mac address from the summary', () => {
    const alerts = run(load('malicious'));
    const c2 = alerts.find((a) => (a.doc.destination as { ip?: string } | undefined)?.ip === '198.51.100.23')!;
    expect(reasonNames(c2)).toEqual(['security_framework_key_use', 'untrusted_certificate', 'high_entropy_payload']);
    expect(scoreOf(c2)).toBe(85);
    expect(c2.doc.host).toEqual({ ip: ['192.168.1.23'], os: { type: 'macos' } });
    const doh = alerts.find((a) => (a.doc.destination as { domain?: string } | undefined)?.domain === 'doh.resolver-cdn.net')!;
    expect(reasonNames(doh)).toEqual(['security_framework_key_use', 'untrusted_doh']);
    expect(scoreOf(doh)).toBe(60);
  });

  it('renamed binary: the implant alerts, Apple\'s softwareupdated of the same name with a valid chain does not', () => {
    const events = load('evasive-renamed');
    const alerts = run(events);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.doc.process).toMatchObject({ pid: 4412, executable: '/Users/Shared/.cache/com.apple.updater/softwareupdated' });
    expect(alerts[0]!.doc.host).toMatchObject({ name: 'mbp-jdoe', ip: ['192.168.1.40'] });
    expect(byConnection(findings(events), 'ul-apple-start')).toBeUndefined();
  });

  it('clock skew: the sensor session 100 s earlier than the log still joins', () => {
    const alerts = run(load('evasive-clock-skew'));
    expect(alerts).toHaveLength(1);
    expect(evidenceIds(alerts[0]!)).toContain('sur-c9-tls');
  });

  it('an event just outside the window does not join: the key use 15 min 1 s earlier is not evidence, and nothing alerts', () => {
    const events = load('outside-window');
    expect(run(events)).toEqual([]);
    const f = byConnection(findings(events), 'ul-c10-start')!;
    expect(f.reasons.map((r) => r.name)).toEqual(['untrusted_certificate']);
    expect(f.evidence.map((e) => e.id)).not.toContain('ul-keygen');
  });

  it('benign look-alikes (Safari, curl and Slack with valid chains, DoH to trusted resolvers, keychain reads) yield no finding', () => {
    const events = load('benign');
    expect(findings(events)).toEqual([]);
    expect(run(events, ctxWith({}, intel))).toEqual([]);
  });

  it('threat intel raises a score over the threshold: SSLBL certificate and JA3', () => {
    const events = load('intel');
    expect(run(events, ctxWith({}, noIntel))).toEqual([]);
    const alerts = run(events, ctxWith({}, intel));
    expect(alerts).toHaveLength(1);
    expect(reasonNames(alerts[0]!)).toEqual(['security_framework_key_use', 'high_entropy_payload', 'threat_intel_ja3', 'threat_intel_certificate']);
    expect(scoreOf(alerts[0]!)).toBe(95);
    golden('intel', alerts);
  });
});

describe('AN1498 honours its tunables', () => {
  it('TrustedDoHEndpoints: listing the resolver suppresses the DoH reason; unlisting a mainstream one raises it', () => {
    const malicious = load('malicious');
    expect(reason(byConnection(findings(malicious), 'ul-doh-start'), 'untrusted_doh')?.observed).toBe('doh.resolver-cdn.net');
    const listed = ctxWith({ TrustedDoHEndpoints: [...defaults.TrustedDoHEndpoints, 'doh.resolver-cdn.net'] });
    expect(byConnection(findings(malicious, listed), 'ul-doh-start')).toBeUndefined();
    expect(run(malicious, listed)).toHaveLength(1);

    const benign = load('benign');
    const noCloudflare = ctxWith({ TrustedDoHEndpoints: defaults.TrustedDoHEndpoints.filter((e) => !e.includes('cloudflare')) });
    expect(reason(byConnection(findings(benign, noCloudflare), 'ul-firefox-doh'), 'untrusted_doh')?.observed).toBe('cloudflare-dns.com');
  });

  it('PayloadEntropyThreshold: above the observed entropy the payload reason goes, and the score drops by its points', () => {
    const events = load('malicious');
    const r = reason(byConnection(findings(events), 'ul-c2-start'), 'high_entropy_payload')!;
    expect(r).toMatchObject({ threshold: '7.2 bits/byte', tunable: 'PayloadEntropyThreshold' });
    const observed = Number.parseFloat(r.observed);
    expect(observed).toBeGreaterThan(7.2);
    const higher = ctxWith({ PayloadEntropyThreshold: Math.ceil(observed * 10) / 10 });
    expect(reason(byConnection(findings(events, higher), 'ul-c2-start'), 'high_entropy_payload')).toBeUndefined();
    const c2 = (ctx: CorrelationContext) => run(events, ctx).find((a) => (a.doc.destination as { ip?: string } | undefined)?.ip === '198.51.100.23')!;
    expect(scoreOf(c2(ctxWith())) - scoreOf(c2(higher))).toBe(20);
  });

  it('CorrelationWindow: a shorter window no longer joins the long-delayed key use', () => {
    const events = load('evasive-long-delay');
    expect(run(events)).toHaveLength(1);
    expect(run(events, ctxWith({ CorrelationWindow: '10m' }))).toEqual([]);
  });

  it('CertificateAuthorityList: the sensor\'s issuer verdict follows the live list', () => {
    const events = load('intel');
    expect(reason(byConnection(findings(events), 'ul-c11-start'), 'untrusted_certificate')).toBeUndefined();
    const noLe = ctxWith({ CertificateAuthorityList: defaults.CertificateAuthorityList.filter((c) => !/encrypt|isrg/i.test(c)) });
    expect(reason(byConnection(findings(events, noLe), 'ul-c11-start'), 'untrusted_certificate')?.observed).toContain("Let's Encrypt");
  });
});

describe('AN1498 robustness', () => {
  it('skips events with missing or malformed fields', () => {
    const junk: SourceEvent[] = [
      { index: 'i', id: 'j1', time: 0, doc: {} },
      { index: 'i', id: 'j2', time: 1, doc: { event: { dataset: 'cryptochannel.unifiedlog', action: 'network_connection' }, process: { pid: 'x' } } },
      { index: 'i', id: 'j3', time: 2, doc: { event: { dataset: 'cryptochannel.unifiedlog', action: 'doh_connection' }, process: { pid: 7 }, cryptochannel: { unifiedlog: { doh: 'yes', connection_id: 42 } }, destination: { port: 'abc', domain: ['x'] } } },
      { index: 'i', id: 'j4', time: 3, doc: { event: { dataset: 'cryptochannel.unifiedlog', action: 'trust_evaluation_failed' }, process: { pid: 7 }, cryptochannel: null } },
      { index: 'i', id: 'j5', time: 4, doc: { event: { dataset: 'cryptochannel.suricata', action: 'ids_alert' }, cryptochannel: { payload: { entropy: 'high' } }, source: { ip: 5 } } },
      { index: 'i', id: 'j6', time: 5, doc: { event: { dataset: 'cryptochannel.unifiedlog', action: 'security_framework_used' }, process: { pid: 7 }, cryptochannel: { unifiedlog: { public_key_api: true } }, message: 42 } },
      { index: 'i', id: 'j7', time: 6, doc: { event: { dataset: 'cryptochannel.unifiedlog', action: 'tls_handshake_failed' }, process: { pid: 7, executable: ['a'] }, cryptochannel: { unifiedlog: { connection_id: 42, tls_alert: 'bad certificate', tls_alert_sent: true, trust_failures: 'x' } } } },
    ];
    const malicious = load('malicious');
    expect(() => findings(junk)).not.toThrow();
    expect(findings(junk)).toEqual([]);
    expect(run([...junk, ...malicious]).map((a) => a._id)).toEqual(run(malicious).map((a) => a._id));
  });
});
