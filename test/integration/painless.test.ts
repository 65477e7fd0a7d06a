/**
 * The stored painless scripts on the real engine, with known values and hostile input: a script
 * that throws would fail (and dead-letter) every document it touches.
 */
import { connect, deleteStoredScript, putStoredScript, simulatePipeline, type ClusterClient } from '../../src/cluster';
import { loadContent, renderScripts } from '../../src/content';
import { testEngineLabel, testUrl, uniqueName } from './support/engine-env';

const content = loadContent();

describe(`stored painless scripts on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const version = uniqueName('painless');
  const scripts = renderScripts(content.scripts, version, 'test');
  const id = (name: string) => scripts.find((s) => s.name === name)!.id;

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
    for (const s of scripts) await putStoredScript(client, s.id, s.body.script.source);
  });
  afterAll(async () => {
    for (const s of scripts) await deleteStoredScript(client, s.id);
    await client.close();
  });

  async function run(name: string, params: Record<string, unknown>, docs: Array<Record<string, unknown>>) {
    const result = await simulatePipeline(client, docs, { pipeline: { processors: [{ script: { id: id(name), params } }] } });
    return result.docs.map((d) => {
      const entry = d as { doc?: { _source: Record<string, any> }; error?: { type: string; reason?: string } };
      if (entry.error) throw new Error(`${name} failed: ${entry.error.type}: ${entry.error.reason}`);
      return entry.doc!._source;
    });
  }

  describe('entropy', () => {
    const all256 = Buffer.from(Array.from({ length: 256 }, (_v, i) => i)).toString('base64');

    it('gives Shannon entropy in bits: "" and "aaaa" → 0, "ab" → 1, 256 distinct bytes → 8', async () => {
      const out = await run('entropy', { field: 's', target: 'h' }, [{ s: '' }, { s: 'aaaa' }, { s: 'ab' }, { s: 'abcd' }]);
      expect(out.map((d) => d.h)).toEqual([0, 0, 1, 2]);
      const [bytes] = await run('entropy', { field: 'p', target: 'h', base64: true }, [{ p: all256 }]);
      expect(bytes!.h).toBe(8);
    });

    it('reads nested fields and numbers, and leaves a document without the field alone', async () => {
      const out = await run('entropy', { field: 'a.b', target: 'x.y' }, [{ a: { b: 'ab' } }, { a: { b: 12 } }, { other: 1 }]);
      expect(out[0]!.x.y).toBe(1);
      expect(out[1]!.x.y).toBe(1);
      expect(out[2]).toEqual({ other: 1 });
    });

    it('never fails on hostile input: invalid base64, a huge string (counted up to max_bytes)', async () => {
      const huge = 'ab'.repeat(2 * 1024 * 1024);
      const out = await run('entropy', { field: 'p', target: 'h', base64: true, target_error: 'err', truncated_field: 'cut' }, [{ p: '%%% not base64 %%%' }, { p: Buffer.from('x'.repeat(100_000)).toString('base64') }]);
      expect(out[0]).toMatchObject({ err: 'invalid base64' });
      expect(out[0]!.h).toBeUndefined();
      expect(out[1]).toMatchObject({ h: 0, cut: true });
      const [big] = await run('entropy', { field: 's', target: 'h', truncated_field: 'cut' }, [{ s: huge }]);
      expect(big).toMatchObject({ h: 1, cut: true });
    });
  });

  describe('network', () => {
    const internal = content.tunables.InternalNetworks as string[];

    it.each([
      ['10.1.2.3', '93.184.216.34', 'outbound'],
      ['203.0.113.5', '192.168.1.1', 'inbound'],
      ['172.16.0.1', '172.31.255.255', 'internal'],
      ['172.32.0.1', '8.8.8.8', 'external'],
      ['100.64.0.1', '100.127.255.255', 'internal'],
      ['fd12::1', '2001:db8::5', 'outbound'],
      ['fe80::1%eth0', '::1', 'internal'],
      ['::ffff:10.0.0.1', '2606:4700::1111', 'outbound'],
      ['2001:db8:0:0:0:0:0:1', '2001:db8::2', 'external'],
    ])('%s → %s is %s', async (src, dst, direction) => {
      const [doc] = await run('network', { internal_networks: internal }, [{ source: { ip: src }, destination: { ip: dst } }]);
      expect(doc!.network.direction).toBe(direction);
      expect(doc!.related.ip).toEqual([src, dst]);
    });

    it('fails a document whose source or destination ip the ip mapping would refuse, naming it, so it is dead-lettered rather than rejected', async () => {
      for (const [doc, message] of [
        [{ source: { ip: 'garbage' }, destination: { ip: '10.0.0.1' } }, 'source.ip [garbage] is not an IP address'],
        [{ source: { ip: '10.0.0.1' }, destination: { ip: '999.1.1.1' } }, 'destination.ip [999.1.1.1] is not an IP address'],
        [{ source: { ip: '10.0.0.1' }, destination: { ip: '1:2:3' } }, 'destination.ip [1:2:3] is not an IP address'],
      ] as const) {
        const result = await simulatePipeline(client, [doc], { pipeline: { processors: [{ script: { id: id('network'), params: { internal_networks: internal } } }] } });
        const entry = result.docs[0] as { error?: { root_cause?: Array<{ reason?: string }>; caused_by?: { reason?: string } } };
        expect(JSON.stringify(entry.error)).toContain(message);
      }
    });

    it('keeps a direction a source already set', async () => {
      const [doc] = await run('network', { internal_networks: internal }, [{ source: { ip: '10.0.0.1' }, destination: { ip: '8.8.8.8' }, network: { direction: 'egress' } }]);
      expect(doc!.network.direction).toBe('egress');
      expect(doc!.related.ip).toEqual(['10.0.0.1', '8.8.8.8']);
    });
  });

  describe('x509_dn', () => {
    it('parses RFC 4514 and OpenSSL one-line DNs, escaped commas included', async () => {
      const out = await run('x509_dn', { field: 'dn', target: 'x' }, [
        { dn: 'CN=*.example.com,O=Example\\, Inc.,OU=Web,OU=Ops,L=Berlin,ST=Berlin,C=DE' },
        { dn: '/C=US/O=Let\'s Encrypt/CN=R11' },
        { dn: '' },
      ]);
      expect(out[0]!.x).toEqual({
        common_name: ['*.example.com'],
        organization: ['Example, Inc.'],
        organizational_unit: ['Web', 'Ops'],
        locality: ['Berlin'],
        state_or_province: ['Berlin'],
        country: ['DE'],
        distinguished_name: 'CN=*.example.com,O=Example\\, Inc.,OU=Web,OU=Ops,L=Berlin,ST=Berlin,C=DE',
      });
      expect(out[1]!.x).toMatchObject({ country: ['US'], organization: ["Let's Encrypt"], common_name: ['R11'] });
      expect(out[2]!.x).toBeUndefined();
    });
  });

  describe('tls_facts', () => {
    const params = { trusted_issuers: content.tunables.CertificateAuthorityList, tls_ports: content.tunables.PortProfiles, handshake_timeout_ms: 5000, cert_validation_policy: content.tunables.CertValidationPolicy };

    it('recognises RSA key exchange however the suite is written', async () => {
      const ciphers = ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES256-SHA', '0x002F', '47', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'TLS_AES_128_GCM_SHA256', '49199'];
      const out = await run('tls_facts', params, ciphers.map((cipher) => ({ tls: { cipher } })));
      expect(out.map((d) => d.cryptochannel.tls.rsa_key_exchange)).toEqual([true, true, true, true, false, false, false, false]);
      const [ja3s] = await run('tls_facts', params, [{ tls: {}, cryptochannel: { tls: { ja3s_string: '771,53,65281-0-11' } } }]);
      expect(ja3s!.cryptochannel.tls.rsa_key_exchange).toBe(true);
    });

    it('checks certificate dates against the event time, the issuer list, key size and SNI', async () => {
      const [doc] = await run('tls_facts', params, [
        {
          '@timestamp': '2026-01-01T00:00:00Z',
          destination: { port: 4443 },
          tls: {
            version: '1.2',
            established: true,
            client: { server_name: 'api.example.com' },
            server: { x509: { not_before: '2025-01-01T00:00:00Z', not_after: '2025-12-31T00:00:00Z', public_key_algorithm: 'rsa', public_key_size: 1024, alternative_names: ['*.example.com'], issuer: { common_name: ['R11'], organization: ["Let's Encrypt"] }, subject: { common_name: ['example.com'] } } },
          },
        },
      ]);
      expect(doc!.cryptochannel.tls).toMatchObject({ cert_expired: true, cert_not_yet_valid: false, cert_validity_days: 364, issuer_trusted: true, self_signed: false, weak_key: true, sni_cert_mismatch: false, nonstandard_port: true, sni_missing: false, sni_is_ip: false });
      expect(doc!.destination.domain).toBe('api.example.com');
    });

    it('takes the weak-key limit from CertValidationPolicy and tells a self-signed certificate by its distinguished names', async () => {
      const cert = (bits: number) => ({ tls: { server: { x509: { public_key_algorithm: 'rsa', public_key_size: bits, issuer: { distinguished_name: 'CN=x,O=y', common_name: ['x'] }, subject: { distinguished_name: 'CN=x,O=y', common_name: ['other'] } } } } });
      const strict = { ...params, cert_validation_policy: { ...content.tunables.CertValidationPolicy, min_rsa_key_bits: 4096 } };
      const [lenient] = await run('tls_facts', params, [cert(3072)]);
      const [tight] = await run('tls_facts', strict, [cert(3072)]);
      expect(lenient!.cryptochannel.tls.weak_key).toBe(false);
      expect(tight!.cryptochannel.tls.weak_key).toBe(true);
      expect(lenient!.cryptochannel.tls.self_signed).toBe(true);
    });

    it('leaves an event without TLS untouched', async () => {
      const [doc] = await run('tls_facts', params, [{ source: { ip: '10.0.0.1' } }]);
      expect(doc).toEqual({ source: { ip: '10.0.0.1' } });
    });
  });
});
