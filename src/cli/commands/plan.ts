import { Command } from 'commander';
import { planDeployment } from '../../apply/deploy';
import { loadBundle } from '../bundle-option';
import { withDeployment } from '../deploy-session';
import { renderPlan } from '../render-plan';

export function planCommand(): Command {
  return new Command('plan')
    .description('show what apply would create, update or delete, wave by wave, and any conflicts')
    .option('--from-bundle <dir>', 'install exactly what a bundle (cryptochannel build --bundle) holds')
    .option('--runtime-only', 'only what the correlator needs and Fleet cannot install: tunables, threat intel, the alerts stream, exception lists')
    .option('--force', 'plan to take over assets that exist but are not cryptochannel\'s')
    .action(async (opts: { force?: boolean; fromBundle?: string; runtimeOnly?: boolean }, cmd: Command) => {
      await withDeployment(cmd, opts.force === true, async (deploy, ctx) => {
        if (opts.fromBundle) Object.assign(deploy, loadBundle(opts.fromBundle));
        // With a bundle too: a site that installs the content through Fleet can take the runtime share from reviewed files.
        deploy.runtimeOnly = opts.runtimeOnly === true;
        const { plan } = await planDeployment(deploy);
        ctx.out.result(plan, renderPlan);
        if (plan.summary.conflict > 0) process.exitCode = 1;
      });
    });
}
