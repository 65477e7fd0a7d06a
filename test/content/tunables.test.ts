import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadContent, loadTunableDefaults, TunablesError, validateTunables } from '../../src/content';

import { spawnSync } from 'node:child_process';

const { roots } = loadContent();

describe('tunables', () => {
  it('types are generated from the schema and not stale (run `npm run generate:types` after changing it)', () => {
    // In a child process: json-schema-to-typescript loads prettier with a dynamic import jest's VM refuses.
    const run = spawnSync(process.execPath, [path.resolve(__dirname, '../../scripts/tunables-types.cjs'), '--check'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('shipped defaults are valid and hold all ten mutable elements of DET0543 plus the conventions', () => {
    const defaults = loadTunableDefaults(roots.integration);
    expect(Object.keys(defaults).sort()).toEqual(
      [
        'AllowedCryptoProcesses',
        'BaselineMgmtHosts',
        'CertValidationPolicy',
        'CertificateAuthorityList',
        'CorrelationWindow',
        'ExpectedCryptoLibs',
        'HandshakeTimeout',
        'InternalNetworks',
        'PayloadEntropyThreshold',
        'PortProfiles',
        'ScoreThreshold',
        'TrafficAsymmetryRatio',
        'TrustedDoHEndpoints',
      ].sort(),
    );
    expect(defaults.TrustedDoHEndpoints).toEqual(expect.arrayContaining(['dns.google', 'cloudflare-dns.com', 'dns.quad9.net']));
    expect(defaults.PortProfiles).toEqual(expect.arrayContaining([443, 465, 636, 853, 993, 995, 5061]));
  });

  it('names every problem of an invalid document', () => {
    const defaults = loadTunableDefaults(roots.integration);
    const broken = { ...defaults, PortProfiles: [443, 70000], ScoreThreshold: 101, Bogus: 1, CertValidationPolicy: { allow_self_signed: 'no' } };
    delete (broken as Record<string, unknown>).InternalNetworks;
    let error: TunablesError | undefined;
    try {
      validateTunables(roots.integration, broken);
    } catch (err) {
      error = err as TunablesError;
    }
    expect(error).toBeInstanceOf(TunablesError);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        "(top level): unknown tunable 'Bogus'",
        "(top level): 'InternalNetworks' is required",
        'PortProfiles.1: must be <= 65535',
        'ScoreThreshold: must be <= 100',
        'CertValidationPolicy.allow_self_signed: must be boolean',
      ]),
    );
  });

  it('schema file is the one the validator reads', () => {
    expect(JSON.parse(readFileSync(path.join(roots.integration, 'tunables', 'schema.json'), 'utf8')).title).toBe('Tunables');
  });
});
