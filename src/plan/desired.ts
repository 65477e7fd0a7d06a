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
  type Content,
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
