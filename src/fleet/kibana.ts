/**
 * The package's `kibana/` assets, from the same renderers `apply` uses:
 * - `security_rule/<rule_id>.json`: the rule payload `apply` sends, as a `security-rule` saved object.
 *   Two fields stay out: `exceptions_list` (Fleet cannot create exception lists, and a rule may only
 *   name lists that exist; `apply --runtime-only` creates them) and `meta` (cryptochannel's ownership
 *   stamp: a rule installed through Fleet is Fleet's);
 * - `ml_module/cryptochannel-ml.json`: every ML job with its datafeed, as one ML module (Fleet
 *   installs modules; the user creates the jobs from it in Kibana);
 * - dashboards, Lens panels, saved searches, data views and tags, exactly as `apply` imports them.
 */
import {
  buildSavedObjects,
  offlineListIds,
  renderMlJob,
  renderRule,
  type DetectionContent,
  type KibanaSavedObject,
  type Tunables,
} from '../content';

export interface FleetAsset {
  /** Path inside the package, below `kibana/`. */
  path: string;
  body: Record<string, unknown>;
}

/** package-spec's folder for each saved-object type. */
const FOLDER: Record<KibanaSavedObject['type'], string> = {
  tag: 'tag',
  'index-pattern': 'index_pattern',
  search: 'search',
  lens: 'lens',
  dashboard: 'dashboard',
};

export const ML_MODULE_ID = 'cryptochannel-ml';

export function securityRuleAssets(detection: DetectionContent, packageVersion: string, tunables: Tunables): FleetAsset[] {
  const ids = offlineListIds(detection.exceptionLists);
  return detection.rules.map((rule) => {
    const { meta: _meta, exceptions_list: _lists, ...attributes } = renderRule(rule, { lock: detection.lock, exceptionListIds: ids, packageVersion, tunables });
    return { path: `security_rule/${rule.rule.rule_id}.json`, body: { id: rule.rule.rule_id, type: 'security-rule', attributes } };
  });
}

export function mlModuleAsset(detection: DetectionContent, packageVersion: string): FleetAsset {
  const jobs = detection.mlJobs.map((job) => renderMlJob(job, packageVersion));
  const source = detection.mlJobs;
  return {
    path: `ml_module/${ML_MODULE_ID}.json`,
    body: {
      id: ML_MODULE_ID,
      type: 'ml-module',
      attributes: {
        id: ML_MODULE_ID,
        title: 'cryptochannel: asymmetric-crypto C2 (T1573.002)',
        description: `Anomaly detection jobs for cryptochannel's analytics (${[...new Set(source.flatMap((j) => j.analytics))].sort().join(', ')}): rare TLS fingerprints and crypto libraries, high payload entropy, lopsided byte ratios, rare ESXi management peers.`,
        type: 'Logs',
        logo: { icon: 'securityAnalyticsApp' },
        defaultIndexPattern: 'logs-cryptochannel.*',
        query: { bool: { filter: [{ prefix: { 'event.dataset': 'cryptochannel.' } }] } },
        // The job and datafeed bodies `apply` sends, less the ownership marker `apply` adds to custom_settings.
        jobs: jobs.map((j, i) => ({ id: j.jobId, config: { ...source[i]!.job } })),
        datafeeds: jobs.map((j) => ({ id: j.datafeedId, job_id: j.jobId, config: j.datafeed })),
      },
    },
  };
}

export function savedObjectAssets(detection: DetectionContent, packageVersion: string): FleetAsset[] {
  return buildSavedObjects(detection.savedObjects, packageVersion).objects.map((o) => ({
    path: `${FOLDER[o.type]}/${o.id}.json`,
    body: o as unknown as Record<string, unknown>,
  }));
}
