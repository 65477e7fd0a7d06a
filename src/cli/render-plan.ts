/** Human renderings of plans and apply reports (JSON output prints the data itself). */
import type { ApplyReport } from '../apply/deploy';
import type { Plan } from '../plan/types';
import { table } from './output';

export function renderPlan(plan: Plan): string {
  const rows = plan.waves.flatMap((w) => w.items.map((i) => ({ wave: w.wave, action: i.action, kind: i.kind, name: i.name, reason: i.reason })));
  const s = plan.summary;
  const notes = [
    ...(plan.fleet ? ['Fleet installed cryptochannel on this cluster: its share is left to Fleet (skipped); the deployer installs the runtime share'] : []),
    ...(plan.runtimeOnly ? ['--runtime-only: only the runtime share (tunables, threat intel, the alerts stream, exception lists) is planned'] : []),
  ];
  return [
    `cryptochannel ${plan.packageVersion} on ${plan.flavor}`,
    ...notes,
    '',
    rows.length ? table(rows, ['wave', 'action', 'kind', 'name', 'reason']) : '(nothing to install)',
    '',
    `${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.noop} unchanged, ${s.skip} skipped, ${s.conflict} conflicts`,
  ].join('\n');
}

export function renderApply(report: ApplyReport): string {
  const rows = report.results.map((r) => ({
    status: r.status,
    action: r.action,
    kind: r.kind,
    name: r.name,
    detail: r.status === 'failed' ? String(r.error?.message ?? '') : r.reason,
  }));
  const unchanged = report.results.filter((r) => r.status === 'unchanged').length;
  const tail =
    report.refused > 0
      ? `refused: ${report.refused} conflict(s); nothing was changed (use --force to take over assets that are not ours)`
      : report.dryRun
        ? `dry run: nothing was changed`
        : report.changed === 0 && report.failed === 0
          ? `nothing to change: ${unchanged} assets already up to date`
          : `${report.changed} changed, ${unchanged} unchanged, ${report.failed} failed`;
  return [table(rows, ['status', 'action', 'kind', 'name', 'detail']), '', tail].join('\n');
}
