import { Command } from 'commander';
import { applyPlan, planDeployment } from '../../apply/deploy';
import { addInstallSourceOptions, selectInstallSource, type InstallSourceOptions } from '../install-source';
import { withDeployment } from '../deploy-session';
import { renderApply, renderPlan } from '../render-plan';

export function applyCommand(): Command {
  const command = new Command('apply')
    .description('install or upgrade cryptochannel: only what changed; a second run changes nothing')
    .option('--yes', 'apply without asking (required when not on a terminal)')
    .option('--dry-run', 'plan and report, change nothing');
  return addInstallSourceOptions(command)
    .option('--force', 'take over assets that exist but are not cryptochannel\'s')
    .action(async (opts: { yes?: boolean; dryRun?: boolean; force?: boolean } & InstallSourceOptions, cmd: Command) => {
      await withDeployment(cmd, opts.force === true, async (deploy, ctx) => {
        selectInstallSource(deploy, opts);
        const planned = await planDeployment(deploy);
        const changes = planned.plan.summary.create + planned.plan.summary.update + planned.plan.summary.delete;
        if (changes > 0 && !opts.yes && !opts.dryRun) {
          // No interactive prompt: a deployer run from CI must never hang on a question.
          if (!ctx.out.json) process.stderr.write(`${renderPlan(planned.plan)}\n\n`);
          throw new Error(`apply would make ${changes} change(s): re-run with --yes to apply them, or --dry-run to only report`);
        }
        let done = 0;
        const started = Date.now();
        const report = await applyPlan(deploy, planned, {
          dryRun: opts.dryRun === true,
          onItem: (r) => {
            if (r.status === 'done' || r.status === 'failed') ctx.out.progress({ phase: 'apply', message: `${++done}/${changes} ${r.status === 'failed' ? 'FAILED ' : ''}${r.action} ${r.kind} ${r.name}`, elapsedMs: Date.now() - started });
          },
        });
        ctx.out.result(report, renderApply);
        if (report.failed > 0 || report.refused > 0) process.exitCode = 1;
      });
    });
}
