/**
 * AN1500 (network sensors: asymmetric key exchange on unexpected ports, invalid certificates per
 * CertValidationPolicy, RSA exchanges outside expected flows, NetFlow/IPFIX with IDS), golden scenarios
 * over events the real pipelines normalised from test/fixtures/correlator/an1500/raw/*.json
 * (node test/fixtures/correlator/an1500/normalise.cjs; most raw records are the pipelines' own golden
 * inputs).
 *
 * Expected alerts live in test/fixtures/correlator/an1500/<scenario>.expected.json. To change them on
 * purpose: CRYPTOCHANNEL_UPDATE_GOLDEN=1 npx jest test/unit/correlator/an1500.test.ts, then review the
 * diff by eye. The other tests state their expectations in code.
 */
import { an1500 } from '../../../src/correlator/analytics/an1500';
import type { CorrelationContext, Finding, SourceEvent } from '../../../src/correlator/types';
import type { Tunables } from '../../../src/content';
import { goldenHarness } from './support/golden';

// Without threat intel unless a test adds it (ctxWith({}, intel)), as the expected files were written.
const { defaults, intel, ctxWith, load, findings, run, golden, reasonNames, scoreOf, evidenceIds } = goldenHarness('AN1500', an1500);
const names = (f: Finding | undefined): string[] => (f ? f.reasons.map((r) => r.name) : []);
const only = (events: SourceEvent[], ctx: CorrelationContext = ctxWith()): Finding => {
  const fs = findings(events, ctx);
  expect(fs).toHaveLength(1);
  return fs[0]!;
};
const policy = (patch: Partial<Tunables['CertValidationPolicy']>): CorrelationContext => ctxWith({ CertValidationPolicy: { ...defaults.CertValidationPolicy, ...patch } });

describe('AN1500 golden scenarios', () => {
  // scenario, alerts expected with the default tunables (the golden file holds what they are)
  it.each([
    ['malicious', 1],
    ['evasive-nonstandard-port', 1],
    ['evasive-netflow-ids', 1],
    ['evasive-long-delay', 1],
    ['evasive-clock-skew', 1],
    ['outside-window', 0],
    ['benign', 0],
  ] as const)('%s: %d alert(s)', (scenario, count) => {
    const alerts = run(load(scenario));
    expect(alerts).toHaveLength(count);
    golden(scenario, alerts);
  });

  it('malicious: self-signed and expired certificate, RSA key exchange on 443 and the IDS alert; host is the internal client', () => {
    const [alert] = run(load('malicious'));
    expect(reasonNames(alert!)).toEqual(['rsa_key_exchange', 'self_signed', 'cert_expired', 'ids_alert']);
    expect(scoreOf(alert!)).toBe(90);
    expect(alert!.doc.host).toEqual({ ip: ['10.20.30.77'] });
    expect(alert!.doc.destination).toEqual({ ip: '198.51.100.23', port: 443 });
  });

  it('non-standard port: every certificate fact of the Zeek x509 (joined by file id) counts, and the RSA exchange outside PortProfiles weighs 40', () => {
    const f = only(load('evasive-nonstandard-port'));
    expect(names(f)).toEqual(['nonstandard_port', 'rsa_key_exchange', 'self_signed', 'weak_rsa_key', 'cert_validity_too_long', 'sni_cert_mismatch', 'ids_alert', 'client_heavy']);
    expect(f.reasons.find((r) => r.name === 'rsa_key_exchange')!.points).toBe(40);
    expect(f.evidence.map((e) => e.id)).toContain('zeek-x509');
  });

  it('NetFlow + IDS without any TLS log: the IDS supplies TLS and the client, the flow pair the traffic shape', () => {
    const [alert] = run(load('evasive-netflow-ids'));
    expect(reasonNames(alert!)).toEqual(['nonstandard_port', 'ids_alert', 'tls_protocol_anomaly', 'client_heavy']);
    expect(evidenceIds(alert!)).toEqual(['sur-alert', 'sur-anomaly', 'nf-in', 'nf-out']);
    expect(alert!.doc.source).toEqual({ ip: '10.20.30.43', port: 50111 });
  });

  it('clock skew between exporter and IDS: the IDS events 110 s after the flow still join it', () => {
    const [alert] = run(load('evasive-clock-skew'));
    expect(evidenceIds(alert!)).toEqual(['nf-in', 'nf-out', 'sur-tls', 'sur-alert']);
  });

  it('an event just outside the window does not join', () => {
    const inside = run(load('evasive-long-delay'));
    expect(evidenceIds(inside[0]!)).toEqual(['zeek-ssl', 'sur-alert']);
    const outside = load('outside-window');
    expect(run(outside)).toEqual([]);
    expect(findings(outside).map((f) => f.evidence.map((e) => e.id))).toEqual([['zeek-ssl'], ['sur-alert']]);
  });

  it('benign: Let\'s Encrypt and DigiCert on 443 yield no finding, the corporate CA on LDAPS no alert, the inbound VPN client nothing', () => {
    const events = load('benign');
    expect(run(events)).toEqual([]);
    const fs = findings(events);
    expect(fs).toHaveLength(1);
    expect(fs[0]!.evidence.map((e) => e.id)).toEqual(['sur-ldaps-tls']);
    expect(names(fs[0])).toEqual(['untrusted_issuer']);
  });

  it('threat intel raises the score over the threshold: SSLBL certificate and JA3', () => {
    const events = load('intel');
    expect(run(events)).toEqual([]);
    const alerts = run(events, ctxWith({}, intel));
    expect(alerts).toHaveLength(1);
    expect(reasonNames(alerts[0]!)).toEqual(['nonstandard_port', 'threat_intel_ja3', 'threat_intel_certificate']);
    expect(scoreOf(alerts[0]!)).toBe(70);
    golden('intel', alerts);
  });
});

describe('AN1500 honours its tunables', () => {
  it('PortProfiles: a listed port drops the port reason and the RSA weight; an unlisted 443 flags Let\'s Encrypt', () => {
    const events = load('evasive-nonstandard-port');
    const listed = only(events, ctxWith({ PortProfiles: [...defaults.PortProfiles, 8081] }));
    expect(names(listed)).not.toContain('nonstandard_port');
    expect(listed.reasons.find((r) => r.name === 'rsa_key_exchange')!.points).toBe(15);
    const benign = load('benign');
    const no443 = ctxWith({ PortProfiles: defaults.PortProfiles.filter((p) => p !== 443) as Tunables['PortProfiles'] });
    const le = findings(benign, no443).find((f) => f.evidence.some((e) => e.id === 'zeek-le-ssl'));
    expect(names(le)).toEqual(['nonstandard_port']);
  });

  it('CertValidationPolicy.allow_self_signed', () => {
    const events = load('malicious');
    expect(names(only(events))).toContain('self_signed');
    // Allowed, a self-signed certificate is no issuer complaint either: 90 - 35 leaves 55, below the threshold.
    expect(names(only(events, policy({ allow_self_signed: true })))).toEqual(['rsa_key_exchange', 'cert_expired', 'ids_alert']);
    expect(run(events, policy({ allow_self_signed: true }))).toEqual([]);
  });

  it('CertValidationPolicy.max_validity_days', () => {
    const events = load('evasive-nonstandard-port');
    const r = only(events).reasons.find((x) => x.name === 'cert_validity_too_long')!;
    expect(r).toMatchObject({ observed: '3650 days', threshold: '398 days', tunable: 'CertValidationPolicy.max_validity_days' });
    expect(names(only(events, policy({ max_validity_days: 3650 })))).not.toContain('cert_validity_too_long');
    expect(names(only(load('malicious'), policy({ max_validity_days: 300 })))).toContain('cert_validity_too_long');
  });

  it('CertValidationPolicy.min_rsa_key_bits', () => {
    const events = load('evasive-nonstandard-port');
    expect(only(events).reasons.find((x) => x.name === 'weak_rsa_key')).toMatchObject({ observed: '1024 bits', threshold: '2048 bits' });
    expect(names(only(events, policy({ min_rsa_key_bits: 1024 })))).not.toContain('weak_rsa_key');
  });

  it('CertValidationPolicy.require_trusted_issuer and CertificateAuthorityList', () => {
    const benign = load('benign');
    expect(findings(benign, policy({ require_trusted_issuer: false }))).toEqual([]);
    const withCorp = ctxWith({ CertificateAuthorityList: [...defaults.CertificateAuthorityList, 'corp-DC01-CA'] });
    expect(findings(benign, withCorp)).toEqual([]);
    const noLe = ctxWith({ CertificateAuthorityList: defaults.CertificateAuthorityList.filter((c) => !/encrypt|isrg/i.test(c)) });
    const le = findings(benign, noLe).find((f) => f.evidence.some((e) => e.id === 'zeek-le-ssl'));
    expect(names(le)).toEqual(['untrusted_issuer']);
    expect(le!.reasons[0]!.observed).toContain("Let's Encrypt");
  });

  it('TrafficAsymmetryRatio: above the observed ratio the connection is no longer client-heavy', () => {
    const events = load('evasive-netflow-ids');
    const r = only(events).reasons.find((x) => x.name === 'client_heavy')!;
    expect(r).toMatchObject({ threshold: '3', tunable: 'TrafficAsymmetryRatio' });
    expect(names(only(events, ctxWith({ TrafficAsymmetryRatio: 60 })))).not.toContain('client_heavy');
  });

  it('InternalNetworks decides whose connection it is: a client outside them is not AN1500\'s', () => {
    const events = load('malicious');
    expect(findings(events, ctxWith({ InternalNetworks: ['192.168.0.0/16'] }))).toEqual([]);
  });
});

describe('AN1500 robustness', () => {
  it('skips events with missing or malformed fields', () => {
    const junk: SourceEvent[] = [
      { index: 'i', id: 'j1', time: 0, doc: { event: { dataset: 'cryptochannel.zeek', action: 'tls_session' } } },
      { index: 'i', id: 'j2', time: 1, doc: { event: { dataset: 'cryptochannel.suricata', action: 'tls_session' }, source: { ip: '10.0.0.1', port: 'x' }, destination: { ip: 7, port: 443 }, network: { community_id: 5 } } },
      { index: 'i', id: 'j3', time: 2, doc: { event: { dataset: 'cryptochannel.netflow', action: 'netflow_flow', start: 'yesterday' }, source: { ip: '10.0.0.1', port: 1, bytes: 'many' }, destination: { ip: '203.0.113.1', port: 443 } } },
      { index: 'i', id: 'j4', time: 3, doc: { event: { dataset: 'cryptochannel.suricata', action: 'ids_alert', severity: 'high' }, source: { ip: '10.0.0.1', port: 1 }, destination: { ip: '203.0.113.1', port: 443 }, network: { protocol: 'tls' }, rule: { name: ['x'] } } },
      { index: 'i', id: 'j5', time: 4, doc: { event: { dataset: 'cryptochannel.zeek', action: 'x509_certificate' }, cryptochannel: { zeek: { fuid: ['F'] } }, tls: { server: { x509: { public_key_size: 'big', issuer: 'x' } } } } },
      { index: 'i', id: 'j6', time: 5, doc: { event: { dataset: 'cryptochannel.zeek', action: 'tls_session' }, source: { ip: '10.0.0.2', port: 2 }, destination: { ip: 'fe80::zz', port: 9999 }, cryptochannel: { zeek: { cert_chain_fuids: 'F' }, tls: { self_signed: 'true' } } } },
    ];
    const malicious = load('malicious');
    expect(() => findings(junk)).not.toThrow();
    expect(run([...junk, ...malicious]).map((a) => a._id)).toEqual(run(malicious).map((a) => a._id));
  });
});
