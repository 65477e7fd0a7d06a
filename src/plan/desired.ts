/**
 * What the content wants installed on one cluster, rendered with installed names, versions and
 * markers. Pure: content, flavour, version and the tunables in, assets out.
 */
import {
  customPipelineId,
  lifecyclePolicyName,
  loadLifecycle,
  loadThreatIntelSeed,
  managedMeta,
  pipelineMeta,
  renderAlertsTemplates,
  renderDeadletterTemplate,
  renderIngest,
  renderSourceTemplates,
  sha256,
  SHARED,
  SOURCES,
  THREAT_INTEL_INDEX,
  buildSavedObjects,
  offlineListIds,
  renderDetector,
  renderExceptionLists,
  renderMlJob,
  renderMonitor,
  renderRule,
  type Content,
  type DetectionContent,
  type Tunables,
} from '../content';
import type { TunablesDocument } from './tunables-merge';
import type { DesiredAsset } from './types';

export const TUNABLES_INDEX = 'cryptochannel-tunables';
export const TUNABLES_DOC_ID = 'current';

export interface DesiredOptions {
  flavor: 'elasticsearch' | 'opensearch';
  packageVersion: string;
  /** The live tunables when the cluster has them (pipelines take their lists and thresholds), else the defaults. */
  tunables?: Tunables;
  /** Time stamped on a newly created tunables document. */
  now: string;
}

/** OpenSearch ISM policies have no `_meta`: the stamp goes into the description, as for pipelines. */
export function ismMarker(meta: { package_version: string; content_sha256: string }): string {
  return `[managed_by: cryptochannel, package_version: ${meta.package_version}, content_sha256: ${meta.content_sha256}]`;
}

function lifecycleAssets(content: Content, options: DesiredOptions): DesiredAsset[] {
  const policies = loadLifecycle(content.roots.integration, options.flavor);
  return Object.entries(policies).map(([name, { policy }]) => {
    const hash = sha256(policy);
    const meta = managedMeta(policy, options.packageVersion);
    const stamped =
      options.flavor === 'elasticsearch'
        ? { policy: { ...policy, _meta: meta } }
        : { policy: { ...policy, description: `${typeof policy.description === 'string' ? `${policy.description} ` : ''}${ismMarker(meta)}` } };
    return { kind: 'lifecycle_policy', name: lifecyclePolicyName(name), target: 'engine', body: stamped, sha256: hash };
  });
}

export function engineAssets(content: Content, options: DesiredOptions): DesiredAsset[] {
  const { flavor, packageVersion } = options;
  const tunables = options.tunables ?? content.tunables;
  const sources = SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s && p.name === 'default'));
  const ctx = { version: packageVersion, packageVersion, flavor };
  const templates = [renderDeadletterTemplate(ctx), ...renderAlertsTemplates(content.fields, ctx), ...sources.flatMap((s) => renderSourceTemplates(s, content.fields, ctx))];
  const ingest = renderIngest({ ...content, pipelines: content.pipelines.filter((p) => p.owner === SHARED || (sources as string[]).includes(p.owner)) }, packageVersion, packageVersion, flavor, tunables);
  const seed = loadThreatIntelSeed(content.roots.integration);
  const tunablesDoc: TunablesDocument = { tunables: { ...tunables }, revision: 1, package_version: packageVersion, updated_at: options.now, updated_by: 'cryptochannel apply' };

  return [
    ...templates.map(
      (t): DesiredAsset => ({ kind: t.kind, name: t.name, target: 'engine', body: t.body, sha256: (t.body._meta as { content_sha256: string }).content_sha256 }),
    ),
    ...lifecycleAssets(content, options),
    ...ingest.scripts.map((s): DesiredAsset => ({ kind: 'stored_script', name: s.id, target: 'engine', body: s.body, sha256: sha256(s.body.script.source) })),
    ...ingest.customPipelines.map((c): DesiredAsset => ({ kind: 'custom_pipeline', name: customPipelineId(c.source), target: 'engine', body: c.body, sha256: sha256(c.body), userOwned: true })),
    ...ingest.pipelines.map((p): DesiredAsset => ({ kind: 'pipeline', name: p.id, target: 'engine', body: p.body, sha256: pipelineMeta(p.body)!.content_sha256 })),
    { kind: 'threat_intel', name: THREAT_INTEL_INDEX, target: 'engine', body: seed, sha256: seed.sha256 },
    { kind: 'tunables', name: TUNABLES_INDEX, target: 'engine', body: tunablesDoc, sha256: sha256(tunablesDoc.tunables), userOwned: true },
  ];
}

/** Elasticsearch ML jobs: one asset per job, job and datafeed together (they install and retire as a pair). */
export function mlAssets(detection: DetectionContent, packageVersion: string): DesiredAsset[] {
  return detection.mlJobs.map((job) => {
    const rendered = renderMlJob(job, packageVersion);
    return { kind: 'ml_job', name: rendered.jobId, target: 'engine', body: rendered, sha256: rendered.meta.content_sha256 };
  });
}

/** OpenSearch alerting monitors and anomaly detectors, named by their stable installed names. */
export function openSearchAssets(detection: DetectionContent, packageVersion: string, tunables: Tunables): DesiredAsset[] {
  const ctx = { packageVersion, tunables: { ...tunables } };
  return [
    ...detection.openSearch.monitors.map((m): DesiredAsset => {
      const r = renderMonitor(m, ctx);
      return { kind: 'monitor', name: r.name, target: 'engine', body: r.body, sha256: r.meta.content_sha256 };
    }),
    ...detection.openSearch.detectors.map((d): DesiredAsset => {
      const r = renderDetector(d, ctx);
      return { kind: 'detector', name: r.name, target: 'engine', body: r.body, sha256: r.meta.content_sha256 };
    }),
  ];
}

export interface KibanaDesiredOptions {
  packageVersion: string;
  tunables: Tunables;
  /** list_id → id of exception lists that already exist in the space; the rest get placeholders until created. */
  exceptionListIds: Record<string, string>;
}

/**
 * Kibana's share: exception lists (the user's once created: analysts edit them), rules (rendered
 * against the lists' ids in the space; apply fills in the ids of lists it creates in the same run),
 * and saved objects (hashed by the builder's manifest).
 */
export function kibanaAssets(detection: DetectionContent, options: KibanaDesiredOptions): DesiredAsset[] {
  const lists = renderExceptionLists(detection.exceptionLists, options.tunables, { packageVersion: options.packageVersion });
  const placeholders = offlineListIds(detection.exceptionLists);
  const ids = { ...placeholders, ...options.exceptionListIds };
  const built = buildSavedObjects(detection.savedObjects, options.packageVersion);
  const shaOf = new Map(built.manifest.objects.map((o) => [`${o.type}/${o.id}`, o.content_sha256]));
  return [
    ...lists.map((l): DesiredAsset => ({ kind: 'exception_list', name: l.list.list_id, target: 'kibana', body: l, sha256: sha256(l), userOwned: true })),
    ...detection.rules.map((rule): DesiredAsset => {
      const payload = renderRule(rule, { lock: detection.lock, exceptionListIds: ids, packageVersion: options.packageVersion, tunables: options.tunables });
      return { kind: 'rule', name: rule.rule.rule_id, target: 'kibana', body: { payload, exceptionLists: rule.metadata.exception_lists }, sha256: payload.meta.content_sha256 };
    }),
    ...built.objects.map((o): DesiredAsset => ({ kind: 'saved_object', name: `${o.type}/${o.id}`, target: 'kibana', body: o, sha256: shaOf.get(`${o.type}/${o.id}`)! })),
  ];
}

/**
 * Everything one flavour's `apply` would install, rendered without a cluster (the default tunables;
 * Kibana exception-list ids as placeholders, which apply replaces with the ids Kibana assigns).
 */
export function offlineAssets(content: Content, detection: DetectionContent, options: { flavor: 'elasticsearch' | 'opensearch'; packageVersion: string; now: string }): DesiredAsset[] {
  const base = engineAssets(content, { flavor: options.flavor, packageVersion: options.packageVersion, now: options.now });
  if (options.flavor === 'opensearch') return [...base, ...openSearchAssets(detection, options.packageVersion, content.tunables)];
  return [...base, ...mlAssets(detection, options.packageVersion), ...kibanaAssets(detection, { packageVersion: options.packageVersion, tunables: content.tunables, exceptionListIds: {} })];
}
