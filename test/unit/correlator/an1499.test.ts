/**
 * AN1499 (ESXi: hostd or vpxa negotiating TLS outside BaselineMgmtHosts), golden scenarios over events
 * the real pipelines normalised from test/fixtures/correlator/an1499/raw/*.json
 * (node test/fixtures/correlator/an1500/normalise.cjs).
 *
 * Expected alerts live in test/fixtures/correlator/an1499/<scenario>.expected.json. To change them on
 * purpose: CRYPTOCHANNEL_UPDATE_GOLDEN=1 npx jest test/unit/correlator/an1499.test.ts, then review the
 * diff by eye. The other tests state their expectations in code.
 */
import { an1499 } from '../../../src/correlator/analytics/an1499';
import { hostEntryMatches, inCidr, isInternal } from '../../../src/correlator/analytics/network';
import type { CorrelationContext, Finding, SourceEvent } from '../../../src/correlator/types';
import { goldenHarness } from './support/golden';

// Without threat intel unless a test adds it (ctxWith({}, intel)), as the expected files were written.
const { defaults, intel, ctxWith, load, findings, run, golden, reasonNames, scoreOf, evidenceIds } = goldenHarness('AN1499', an1499);
const withBaseline = (...extra: string[]): CorrelationContext => ctxWith({ BaselineMgmtHosts: [...defaults.BaselineMgmtHosts, ...extra] });
const peers = (fs: Finding[]): string[] => fs.map((f) => f.reasons.find((r) => r.name === 'peer_outside_baseline')!.observed).sort();

describe('AN1499 golden scenarios', () => {
  // scenario, alerts expected (the golden file holds what they are); benign with its vCenter listed
  it.each([
    ['malicious', 1],
    ['evasive-nonstandard-port', 1],
    ['evasive-renamed', 1],
    ['evasive-long-delay', 1],
    ['evasive-clock-skew', 1],
    ['outside-window', 1],
    ['benign', 0],
  ] as const)('%s: %d alert(s)', (scenario, count) => {
    const ctx = scenario === 'benign' ? withBaseline('vcsa01.corp.local') : ctxWith();
    const alerts = run(load(scenario), ctx);
    expect(alerts).toHaveLength(count);
    golden(scenario, alerts);
  });

  it('malicious: the certificate failure, the sensor session of the same tuple and its certificate make one alert for the ESXi host', () => {
    const [alert] = run(load('malicious'));
    expect(reasonNames(alert!)).toEqual(['peer_outside_baseline', 'peer_external', 'certificate_verification_failed', 'sensor_certificate_abnormal']);
    expect(scoreOf(alert!)).toBe(100);
    expect(alert!.doc.host).toEqual({ name: 'esx01.corp.local', ip: ['10.10.20.31'] });
    expect(evidenceIds(alert!)).toEqual(['esx-connect', 'zeek-ssl', 'zeek-x509', 'esx-handshake-failed']);
  });

  it('verification off on a non-standard port: nothing fails on the host, the sensor\'s certificate facts and the RSA exchange carry it', () => {
    const [alert] = run(load('evasive-nonstandard-port'));
    expect(reasonNames(alert!)).toEqual(['peer_outside_baseline', 'peer_external', 'sensor_certificate_abnormal', 'rsa_key_exchange']);
  });

  it('clock skew: the sensor session 90 s after the line joins by server', () => {
    const [alert] = run(load('evasive-clock-skew'));
    expect(evidenceIds(alert!)).toEqual(['esx-established', 'sur-tls']);
    expect(reasonNames(alert!)).toContain('sensor_certificate_abnormal');
  });

  it('long delay inside the window joins; 1 s outside it does not', () => {
    const [inside] = run(load('evasive-long-delay'));
    expect(evidenceIds(inside!)).toEqual(['esx-connect', 'esx-cert-failed']);
    const outside = load('outside-window');
    const [alert] = run(outside);
    expect(evidenceIds(alert!)).toEqual(['esx-cert-failed']);
    // The connect line is its own finding, below the threshold.
    const fs = findings(outside);
    expect(fs).toHaveLength(2);
    expect(fs.map((f) => f.evidence.map((e) => e.id))).toEqual([['esx-connect'], ['esx-cert-failed']]);
  });

  it('benign: update servers stay quiet; the vCenter alerts until it is listed, then nothing does', () => {
    const events = load('benign');
    const before = run(events);
    expect(before).toHaveLength(1);
    expect(before[0]!.doc.destination).toMatchObject({ domain: 'vcsa01.corp.local' });
    expect(run(events, withBaseline('vcsa01.corp.local'))).toEqual([]);
    expect(findings(events, withBaseline('vcsa01.corp.local'))).toEqual([]);
  });

  it('threat intel raises a clean session with an internal host over the threshold: SSLBL certificate', () => {
    const events = load('intel');
    expect(run(events)).toEqual([]);
    const alerts = run(events, ctxWith({}, intel));
    expect(alerts).toHaveLength(1);
    expect(reasonNames(alerts[0]!)).toEqual(['peer_outside_baseline', 'threat_intel_certificate']);
    expect(scoreOf(alerts[0]!)).toBe(80);
    golden('intel', alerts);
  });
});

describe('AN1499 honours BaselineMgmtHosts live, not the ingest-time flag', () => {
  it('a name, a *.suffix wildcard, an address or a CIDR in the list suppresses', () => {
    const malicious = load('malicious');
    expect(findings(malicious)).toHaveLength(1);
    expect(findings(malicious, withBaseline('203.0.113.7'))).toEqual([]);
    expect(findings(malicious, withBaseline('203.0.113.0/24'))).toEqual([]);
    expect(findings(malicious, withBaseline('203.0.114.0/24'))).toHaveLength(1);
    const renamed = load('evasive-renamed');
    expect(findings(renamed, withBaseline('*.update-cdn.example'))).toEqual([]);
    // A look-alike is not a subdomain of the listed name.
    expect(findings(renamed, withBaseline('*.vmware.com'))).toHaveLength(1);
  });

  it('a named peer is also in the baseline through the address the sensor saw for it', () => {
    const events = load('benign');
    expect(findings(events, withBaseline('10.10.30.0/24'))).toEqual([]);
  });

  it('removing an update server brings its sessions back even though ingest flagged them as in the baseline', () => {
    const events = load('benign');
    expect(events.find((e) => e.id === 'esx-update-connect')!.doc).toMatchObject({ cryptochannel: { esxi: { peer_in_baseline: true } } });
    const without = ctxWith({ BaselineMgmtHosts: defaults.BaselineMgmtHosts.filter((h) => h !== 'hostupdate.vmware.com') });
    expect(peers(findings(events, without))).toEqual(['hostupdate.vmware.com:443', 'vcsa01.corp.local:443']);
    const f = findings(events, without).find((x) => x.evidence.some((e) => e.id === 'esx-update-connect'))!;
    // A clean session, but with an unlisted host on the internet: 45 + 15, at the threshold.
    expect(f.reasons.map((r) => r.name)).toEqual(['peer_outside_baseline', 'peer_external']);
    expect(run(events, without).map((a) => (a.doc.destination as { domain?: string }).domain).sort()).toEqual(['hostupdate.vmware.com', 'vcsa01.corp.local']);
  });

  it('CertValidationPolicy and CertificateAuthorityList shape the sensor\'s certificate verdict', () => {
    const events = load('evasive-nonstandard-port');
    const abnormal = (ctx: CorrelationContext) => findings(events, ctx)[0]!.reasons.find((r) => r.name === 'sensor_certificate_abnormal');
    expect(abnormal(ctxWith())?.observed).toContain('self signed');
    expect(abnormal(ctxWith({ CertValidationPolicy: { ...defaults.CertValidationPolicy, allow_self_signed: true } }))?.observed ?? '').not.toContain('self signed');
  });
});

describe('allow-list entries (BaselineMgmtHosts, TrustedDoHEndpoints) and InternalNetworks', () => {
  it('match names exactly or under *.suffix, addresses, and IPv4 / IPv6 CIDRs', () => {
    expect(hostEntryMatches('VCSA01.corp.local.', 'vcsa01.corp.local')).toBe(true);
    expect(hostEntryMatches('*.vmware.com', 'hostupdate.vmware.com')).toBe(true);
    expect(hostEntryMatches('*.vmware.com', 'vmware.com')).toBe(false);
    expect(hostEntryMatches('*.vmware.com', 'evilvmware.com')).toBe(false);
    expect(hostEntryMatches('10.10.30.0/24', '10.10.30.5')).toBe(true);
    expect(hostEntryMatches('10.10.30.0/24', '10.10.31.5')).toBe(false);
    expect(hostEntryMatches('2001:db8::/32', '2001:db8:85a3::8a2e:370:7334')).toBe(true);
    expect(hostEntryMatches('2001:0db8:0000::1', '2001:db8::1')).toBe(true);
    expect(hostEntryMatches('10.0.0.0/8', 'not-an-ip')).toBe(false);
    expect(inCidr('10.0.0.1', '10.0.0.0/abc')).toBe(false);
    expect(inCidr('::ffff:10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(isInternal('fd00:10:20::41', defaults)).toBe(true);
    expect(isInternal('203.0.113.7', defaults)).toBe(false);
    expect(isInternal('esx01.corp.local', defaults)).toBeUndefined();
  });
});

describe('AN1499 robustness', () => {
  it('skips events with missing or malformed fields', () => {
    const junk: SourceEvent[] = [
      { index: 'i', id: 'j1', time: 0, doc: { event: { dataset: 'cryptochannel.esxi' } } },
      { index: 'i', id: 'j2', time: 1, doc: { event: { dataset: 'cryptochannel.esxi' }, process: { name: 'hostd' }, cryptochannel: { esxi: { outbound: true } } } },
      { index: 'i', id: 'j3', time: 2, doc: { event: { dataset: 'cryptochannel.esxi' }, process: { name: 42 }, host: { name: 'x' }, cryptochannel: { esxi: { outbound: true, peer_address: 'a.example' } } } },
      { index: 'i', id: 'j4', time: 3, doc: { event: { dataset: 'cryptochannel.esxi' }, process: { name: 'vpxa' }, host: { name: 'x' }, cryptochannel: { esxi: { outbound: 'yes', peer_address: 'a.example' } } } },
      { index: 'i', id: 'j5', time: 4, doc: { event: { dataset: 'cryptochannel.zeek', action: 'tls_session' }, source: { ip: 'not-an-ip' }, destination: { port: 'x' }, tls: 7 } },
    ];
    const malicious = load('malicious');
    expect(() => findings(junk)).not.toThrow();
    expect(findings(junk)).toEqual([]);
    expect(run([...junk, ...malicious]).map((a) => a._id)).toEqual(run(malicious).map((a) => a._id));
  });
});
