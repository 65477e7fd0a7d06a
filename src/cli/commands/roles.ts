import { Command, Option } from 'commander';
import { defaultRoots, loadRoles, type RoleFlavor } from '../../content';
import { contextFor } from '../context';

export function rolesCommand(): Command {
  return new Command('roles')
    .description('print the least-privilege roles for the deployer and the correlator, as the security API takes them')
    .addOption(new Option('--flavor <flavor>', 'which engine\'s security API').choices(['elasticsearch', 'opensearch']).default('elasticsearch'))
    .action((opts: { flavor: RoleFlavor }, cmd: Command) => {
      const ctx = contextFor(cmd);
      const roles = loadRoles(defaultRoots().integration, opts.flavor);
      const api = opts.flavor === 'elasticsearch' ? '_security/role' : '_plugins/_security/api/roles';
      ctx.out.result(roles, (r) =>
        Object.entries(r)
          .map(([name, body]) => `# PUT ${api}/${name}\n${JSON.stringify(body, null, 2)}`)
          .join('\n\n'),
      );
    });
}
