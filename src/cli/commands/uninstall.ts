import { Command } from 'commander';
import { applyPlan, planUninstall } from '../../apply/deploy';
import { withDeployment } from '../deploy-session';
import { renderApply, renderPlan } from '../render-plan';

export function uninstallCommand(): Command {
  return new Command('uninstall')
    .description("remove only the assets whose stamp says cryptochannel's; data streams and their data stay, and what Fleet installed is Fleet's to remove")
    .option('--yes', 'remove without asking')
    .option('--dry-run', 'list what would be removed, change nothing')
    .option('--purge', 'also remove what became yours: the live tunables and the @custom pipelines')
    .action(async (opts: { yes?: boolean; dryRun?: boolean; purge?: boolean }, cmd: Command) => {
      await withDeployment(cmd, false, async (deploy, ctx) => {
        const planned = await planUninstall(deploy, opts.purge === true);
        if (planned.plan.summary.delete > 0 && !opts.yes && !opts.dryRun) {
          if (!ctx.out.json) process.stderr.write(`${renderPlan(planned.plan)}\n\n`);
          throw new Error(`uninstall would delete ${planned.plan.summary.delete} asset(s): re-run with --yes, or --dry-run to only report`);
        }
        const report = await applyPlan(deploy, planned, { dryRun: opts.dryRun === true });
        ctx.out.result(report, renderApply);
        if (report.failed > 0) process.exitCode = 1;
      });
    });
}
