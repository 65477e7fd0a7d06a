/** The shipped roles grant what the deployer and the correlator need, and nothing on indices that are not cryptochannel's. */
import { ACCESS, defaultRoots, indexGrants, loadRoles, patternCovers, type RoleFlavor } from '../../src/content';

const READ = new Set(['read', 'all']);
const WRITE = new Set(['write', 'create_doc', 'index', 'all', 'indices:data/write/index']);

function grantsFor(role: Record<string, unknown>, index: string): string[] {
  return indexGrants(role).filter((g) => g.patterns.some((p) => patternCovers(p, index))).flatMap((g) => g.privileges);
}

describe.each(['elasticsearch', 'opensearch'] as RoleFlavor[])('%s roles', (flavor) => {
  const roles = loadRoles(defaultRoots().integration, flavor);

  it('let the deployer write its own indices and read the event streams', () => {
    for (const index of ACCESS.deployer.write) expect([index, grantsFor(roles.cryptochannel_deployer, index).some((p) => WRITE.has(p))]).toEqual([index, true]);
    for (const index of ACCESS.deployer.read) expect([index, grantsFor(roles.cryptochannel_deployer, index).some((p) => READ.has(p))]).toEqual([index, true]);
  });

  it('let the correlator read events, tunables and intel, and write alerts, runs and state, but not change the tunables', () => {
    for (const index of ACCESS.correlator.read) expect([index, grantsFor(roles.cryptochannel_correlator, index).some((p) => READ.has(p))]).toEqual([index, true]);
    for (const index of ACCESS.correlator.write) expect([index, grantsFor(roles.cryptochannel_correlator, index).some((p) => WRITE.has(p))]).toEqual([index, true]);
    expect(grantsFor(roles.cryptochannel_correlator, 'cryptochannel-tunables').some((p) => WRITE.has(p))).toBe(false);
    expect(grantsFor(roles.cryptochannel_correlator, 'logs-cryptochannel.zeek-default').some((p) => WRITE.has(p))).toBe(false);
  });

  it('grant nothing on indices that are not cryptochannel\'s', () => {
    for (const role of Object.values(roles)) {
      for (const index of ['logs-endpoint.events.process-default', '.kibana', 'filebeat-8.19.0', 'security-auditlog-2026.12.01']) expect([index, grantsFor(role, index)]).toEqual([index, []]);
    }
  });
});

describe('the pattern matcher the checks rely on', () => {
  it('matches wildcards and nothing else', () => {
    expect(patternCovers('logs-cryptochannel.*', 'logs-cryptochannel.alerts-default')).toBe(true);
    expect(patternCovers('logs-cryptochannel.*', 'logs-cryptochannelX')).toBe(false);
    expect(patternCovers('cryptochannel-state', 'cryptochannel-states')).toBe(false);
  });
});
