/**
 * Reading and changing the live tunables. A change is validated against the schema, written over
 * exactly the revision that was read (a concurrent edit makes it fail rather than be lost), and the
 * pipelines that carry tunables are re-rendered so that ingest-time facts follow the tuning too.
 */
import type { ClusterClient, KibanaClient } from '../cluster';
import { loadDetectionContent, renderExceptionLists, tunablesFromExceptionItems, validateTunables, type Content, type DetectionContent, type Tunables } from '../content';
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
  /** Assets re-rendered with the new value (pipelines, monitors, detectors, rules). */
  pipelines: ItemResult[];
  /** Exception-list items changed in Kibana, when Kibana is named. */
  kibana?: { added: number; removed: number };
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
  const kibana = ctx.kibana ? await pushToKibana(ctx, key, next) : undefined;
  return { key, previous, value: getValue(next, key), revision: written.revision, pipelines: await reRender(ctx), kibana };
}

/** Pipelines, monitors, detectors and rules carry tunables rendered in: bring them in line with the tuning. */
async function reRender(ctx: DeployContext): Promise<ItemResult[]> {
  const planned = await planDeployment(ctx);
  const tuned = {
    ...planned,
    plan: { ...planned.plan, waves: planned.plan.waves.filter((w) => ['pipeline', 'monitor', 'detector', 'rule'].includes(w.wave)).map((w) => ({ ...w, items: w.items.filter((i) => i.action === 'update') })) },
  };
  return (await applyPlan(ctx, tuned)).results;
}

function getValue(tunables: Tunables, key: string): unknown {
  return key.split('.').reduce<unknown>((n, k) => (n && typeof n === 'object' ? (n as Record<string, unknown>)[k] : undefined), tunables);
}

interface FoundItems {
  data: Array<{ list_id: string; item_id: string; entries: unknown; expire_time?: string; meta?: { managed_by?: string } }>;
  total: number;
}

async function listItems(kibana: KibanaClient, listId: string): Promise<FoundItems['data']> {
  const out: FoundItems['data'] = [];
  for (let page = 1; ; page += 1) {
    const res = await kibana.request<FoundItems>({ method: 'GET', path: '/api/exception_lists/items/_find', query: { list_id: listId, namespace_type: 'single', per_page: 1000, page }, ignore: [404] });
    if (res.status === 404) return out;
    out.push(...res.body.data);
    if (res.body.data.length === 0 || out.length >= res.body.total) return out;
  }
}

export interface PullResult {
  changed: Array<{ key: string; previous: unknown; value: unknown }>;
  ignored: Array<{ list_id: string; item_id: string; reason: string }>;
  revision: number;
  reRendered: ItemResult[];
}

/**
 * Kibana → cluster: the allow-lists analysts edit as exception lists become the live tunables the
 * correlator and the pipelines read. Items a flat list cannot express are reported, not guessed at.
 */
export async function pullFromKibana(ctx: DeployContext): Promise<PullResult> {
  if (!ctx.kibana) throw new Error('tune pull reads Kibana exception lists: name Kibana with --kibana-url');
  const defs = (ctx.detection ??= loadDetectionContent(ctx.content.roots)).exceptionLists.filter((d) => d.tunable);
  const items = (await Promise.all(defs.map((d) => listItems(ctx.kibana!, d.list_id)))).flat();
  const fromItems = tunablesFromExceptionItems(defs, items, { now: new Date(ctx.now), lists: defs.map((d) => d.list_id) });
  const { doc, seqNo, primaryTerm } = await readDocument(ctx.client);
  if (!doc) throw new Error('the tunables are not installed on this cluster yet: run cryptochannel apply first');
  const changed: PullResult['changed'] = [];
  let tunables: Record<string, unknown> = doc.tunables;
  for (const [key, value] of Object.entries(fromItems.tunables)) {
    if (JSON.stringify(doc.tunables[key]) === JSON.stringify(value)) continue;
    changed.push({ key, previous: doc.tunables[key], value });
    tunables = setTunable(tunables, key, value);
  }
  if (!changed.length) return { changed, ignored: fromItems.ignored, revision: doc.revision, reRendered: [] };
  const next = validateTunables(ctx.content.roots.integration, tunables);
  const written: TunablesDocument = { ...doc, tunables: { ...next }, revision: doc.revision + 1, updated_at: ctx.now, updated_by: 'kibana exception lists' };
  await ctx.client.request({ method: 'PUT', path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`, query: { if_seq_no: seqNo, if_primary_term: primaryTerm, refresh: 'true' }, body: written });
  return { changed, ignored: fromItems.ignored, revision: written.revision, reRendered: await reRender(ctx) };
}

/**
 * Cluster → Kibana, after `tune set` of a mirrored allow-list: our items follow the new value; items
 * an analyst added (no cryptochannel stamp) are left alone.
 */
export async function pushToKibana(ctx: DeployContext, key: string, tunables: Tunables): Promise<{ added: number; removed: number }> {
  const defs = (ctx.detection ??= loadDetectionContent(ctx.content.roots)).exceptionLists.filter((d) => d.tunable === key.split('.')[0]);
  let added = 0;
  let removed = 0;
  for (const rendered of renderExceptionLists(defs, tunables, { packageVersion: ctx.packageVersion })) {
    const existing = await listItems(ctx.kibana!, rendered.list.list_id);
    const wanted = new Set(rendered.items.map((i) => i.item_id));
    const have = new Set(existing.map((i) => i.item_id));
    for (const item of existing) {
      if (item.meta?.managed_by === 'cryptochannel' && !wanted.has(item.item_id)) {
        await ctx.kibana!.request({ method: 'DELETE', path: '/api/exception_lists/items', query: { item_id: item.item_id, namespace_type: 'single' }, ignore: [404] });
        removed += 1;
      }
    }
    for (const item of rendered.items) {
      if (have.has(item.item_id)) continue;
      await ctx.kibana!.request({ method: 'POST', path: '/api/exception_lists/items', body: item, idempotent: false });
      added += 1;
    }
  }
  return { added, removed };
}

/**
 * The allow-lists as the analysts keep them in Kibana right now, read without writing anything:
 * the correlator lays them over the live tunables at the start of each run, so an exception added in
 * Kibana counts from the next run even before anyone runs `tune pull` (the correlator's role may
 * not write the tunables).
 */
export async function kibanaAllowLists(kibana: KibanaClient, detection: DetectionContent, now: Date): Promise<Partial<Tunables>> {
  const defs = detection.exceptionLists.filter((d) => d.tunable);
  const items = (await Promise.all(defs.map((d) => listItems(kibana, d.list_id)))).flat();
  return tunablesFromExceptionItems(defs, items, { now, lists: defs.map((d) => d.list_id) }).tunables as Partial<Tunables>;
}
