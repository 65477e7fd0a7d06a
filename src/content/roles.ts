/**
 * The least-privilege roles cryptochannel ships (integration/security/), and the index names each
 * of its components must be able to reach, so that a test can hold the roles to what the code does.
 */
import path from 'node:path';
import { readYaml } from './files';
import { THREAT_INTEL_INDEX } from './threat-intel';

export type RoleFlavor = 'elasticsearch' | 'opensearch';
export type Roles = Record<'cryptochannel_deployer' | 'cryptochannel_correlator', Record<string, unknown>>;

export function loadRoles(integrationRoot: string, flavor: RoleFlavor): Roles {
  return readYaml<Roles>(path.join(integrationRoot, 'security', `${flavor}-roles.yml`));
}

/** Index privileges of a role, flattened to pattern → privileges, whatever the flavour's spelling. */
export function indexGrants(role: Record<string, unknown>): Array<{ patterns: string[]; privileges: string[] }> {
  const es = role.indices as Array<{ names: string[]; privileges: string[] }> | undefined;
  const os = role.index_permissions as Array<{ index_patterns: string[]; allowed_actions: string[] }> | undefined;
  return es ? es.map((g) => ({ patterns: g.names, privileges: g.privileges })) : (os ?? []).map((g) => ({ patterns: g.index_patterns, privileges: g.allowed_actions }));
}

/** Does `pattern` (with `*` wildcards) cover the concrete index or data stream `name`? */
export function patternCovers(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** What each component touches (the names the code uses, kept here beside the roles). */
export const ACCESS = {
  deployer: { write: ['cryptochannel-tunables', THREAT_INTEL_INDEX, 'cryptochannel-state'], read: ['logs-cryptochannel.zeek-default'] },
  correlator: {
    read: ['logs-cryptochannel.sysmon-default', 'logs-cryptochannel.zeek-default', 'cryptochannel-tunables', THREAT_INTEL_INDEX],
    write: ['logs-cryptochannel.alerts-default', 'cryptochannel-runs', 'cryptochannel-state'],
  },
} as const;
