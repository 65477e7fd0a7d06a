import { Command } from 'commander';
import { deploymentStatus, type StatusReport } from '../../apply/deploy';
import { withDeployment } from '../deploy-session';
import { table } from '../output';

function render(r: StatusReport): string {
  const versions = [...new Set(r.installed.map((i) => i.package_version))].join(', ') || 'none';
  const p = r.pending;
  return [
    `cryptochannel ${r.packageVersion} (this CLI) on ${r.flavor}; installed versions: ${versions}`,
    '',
    r.installed.length ? table(r.installed.map((i) => ({ ...i })), ['kind', 'name', 'package_version']) : `nothing of cryptochannel is installed${r.fleet.length ? ' by this CLI' : ''}`,
    '',
    ...(r.fleet.length ? [`installed by Fleet (package cryptochannel), managed in Kibana → Integrations: ${r.fleet.length} asset(s)`] : []),
    r.userOwned.length ? `yours (kept across upgrades): ${r.userOwned.map((u) => u.name).join(', ')}` : 'no user-owned assets yet',
    r.upToDate ? 'up to date: apply has nothing to do' : `apply would: create ${p.create}, update ${p.update}, delete ${p.delete}; conflicts ${p.conflict}`,
  ].join('\n');
}

export function statusCommand(): Command {
  return new Command('status')
    .description("list the installed assets that are cryptochannel's, and what apply would still change")
    .action(async (_opts: unknown, cmd: Command) => {
      await withDeployment(cmd, false, async (deploy, ctx) => {
        ctx.out.result(await deploymentStatus(deploy), render);
      });
    });
}
