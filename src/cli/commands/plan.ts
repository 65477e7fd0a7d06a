import { Command } from 'commander';
import { planDeployment } from '../../apply/deploy';
import { addInstallSourceOptions, selectInstallSource, type InstallSourceOptions } from '../install-source';
import { withDeployment } from '../deploy-session';
import { renderPlan } from '../render-plan';

export function planCommand(): Command {
  return addInstallSourceOptions(new Command('plan').description('show what apply would create, update or delete, wave by wave, and any conflicts'))
    .option('--force', 'plan to take over assets that exist but are not cryptochannel\'s')
    .action(async (opts: { force?: boolean } & InstallSourceOptions, cmd: Command) => {
      await withDeployment(cmd, opts.force === true, async (deploy, ctx) => {
        selectInstallSource(deploy, opts);
        const { plan } = await planDeployment(deploy);
        ctx.out.result(plan, renderPlan);
        if (plan.summary.conflict > 0) process.exitCode = 1;
      });
    });
}
