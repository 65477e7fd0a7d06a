/**
 * Installs what ingestion needs: stored scripts, pipelines, component and index templates for the
 * sources and the dead-letter stream. Each asset is written only when it is missing or its content
 * hash differs, so a second run changes nothing. (The full deployer, with plan, conflicts and
 * uninstall, is `cryptochannel apply`; this is the piece `ingest` and the demo stand on.)
 */
import {
  getPipeline,
  getStoredScript,
  putComponentTemplate,
  putIndexTemplate,
  putPipeline,
  putStoredScript,
  type ClusterClient,
} from '../cluster';
import { lifecyclePolicyName, loadLifecycle, pipelineMeta, renderAlertsTemplates, renderDeadletterTemplate, renderIngest, renderSourceTemplates, sha256, SOURCES, type Content, type ManagedMeta } from '../content';

export interface AssetResult {
  kind: 'stored_script' | 'pipeline' | 'component_template' | 'index_template' | 'lifecycle_policy';
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'skipped';
  reason?: string;
}

/**
 * ILM on Elasticsearch; ISM on OpenSearch when its plugin is installed (it is not on every cluster,
 * nor on the engine the tests run on). A policy that exists is left alone: retention is the user's.
 */
async function ensureLifecycle(client: ClusterClient, content: Content): Promise<AssetResult[]> {
  const policies = loadLifecycle(content.roots.integration, client.flavor);
  const results: AssetResult[] = [];
  for (const [name, body] of Object.entries(policies)) {
    const id = lifecyclePolicyName(name);
    const path = client.flavor === 'elasticsearch' ? `/_ilm/policy/${id}` : `/_plugins/_ism/policies/${id}`;
    const existing = await client.request({ method: 'GET', path, ignore: [400, 404, 405] });
    if (existing.status === 200) {
      results.push({ kind: 'lifecycle_policy', name: id, action: 'unchanged' });
      continue;
    }
    const missingPlugin = client.flavor === 'opensearch' && JSON.stringify(existing.body).includes('no handler found');
    if (missingPlugin) {
      results.push({ kind: 'lifecycle_policy', name: id, action: 'skipped', reason: 'the ISM plugin is not installed' });
      continue;
    }
    await client.request({ method: 'PUT', path, body });
    results.push({ kind: 'lifecycle_policy', name: id, action: 'created' });
  }
  return results;
}

async function templateMeta(client: ClusterClient, kind: 'component_template' | 'index_template', name: string): Promise<ManagedMeta | undefined> {
  const path = kind === 'component_template' ? `/_component_template/${encodeURIComponent(name)}` : `/_index_template/${encodeURIComponent(name)}`;
  const { status, body } = await client.request<Record<string, Array<Record<string, Record<string, unknown>>>>>({ method: 'GET', path, ignore: [404] });
  if (status === 404) return undefined;
  const list = body[kind === 'component_template' ? 'component_templates' : 'index_templates'] ?? [];
  const entry = list[0]?.[kind];
  return entry?._meta as ManagedMeta | undefined;
}

export async function ensureIngestAssets(client: ClusterClient, content: Content, version: string): Promise<AssetResult[]> {
  const results: AssetResult[] = await ensureLifecycle(client, content);
  const rendered = renderIngest(content, version, version, client.flavor);
  for (const script of rendered.scripts) {
    const existing = await getStoredScript(client, script.id);
    if (existing && sha256(existing.source) === sha256(script.body.script.source)) {
      results.push({ kind: 'stored_script', name: script.id, action: 'unchanged' });
      continue;
    }
    await putStoredScript(client, script.id, script.body.script.source);
    results.push({ kind: 'stored_script', name: script.id, action: existing ? 'updated' : 'created' });
  }
  // The user's @custom pipelines: created when missing, never overwritten (they are the user's).
  for (const custom of rendered.customPipelines) {
    if (await getPipeline(client, custom.id)) {
      results.push({ kind: 'pipeline', name: custom.id, action: 'unchanged', reason: 'yours: never overwritten' });
      continue;
    }
    await putPipeline(client, custom.id, custom.body);
    results.push({ kind: 'pipeline', name: custom.id, action: 'created' });
  }
  for (const pipeline of rendered.pipelines) {
    const existing = await getPipeline(client, pipeline.id);
    const want = pipelineMeta(pipeline.body)?.content_sha256;
    if (existing && pipelineMeta(existing)?.content_sha256 === want) {
      results.push({ kind: 'pipeline', name: pipeline.id, action: 'unchanged' });
      continue;
    }
    await putPipeline(client, pipeline.id, pipeline.body);
    results.push({ kind: 'pipeline', name: pipeline.id, action: existing ? 'updated' : 'created' });
  }
  const ctx = { version, packageVersion: version, flavor: client.flavor };
  const sources = SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s && p.name === 'default'));
  const templates = [renderDeadletterTemplate(ctx), ...renderAlertsTemplates(content.fields, ctx), ...sources.flatMap((s) => renderSourceTemplates(s, content.fields, ctx))];
  // Component templates first: an index template may only name ones that exist.
  for (const t of [...templates.filter((t) => t.kind === 'component_template'), ...templates.filter((t) => t.kind === 'index_template')]) {
    const existing = await templateMeta(client, t.kind, t.name);
    if (existing?.content_sha256 === (t.body._meta as ManagedMeta).content_sha256) {
      results.push({ kind: t.kind, name: t.name, action: 'unchanged' });
      continue;
    }
    if (t.kind === 'component_template') await putComponentTemplate(client, t.name, t.body);
    else await putIndexTemplate(client, t.name, t.body);
    results.push({ kind: t.kind, name: t.name, action: existing ? 'updated' : 'created' });
  }
  return results;
}
