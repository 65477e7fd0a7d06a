/**
 * Carries out one plan item on the engine. Each kind has its create/update and delete call; the
 * threat-intel seed and the tunables document are documents in their own indices.
 */
import { bulk, type ClusterClient } from '../cluster';
import { managedMeta, THREAT_INTEL_INDEX, THREAT_INTEL_MAPPINGS, type IntelDocument, type RenderedMlJob, type ThreatIntelSeed } from '../content';
import { TUNABLES_DOC_ID, TUNABLES_INDEX } from '../plan/desired';
import type { PlanItem } from '../plan/types';
import type { EngineState } from './engine-state';
import { INTEL_SEED_DOC } from './engine-state';

const enc = encodeURIComponent;

/** The tunables document is read whole by the deployer and the correlator; nothing in it is searched. */
const TUNABLES_MAPPINGS = { dynamic: false, properties: { tunables: { type: 'object', enabled: false }, revision: { type: 'long' }, package_version: { type: 'keyword' }, updated_at: { type: 'date' }, updated_by: { type: 'keyword' } } };

async function ensureIndex(client: ClusterClient, index: string, mappings: unknown): Promise<void> {
  const exists = await client.request({ method: 'HEAD', path: `/${index}`, ignore: [404] });
  if (exists.status === 404) {
    await client.request({ method: 'PUT', path: `/${index}`, body: { settings: { index: { number_of_replicas: 0, auto_expand_replicas: '0-1' } }, mappings }, ignore: [400] });
  }
}

/**
 * Indexes indicator documents by their deterministic ids (`ja3:<md5>`, `cert_sha1:<SHA1>`): loading
 * a list twice, or a newer copy of it, updates in place and never duplicates.
 */
export async function indexIndicators(client: ClusterClient, documents: IntelDocument[]): Promise<number> {
  await ensureIndex(client, THREAT_INTEL_INDEX, THREAT_INTEL_MAPPINGS);
  let indexed = 0;
  for (let i = 0; i < documents.length; i += 1000) {
    const batch = documents.slice(i, i + 1000);
    const result = await bulk(client, batch.map((d) => ({ action: { index: { _index: THREAT_INTEL_INDEX, _id: d._id } }, document: d.doc })), { refresh: 'wait_for' });
    const failed = result.items.filter((item) => Object.values(item)[0]?.error);
    if (failed.length) throw new Error(`${failed.length} threat-intel documents were refused: ${JSON.stringify(Object.values(failed[0]!)[0]?.error)}`);
    indexed += batch.length;
  }
  return indexed;
}

async function loadIntel(client: ClusterClient, seed: ThreatIntelSeed, packageVersion: string): Promise<void> {
  await indexIndicators(client, seed.documents);
  // The seed marker: which seed (by hash) a version loaded. Documents a user added stay as they are.
  await client.request({
    method: 'PUT',
    path: `/${THREAT_INTEL_INDEX}/_doc/${INTEL_SEED_DOC}`,
    query: { refresh: 'true' },
    body: { meta: managedMeta(seed.documents, packageVersion), files: seed.files, count: seed.documents.length },
  });
}

export async function applyEngineItem(client: ClusterClient, item: PlanItem, state: EngineState, packageVersion: string): Promise<void> {
  const create = item.action === 'create';
  switch (item.kind) {
    case 'component_template':
      await client.request({ method: item.action === 'delete' ? 'DELETE' : 'PUT', path: `/_component_template/${enc(item.name)}`, body: item.action === 'delete' ? undefined : item.body });
      return;
    case 'index_template':
      await client.request({ method: item.action === 'delete' ? 'DELETE' : 'PUT', path: `/_index_template/${enc(item.name)}`, body: item.action === 'delete' ? undefined : item.body });
      return;
    case 'lifecycle_policy': {
      if (client.flavor === 'elasticsearch') {
        await client.request({ method: item.action === 'delete' ? 'DELETE' : 'PUT', path: `/_ilm/policy/${enc(item.name)}`, body: item.action === 'delete' ? undefined : item.body });
        return;
      }
      const version = state.versions[`lifecycle_policy:${item.name}`];
      if (item.action === 'delete') await client.request({ method: 'DELETE', path: `/_plugins/_ism/policies/${enc(item.name)}` });
      else await client.request({ method: 'PUT', path: `/_plugins/_ism/policies/${enc(item.name)}`, query: create || !version ? undefined : { ...version }, body: item.body });
      return;
    }
    case 'stored_script':
      if (item.action === 'delete') await client.request({ method: 'DELETE', path: `/_scripts/${enc(item.name)}` });
      else await client.request({ method: 'PUT', path: `/_scripts/${enc(item.name)}`, body: item.body });
      return;
    case 'pipeline':
    case 'custom_pipeline':
      if (item.action === 'delete') await client.request({ method: 'DELETE', path: `/_ingest/pipeline/${enc(item.name)}` });
      else await client.request({ method: 'PUT', path: `/_ingest/pipeline/${enc(item.name)}`, body: item.body });
      return;
    case 'threat_intel':
      if (item.action === 'delete') await client.request({ method: 'DELETE', path: `/${THREAT_INTEL_INDEX}`, ignore: [404] });
      else await loadIntel(client, item.body as ThreatIntelSeed, packageVersion);
      return;
    case 'tunables': {
      if (item.action === 'delete') {
        await client.request({ method: 'DELETE', path: `/${TUNABLES_INDEX}`, ignore: [404] });
        return;
      }
      await ensureIndex(client, TUNABLES_INDEX, TUNABLES_MAPPINGS);
      // Never over a concurrent edit: create only if absent, update only the version that was planned on.
      const version = state.versions[`tunables:${TUNABLES_INDEX}`];
      if (create) await client.request({ method: 'PUT', path: `/${TUNABLES_INDEX}/_create/${TUNABLES_DOC_ID}`, query: { refresh: 'true' }, body: item.body });
      else await client.request({ method: 'PUT', path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`, query: { refresh: 'true', ...(version ?? {}) }, body: item.body });
      return;
    }
    case 'ml_job':
      await applyMlJob(client, item);
      return;
    case 'monitor':
    case 'detector': {
      const base = item.kind === 'monitor' ? '/_plugins/_alerting/monitors' : '/_plugins/_anomaly_detection/detectors';
      const id = state.ids[`${item.kind}:${item.name}`];
      if (item.action === 'delete') await client.request({ method: 'DELETE', path: `${base}/${enc(id ?? '')}` });
      else if (create || !id) await client.request({ method: 'POST', path: base, body: item.body, idempotent: false });
      else await client.request({ method: 'PUT', path: `${base}/${enc(id)}`, query: state.versions[`${item.kind}:${item.name}`], body: item.body });
      return;
    }
    default:
      throw new Error(`${item.kind} is not an engine asset`);
  }
}

/**
 * An ML job's detectors cannot change in place: an update stops and removes the datafeed and the job,
 * then recreates both (the model learnt so far is lost, which the plan's reason says). A new job is
 * installed closed with its datafeed stopped: opening it is the user's decision (licence, capacity).
 */
async function applyMlJob(client: ClusterClient, item: PlanItem): Promise<void> {
  const job = item.body as RenderedMlJob | undefined;
  const jobId = job?.jobId ?? item.name;
  const feedId = job?.datafeedId ?? `datafeed-${item.name}`;
  if (item.action !== 'create') {
    await client.request({ method: 'POST', path: `/_ml/datafeeds/${enc(feedId)}/_stop`, query: { force: 'true' }, ignore: [404, 409] });
    await client.request({ method: 'DELETE', path: `/_ml/datafeeds/${enc(feedId)}`, query: { force: 'true' }, ignore: [404] });
    await client.request({ method: 'DELETE', path: `/_ml/anomaly_detectors/${enc(jobId)}`, query: { force: 'true' }, ignore: [404] });
  }
  if (item.action === 'delete' || !job) return;
  await client.request({ method: 'PUT', path: `/_ml/anomaly_detectors/${enc(jobId)}`, body: job.job });
  await client.request({ method: 'PUT', path: `/_ml/datafeeds/${enc(feedId)}`, body: job.datafeed });
}
