/**
 * Reading and changing the live tunables. A change is validated against the schema, written over
 * exactly the revision that was read (a concurrent edit makes it fail rather than be lost), and the
 * pipelines that carry tunables are re-rendered so that ingest-time facts follow the tuning too.
 */
import type { ClusterClient } from '../cluster';
import { validateTunables, type Content, type Tunables } from '../content';
import { TUNABLES_DOC_ID, TUNABLES_INDEX } from '../plan/desired';
import { setTunable } from '../plan/tunables-edit';
import type { TunablesDocument } from '../plan/tunables-merge';
import { isTunablesDocument } from '../plan/tunables-merge';
import { applyPlan, planDeployment, type DeployContext, type ItemResult } from './deploy';

export interface LiveTunables {
  source: 'cluster' | 'defaults';
  revision: number;
  tunables: Tunables;
  updated_at?: string;
  updated_by?: string;
}

async function readDocument(client: ClusterClient): Promise<{ doc?: TunablesDocument; seqNo?: number; primaryTerm?: number }> {
  const res = await client.request<{ _source?: unknown; _seq_no?: number; _primary_term?: number }>({ method: 'GET', path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`, ignore: [404] });
  if (res.status === 404 || !isTunablesDocument(res.body._source)) return {};
  return { doc: res.body._source, seqNo: res.body._seq_no, primaryTerm: res.body._primary_term };
}

export async function getLiveTunables(client: ClusterClient, content: Content): Promise<LiveTunables> {
  const { doc } = await readDocument(client);
  if (!doc) return { source: 'defaults', revision: 0, tunables: content.tunables };
  return { source: 'cluster', revision: doc.revision, tunables: doc.tunables as unknown as Tunables, updated_at: doc.updated_at, updated_by: doc.updated_by };
}

export interface TuneResult {
  key: string;
  previous: unknown;
  value: unknown;
  revision: number;
  pipelines: ItemResult[];
}

export async function setLiveTunable(ctx: DeployContext, key: string, value: unknown, by: string): Promise<TuneResult> {
  const { doc, seqNo, primaryTerm } = await readDocument(ctx.client);
  if (!doc) throw new Error('the tunables are not installed on this cluster yet: run cryptochannel apply first');
  const next = validateTunables(ctx.content.roots.integration, setTunable(doc.tunables, key, value));
  const previous = key.split('.').reduce<unknown>((n, k) => (n && typeof n === 'object' ? (n as Record<string, unknown>)[k] : undefined), doc.tunables);
  const written: TunablesDocument = { ...doc, tunables: { ...next }, revision: doc.revision + 1, updated_at: ctx.now, updated_by: by };
  await ctx.client.request({
    method: 'PUT',
    path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`,
    query: { if_seq_no: seqNo, if_primary_term: primaryTerm, refresh: 'true' },
    body: written,
  });
  // Pipelines, monitors, detectors and rules carry tunables rendered in: bring them in line with the new tuning.
  const planned = await planDeployment(ctx);
  const pipelinesOnly = {
    ...planned,
    plan: { ...planned.plan, waves: planned.plan.waves.filter((w) => ['pipeline', 'monitor', 'detector', 'rule'].includes(w.wave)).map((w) => ({ ...w, items: w.items.filter((i) => i.action === 'update') })) },
  };
  const report = await applyPlan(ctx, pipelinesOnly);
  return { key, previous, value: getValue(next, key), revision: written.revision, pipelines: report.results };
}

function getValue(tunables: Tunables, key: string): unknown {
  return key.split('.').reduce<unknown>((n, k) => (n && typeof n === 'object' ? (n as Record<string, unknown>)[k] : undefined), tunables);
}
