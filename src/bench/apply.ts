/**
 * `apply` twice in a row: the first on the cluster as found (empty, on the engine the bench
 * started), the second with nothing left to change. Both plan and carry out the plan, as `apply`
 * does; no Kibana is involved (its assets are skipped).
 */
import type { ClusterClient } from '../cluster';
import { applyPlan, planDeployment } from '../apply/deploy';
import type { Content } from '../content';

export interface ApplyRun {
  ms: number;
  created: number;
  changed: number;
  unchanged: number;
  failed: number;
}

export interface ApplyBench {
  first: ApplyRun;
  again: ApplyRun;
  /** Whether the first apply found nothing of cryptochannel's (every engine item was a create). */
  first_on_empty: boolean;
  ratio: number;
}

async function applyOnce(client: ClusterClient, content: Content, packageVersion: string, now: () => number): Promise<{ run: ApplyRun; allCreates: boolean }> {
  const ctx = { client, content, packageVersion, now: new Date(now()).toISOString() };
  const t = now();
  const planned = await planDeployment(ctx);
  const report = await applyPlan(ctx, planned);
  const ms = now() - t;
  if (report.failed || report.refused) {
    const bad = report.results.find((r) => r.status === 'failed' || r.status === 'refused');
    throw new Error(`apply failed (${report.failed} failed, ${report.refused} refused; first: ${bad?.kind} ${bad?.name}: ${bad?.reason})`);
  }
  const engineItems = planned.plan.waves.flatMap((w) => w.items).filter((i) => i.target === 'engine' && i.action !== 'skip');
  return {
    run: {
      ms,
      created: report.results.filter((r) => r.status === 'done' && r.action === 'create').length,
      changed: report.changed,
      unchanged: report.results.filter((r) => r.status === 'unchanged').length,
      failed: report.failed,
    },
    allCreates: engineItems.every((i) => i.action === 'create'),
  };
}

export async function measureApply(client: ClusterClient, content: Content, packageVersion: string, now = Date.now): Promise<ApplyBench> {
  const first = await applyOnce(client, content, packageVersion, now);
  const again = await applyOnce(client, content, packageVersion, now);
  return { first: first.run, again: again.run, first_on_empty: first.allCreates, ratio: first.run.ms === 0 ? 0 : again.run.ms / Math.max(first.run.ms, 1) };
}
