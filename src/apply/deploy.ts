/**
 * plan / apply / status / uninstall: observe the cluster, plan as data (src/plan), then carry the plan
 * out wave by wave with a result per item. Commands call these and print what they return.
 */
import { ClusterError, type ClusterClient, type KibanaClient } from '../cluster';
import { loadDetectionContent, validateTunables, type Content, type DetectionContent, type Tunables } from '../content';
import { engineAssets, kibanaAssets, mlAssets, openSearchAssets, TUNABLES_DOC_ID, TUNABLES_INDEX } from '../plan/desired';
import { makePlan, makeUninstallPlan, managedHere } from '../plan/plan';
import { mergeTunables, isTunablesDocument } from '../plan/tunables-merge';
import type { AssetKind, DesiredAsset, ObservedAsset, Plan, PlanItem } from '../plan/types';
import { applyEngineItem } from './engine-apply';
import { applyKibanaItem, observeKibana, writeManifest, type KibanaState } from './kibana-deploy';
import { observeEngine, type EngineState } from './engine-state';

export interface DeployContext {
  client: ClusterClient;
  content: Content;
  packageVersion: string;
  /** ISO time stamped on documents this run creates. */
  now: string;
  force?: boolean;
  /** Loaded once per command; loaded on demand when absent. */
  detection?: DetectionContent;
  /** Kibana, when the user named one (--kibana-url): rules, exception lists and saved objects go there. */
  kibana?: KibanaClient;
  /** Install exactly these (a reviewed bundle, `apply --from-bundle`) instead of rendering the content. */
  bundle?: { flavor: 'elasticsearch' | 'opensearch'; desired: DesiredAsset[] };
  /** Only the runtime share (`--runtime-only`): what the correlator needs and Fleet cannot install. */
  runtimeOnly?: boolean;
}

export interface PlannedDeployment {
  plan: Plan;
  state: EngineState;
  kibanaState?: KibanaState;
}

/** The live tunables, validated: pipelines are rendered with them, so a tuning reaches ingest too. */
export async function readLiveTunables(client: ClusterClient, content: Content): Promise<{ tunables?: Tunables; document?: unknown }> {
  const res = await client.request<{ _source?: unknown }>({ method: 'GET', path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`, ignore: [404] });
  if (res.status === 404 || !isTunablesDocument(res.body._source)) return {};
  // A newer version may know tunables the live document lacks: render with them filled from the defaults.
  const merged = mergeTunables(res.body._source, { tunables: content.tunables, revision: 0, package_version: '', updated_at: '', updated_by: '' });
  const doc = merged.document as { tunables: unknown };
  return { tunables: validateTunables(content.roots.integration, doc.tunables), document: res.body._source };
}

export async function desiredAssets(ctx: DeployContext): Promise<DesiredAsset[]> {
  if (ctx.bundle) {
    if (ctx.bundle.flavor !== ctx.client.flavor) throw new Error(`the bundle was built for ${ctx.bundle.flavor}, the cluster is ${ctx.client.flavor}`);
    return ctx.bundle.desired.filter((d) => d.target === 'engine');
  }
  const live = await readLiveTunables(ctx.client, ctx.content);
  const tunables = live.tunables ?? ctx.content.tunables;
  const detection = ctx.detection ?? loadDetectionContent(ctx.content.roots);
  return [
    ...engineAssets(ctx.content, { flavor: ctx.client.flavor, packageVersion: ctx.packageVersion, tunables: live.tunables, now: ctx.now }),
    ...(ctx.client.flavor === 'elasticsearch' ? mlAssets(detection, ctx.packageVersion) : openSearchAssets(detection, ctx.packageVersion, tunables)),
  ];
}

/** The names Kibana assets will have, known before anything is rendered (rendering rules needs the lists' ids). */
function kibanaNames(detection: DetectionContent): Array<{ kind: AssetKind; name: string }> {
  return [
    ...detection.exceptionLists.map((l) => ({ kind: 'exception_list' as const, name: l.list_id })),
    ...detection.rules.map((r) => ({ kind: 'rule' as const, name: r.rule.rule_id })),
    ...detection.savedObjects.map((o) => ({ kind: 'saved_object' as const, name: `${o.type}/${o.id}` })),
  ];
}

const NO_KIBANA = 'no Kibana named (--kibana-url): rules, exception lists and saved objects are not installed';

export async function planDeployment(ctx: DeployContext): Promise<PlannedDeployment> {
  const detection = (ctx.detection ??= loadDetectionContent(ctx.content.roots));
  const desired = await desiredAssets(ctx);
  const state = await observeEngine(ctx.client, desired, ctx.content.scripts.map((s) => s.name));
  let kibanaState: KibanaState | undefined;
  const unsupported = { ...state.unsupported };
  if (ctx.kibana) {
    kibanaState = await observeKibana(ctx.kibana, ctx.client, kibanaNames(detection));
    if (ctx.bundle) {
      desired.push(...ctx.bundle.desired.filter((d) => d.target === 'kibana'));
    } else {
      const live = await readLiveTunables(ctx.client, ctx.content);
      desired.push(...kibanaAssets(detection, { packageVersion: ctx.packageVersion, tunables: live.tunables ?? ctx.content.tunables, exceptionListIds: kibanaState.listIds }));
    }
  } else {
    // Shown as skipped, so that plan says why nothing of Kibana's is there.
    desired.push(...kibanaNames(detection).map((n): DesiredAsset => ({ ...n, target: 'kibana', body: undefined, sha256: '' })));
    unsupported.exception_list = unsupported.rule = unsupported.saved_object = NO_KIBANA;
  }
  const observed = [...state.assets, ...(kibanaState?.assets ?? [])];
  const plan = makePlan(desired, observed, { flavor: ctx.client.flavor, packageVersion: ctx.packageVersion, force: ctx.force, unsupported, runtimeOnly: ctx.runtimeOnly });
  return { plan, state, kibanaState };
}

export interface ItemResult {
  kind: PlanItem['kind'];
  name: string;
  action: PlanItem['action'];
  status: 'done' | 'unchanged' | 'skipped' | 'failed' | 'refused';
  reason: string;
  error?: Record<string, unknown>;
}

export interface ApplyReport {
  packageVersion: string;
  flavor: string;
  dryRun: boolean;
  results: ItemResult[];
  changed: number;
  failed: number;
  refused: number;
}

function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof ClusterError) return err.toJSON();
  return { message: err instanceof Error ? err.message : String(err) };
}

/**
 * Runs a plan. With any conflict nothing is changed: a half-applied install on a cluster that holds
 * someone else's assets would be worse than none.
 */
export async function applyPlan(
  ctx: DeployContext,
  planned: PlannedDeployment,
  options: { dryRun?: boolean; onItem?: (r: ItemResult) => void } = {},
): Promise<ApplyReport> {
  const { plan, state } = planned;
  const results: ItemResult[] = [];
  const conflicts = plan.waves.flatMap((w) => w.items).filter((i) => i.action === 'conflict');
  const report = (): ApplyReport => ({
    packageVersion: plan.packageVersion,
    flavor: plan.flavor,
    dryRun: options.dryRun === true,
    results,
    changed: results.filter((r) => r.status === 'done').length,
    failed: results.filter((r) => r.status === 'failed').length,
    refused: results.filter((r) => r.status === 'refused').length,
  });
  const record = (r: ItemResult) => {
    results.push(r);
    options.onItem?.(r);
  };
  for (const wave of plan.waves) {
    for (const item of wave.items) {
      const base = { kind: item.kind, name: item.name, action: item.action, reason: item.reason };
      if (item.action === 'noop') record({ ...base, status: 'unchanged' });
      else if (item.action === 'skip') record({ ...base, status: 'skipped' });
      else if (item.action === 'conflict') record({ ...base, status: 'refused' });
      else if (conflicts.length || options.dryRun) record({ ...base, status: 'skipped', reason: options.dryRun ? `${item.reason} (dry run)` : `${item.reason} (not applied: the plan has conflicts)` });
      else {
        try {
          if (item.target === 'engine') await applyEngineItem(ctx.client, item, state, plan.packageVersion);
          else if (ctx.kibana && planned.kibanaState) await applyKibanaItem(ctx.kibana, item, planned.kibanaState, plan.packageVersion);
          else throw new Error(NO_KIBANA);
          record({ ...base, status: 'done' });
        } catch (err) {
          record({ ...base, status: 'failed', error: describeError(err) });
        }
      }
    }
  }
  // Kibana cannot hand back what it imported unchanged: remember what we imported, by content hash.
  if (ctx.kibana && planned.kibanaState && results.some((r) => r.kind === 'saved_object' && r.status === 'done')) {
    await writeManifest(ctx.client, ctx.kibana.space, planned.kibanaState.manifest);
  }
  return report();
}

export interface StatusReport {
  packageVersion: string;
  flavor: string;
  installed: Array<{ kind: string; name: string; package_version?: string }>;
  /** What Fleet installed for the cryptochannel package: Fleet's, so neither counted above nor removed by uninstall. */
  fleet: Array<{ kind: string; name: string }>;
  userOwned: Array<{ kind: string; name: string }>;
  pending: Record<string, number>;
  upToDate: boolean;
}

/** What is installed (ours only), what Fleet installed, what is the user's, and whether `apply` has anything left to do. */
export async function deploymentStatus(ctx: DeployContext): Promise<StatusReport> {
  const { plan, state, kibanaState } = await planDeployment(ctx);
  const ours = state.assets.filter(managedHere);
  const fleet = [...state.assets, ...(kibanaState?.assets ?? [])].filter((a) => a.fleet);
  const pending = { ...plan.summary };
  return {
    packageVersion: ctx.packageVersion,
    flavor: ctx.client.flavor,
    installed: ours.map((a) => ({ kind: a.kind, name: a.name, package_version: a.meta?.package_version })),
    fleet: fleet.map((a) => ({ kind: a.kind, name: a.name })),
    userOwned: state.assets.filter((a) => !a.fleet && (a.kind === 'custom_pipeline' || a.kind === 'tunables')).map((a) => ({ kind: a.kind, name: a.name })),
    pending,
    upToDate: pending.create + pending.update + pending.delete + pending.conflict === 0,
  };
}

export async function planUninstall(ctx: DeployContext, purge: boolean): Promise<PlannedDeployment> {
  const state = await observeEngine(ctx.client, [], ctx.content.scripts.map((s) => s.name));
  const kibanaState = ctx.kibana ? await observeKibana(ctx.kibana, ctx.client, kibanaNames((ctx.detection ??= loadDetectionContent(ctx.content.roots)))) : undefined;
  const observed = [...state.assets, ...(kibanaState?.assets ?? [])];
  // The planner sorts what it is shown: ours deleted, Fleet's listed as kept, the rest left out.
  const userOwned: ObservedAsset[] = observed.filter((a) => a.kind === 'custom_pipeline' || a.kind === 'tunables' || a.kind === 'exception_list');
  const { templatesInUse, composedOf } = await templateUse(ctx.client);
  return { plan: makeUninstallPlan(observed, userOwned, { flavor: ctx.client.flavor, packageVersion: ctx.packageVersion, purge, templatesInUse, composedOf }), state, kibanaState };
}

/** Which of our index templates data streams were created from, and what each is composed of. */
async function templateUse(client: ClusterClient): Promise<{ templatesInUse: Record<string, string[]>; composedOf: Record<string, string[]> }> {
  const streams = await client.request<{ data_streams?: Array<{ name: string; template: string }> }>({ method: 'GET', path: '/_data_stream/logs-cryptochannel*', ignore: [404] });
  const templatesInUse: Record<string, string[]> = {};
  for (const ds of streams.body.data_streams ?? []) (templatesInUse[ds.template] ??= []).push(ds.name);
  const templates = await client.request<{ index_templates?: Array<{ name: string; index_template: { composed_of?: string[] } }> }>({ method: 'GET', path: '/_index_template', ignore: [404] });
  const composedOf = Object.fromEntries((templates.body.index_templates ?? []).map((t) => [t.name, t.index_template.composed_of ?? []]));
  return { templatesInUse, composedOf };
}

/**
 * What `ingest` and the demo stand on: install or upgrade what the plan says, refusing (with the
 * conflicting names) rather than taking over foreign assets.
 */
export async function ensureInstalled(ctx: DeployContext): Promise<ApplyReport> {
  const planned = await planDeployment(ctx);
  const conflicts = planned.plan.waves.flatMap((w) => w.items).filter((i) => i.action === 'conflict');
  if (conflicts.length) {
    throw new Error(`the cluster holds assets with cryptochannel's names that are not cryptochannel's: ${conflicts.map((c) => `${c.kind} ${c.name}`).join(', ')} (see cryptochannel plan; apply --force takes them over)`);
  }
  const report = await applyPlan(ctx, planned);
  if (report.failed) {
    const first = report.results.find((r) => r.status === 'failed')!;
    throw new Error(`installing ${first.kind} ${first.name} failed: ${String(first.error?.message ?? '')} (${report.failed} item(s) failed; see cryptochannel apply)`);
  }
  return report;
}
