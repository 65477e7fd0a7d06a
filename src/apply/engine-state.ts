/**
 * What the engine holds of cryptochannel's kinds of asset: every asset that carries our stamp (so an
 * upgrade can retire old versions and uninstall can find everything), every asset Fleet installed
 * for the cryptochannel package (so the planner leaves Fleet's share to Fleet), every asset a
 * desired one would collide with, and the user-owned ones (live tunables, @custom pipelines).
 */
import { searchAllShards, type ClusterClient } from '../cluster';
import { customPipelineId, MONITOR_NAME_PREFIX, mlJobMeta, openSearchMeta, pipelineMeta, sha256, SOURCES, THREAT_INTEL_INDEX, type ManagedMeta } from '../content';
import { TUNABLES_DOC_ID, TUNABLES_INDEX } from '../plan/desired';
import { isFleetMeta } from '../plan/fleet';
import { TEST_PACKAGE_VERSION } from '../plan/plan';
import type { AssetKind, ObservedAsset } from '../plan/types';

const MARKER = /\[managed_by: (cryptochannel), package_version: ([^,]+), content_sha256: ([0-9a-f]+)\]$/;

/** The doc in the threat-intel index that records which seed was loaded, by which version. */
export const INTEL_SEED_DOC = '_seed';

function markerMeta(text: unknown): ManagedMeta | undefined {
  const m = typeof text === 'string' ? MARKER.exec(text) : null;
  return m ? { managed_by: 'cryptochannel', package_version: m[2]!, content_sha256: m[3]! } : undefined;
}

function ourMeta(meta: unknown): ManagedMeta | undefined {
  return meta && typeof meta === 'object' && (meta as ManagedMeta).managed_by === 'cryptochannel' ? (meta as ManagedMeta) : undefined;
}

/** `{fleet: true}` for an asset whose `_meta` says Fleet installed it for our package, else nothing. */
const fleetMark = (meta: unknown): { fleet?: true } => (isFleetMeta(meta) ? { fleet: true } : {});

export interface EngineState {
  assets: ObservedAsset[];
  /** Kinds this engine cannot hold, with why (no ISM plugin, for example). */
  unsupported: Partial<Record<AssetKind, string>>;
  /** seq_no/primary_term of documents apply must update optimistically. */
  versions: Record<string, { if_seq_no: number; if_primary_term: number }>;
  /** Server-assigned ids of assets known by name (monitors, detectors), by `kind:name`. */
  ids: Record<string, string>;
}

async function templates(client: ClusterClient, kind: 'component_template' | 'index_template', wanted: Set<string>): Promise<ObservedAsset[]> {
  const path = kind === 'component_template' ? '/_component_template' : '/_index_template';
  const listKey = kind === 'component_template' ? 'component_templates' : 'index_templates';
  // An engine with none of a kind answers 404 rather than an empty list.
  const { body } = await client.request<Record<string, Array<Record<string, unknown>>>>({ method: 'GET', path, ignore: [404] });
  const out: ObservedAsset[] = [];
  for (const entry of body[listKey] ?? []) {
    const name = entry.name as string;
    const raw = (entry[kind] as Record<string, unknown> | undefined)?._meta;
    const meta = ourMeta(raw);
    const fleet = fleetMark(raw);
    if (meta || fleet.fleet || wanted.has(name)) out.push({ kind, name, target: 'engine', meta, ...fleet });
  }
  return out;
}

async function lifecyclePolicies(client: ClusterClient, wanted: Set<string>, state: EngineState): Promise<ObservedAsset[]> {
  if (client.flavor === 'elasticsearch') {
    const res = await client.request<Record<string, { policy?: { _meta?: unknown } }>>({ method: 'GET', path: '/_ilm/policy', ignore: [404] });
    return Object.entries(res.status === 404 ? {} : res.body)
      .map(([name, p]): ObservedAsset => ({ kind: 'lifecycle_policy', name, target: 'engine', meta: ourMeta(p.policy?._meta), ...fleetMark(p.policy?._meta) }))
      .filter((o) => o.meta || o.fleet || wanted.has(o.name));
  }
  const res = await client.request<{ policies?: Array<{ _id: string; _seq_no: number; _primary_term: number; policy: { description?: string } }> }>({
    method: 'GET',
    path: '/_plugins/_ism/policies',
    ignore: [400, 404, 405],
  });
  if (res.status !== 200) {
    state.unsupported.lifecycle_policy = 'the ISM plugin (index-management) is not installed: retention is left to you';
    return [];
  }
  const out: ObservedAsset[] = [];
  for (const p of res.body.policies ?? []) {
    const meta = markerMeta(p.policy.description);
    if (meta || wanted.has(p._id)) out.push({ kind: 'lifecycle_policy', name: p._id, target: 'engine', meta });
    state.versions[`lifecycle_policy:${p._id}`] = { if_seq_no: p._seq_no, if_primary_term: p._primary_term };
  }
  return out;
}

/** Stored scripts carry no metadata: ours are the ones named `cryptochannel-<version>-<content script>`. */
async function storedScripts(client: ClusterClient, scriptNames: string[], wanted: Set<string>): Promise<ObservedAsset[]> {
  const { body } = await client.request<{ metadata?: { stored_scripts?: Record<string, { source: string }> } }>({
    method: 'GET',
    path: '/_cluster/state/metadata',
    query: { filter_path: 'metadata.stored_scripts' },
  });
  const ours = new RegExp(`^cryptochannel-(.+)-(${scriptNames.map((n) => n.replace(/[^a-z0-9_]/gi, '')).join('|')})$`);
  const out: ObservedAsset[] = [];
  for (const [id, script] of Object.entries(body.metadata?.stored_scripts ?? {})) {
    const m = ours.exec(id);
    if (!m && !wanted.has(id)) continue;
    const hash = sha256(script.source);
    // Test runs install scripts under `test-<id>` / `corpus-<id>` versions: stamp them as the tests' own.
    const version = m ? (/^(test|corpus)-/.test(m[1]!) ? TEST_PACKAGE_VERSION : m[1]!) : undefined;
    out.push({ kind: 'stored_script', name: id, target: 'engine', sha256: hash, meta: version ? { managed_by: 'cryptochannel', package_version: version, content_sha256: hash } : undefined });
  }
  return out;
}

async function pipelines(client: ClusterClient, wanted: Set<string>): Promise<ObservedAsset[]> {
  const res = await client.request<Record<string, Record<string, unknown>>>({ method: 'GET', path: '/_ingest/pipeline', ignore: [404] });
  const body = res.status === 404 ? {} : res.body;
  const customs = new Set(SOURCES.map((s) => customPipelineId(s)));
  const out: ObservedAsset[] = [];
  for (const [id, pipeline] of Object.entries(body)) {
    // Elasticsearch pipelines hold `_meta` (Fleet stamps its own); OpenSearch ones do not.
    const fleet = fleetMark(pipeline._meta);
    if (customs.has(id)) {
      out.push({ kind: 'custom_pipeline', name: id, target: 'engine', ...fleet });
      continue;
    }
    // A package may bring our description marker along; Fleet's stamp says whose it is now.
    const meta = fleet.fleet ? undefined : pipelineMeta(pipeline);
    if (meta || fleet.fleet || wanted.has(id)) out.push({ kind: 'pipeline', name: id, target: 'engine', meta, ...fleet });
  }
  return out;
}

async function threatIntel(client: ClusterClient): Promise<ObservedAsset[]> {
  const exists = await client.request({ method: 'HEAD', path: `/${THREAT_INTEL_INDEX}`, ignore: [404] });
  if (exists.status === 404) return [];
  const seed = await client.request<{ _source?: { meta?: unknown } }>({ method: 'GET', path: `/${THREAT_INTEL_INDEX}/_doc/${INTEL_SEED_DOC}`, ignore: [404] });
  return [{ kind: 'threat_intel', name: THREAT_INTEL_INDEX, target: 'engine', meta: ourMeta(seed.body._source?.meta) }];
}

async function tunables(client: ClusterClient, state: EngineState): Promise<ObservedAsset[]> {
  const res = await client.request<{ _source?: unknown; _seq_no?: number; _primary_term?: number }>({ method: 'GET', path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`, ignore: [404] });
  if (res.status === 404 || !res.body._source) return [];
  state.versions[`tunables:${TUNABLES_INDEX}`] = { if_seq_no: res.body._seq_no!, if_primary_term: res.body._primary_term! };
  return [{ kind: 'tunables', name: TUNABLES_INDEX, target: 'engine', body: res.body._source }];
}

/** ML needs a licence and the ml node role: ask the engine rather than guess. */
async function mlJobs(client: ClusterClient, state: EngineState): Promise<ObservedAsset[]> {
  const info = await client.request({ method: 'GET', path: '/_ml/info', ignore: [400, 403, 404, 405, 500] });
  if (info.status !== 200) {
    state.unsupported.ml_job = 'machine learning is not available on this cluster (licence or node roles)';
    return [];
  }
  const res = await client.request<{ jobs?: Array<Record<string, unknown>> }>({ method: 'GET', path: '/_ml/anomaly_detectors/cryptochannel*', query: { allow_no_match: true } });
  return (res.body.jobs ?? []).map((job) => ({ kind: 'ml_job' as const, name: String(job.job_id), target: 'engine' as const, meta: mlJobMeta(job) }));
}

/** Monitors and detectors are found by name (their ids are the plugin's) and the id kept for updates. */
async function pluginObjects(client: ClusterClient, kind: 'monitor' | 'detector', state: EngineState): Promise<ObservedAsset[]> {
  const base = kind === 'monitor' ? '/_plugins/_alerting/monitors' : '/_plugins/_anomaly_detection/detectors';
  const field = kind === 'monitor' ? 'monitor.name.keyword' : 'name.keyword';
  const prefix = kind === 'monitor' ? MONITOR_NAME_PREFIX : 'cryptochannel-';
  // A monitor a failed shard hid would be planned as a create, and installed twice: searchAllShards refuses that.
  const res = await searchAllShards<{ hits?: { hits?: Array<{ _id: string; _seq_no?: number; _primary_term?: number; _source?: Record<string, unknown> }> } }>(client, {
    path: `${base}/_search`,
    body: { size: 1000, query: { prefix: { [field]: prefix } } },
    ignore: [400, 404, 405],
  });
  if (res.status !== 200) {
    state.unsupported[kind] = `the ${kind === 'monitor' ? 'alerting' : 'anomaly-detection'} plugin is not installed`;
    return [];
  }
  return (res.body.hits?.hits ?? []).map((hit) => {
    const source = (kind === 'monitor' ? (hit._source?.monitor as Record<string, unknown> | undefined) : hit._source) ?? {};
    const name = String(source.name);
    state.ids[`${kind}:${name}`] = hit._id;
    if (hit._seq_no !== undefined) state.versions[`${kind}:${name}`] = { if_seq_no: hit._seq_no, if_primary_term: hit._primary_term! };
    return { kind, name, target: 'engine' as const, meta: openSearchMeta(source) };
  });
}

export async function observeEngine(client: ClusterClient, wanted: Array<{ kind: AssetKind; name: string }>, scriptNames: string[]): Promise<EngineState> {
  const names = (kind: AssetKind) => new Set(wanted.filter((w) => w.kind === kind).map((w) => w.name));
  const state: EngineState = { assets: [], unsupported: {}, versions: {}, ids: {} };
  state.assets.push(
    ...(await templates(client, 'component_template', names('component_template'))),
    ...(await templates(client, 'index_template', names('index_template'))),
    ...(await lifecyclePolicies(client, names('lifecycle_policy'), state)),
    ...(await storedScripts(client, scriptNames, names('stored_script'))),
    ...(await pipelines(client, new Set([...names('pipeline')]))),
    ...(await threatIntel(client)),
    ...(await tunables(client, state)),
  );
  if (client.flavor === 'elasticsearch') {
    state.assets.push(...(await mlJobs(client, state)));
    state.unsupported.monitor = 'OpenSearch alerting monitors: this is Elasticsearch (its rules are Kibana rules)';
    state.unsupported.detector = 'OpenSearch anomaly detectors: this is Elasticsearch (its ML jobs are installed instead)';
  } else {
    state.assets.push(...(await pluginObjects(client, 'monitor', state)), ...(await pluginObjects(client, 'detector', state)));
    state.unsupported.ml_job = 'Elasticsearch ML jobs: this is OpenSearch (its anomaly detectors are installed instead)';
  }
  return state;
}
