import path from 'node:path';
import { readYaml } from './files';

/** The shipped defaults (integration/tunables/defaults.yml). The schema and the live copy come with the deployer. */
export function loadTunableDefaults(integrationRoot: string): Record<string, unknown> {
  return readYaml<Record<string, unknown>>(path.join(integrationRoot, 'tunables', 'defaults.yml'));
}
