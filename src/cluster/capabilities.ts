import type { ClusterClient } from './client';
import { executePainless } from './api';
import { ClusterError } from './errors';

/** What cryptochannel needs from a node, each checked for real rather than inferred from a version. */
export const REQUIRED_CAPABILITIES = [
  'ingest_role',
  'painless',
  'processor:script',
  'processor:community_id',
  'processor:fingerprint',
  'composable_templates',
  'data_streams',
] as const;
export type Capability = (typeof REQUIRED_CAPABILITIES)[number];

export interface CapabilityReport {
  ok: boolean;
  present: Capability[];
  missing: Array<{ capability: Capability; detail: string }>;
  roles: string[];
  processors: string[];
}

interface NodesInfo {
  nodes: Record<string, { roles?: string[]; ingest?: { processors?: Array<{ type: string }> } }>;
}

async function probe(check: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await check();
    return undefined;
  } catch (err) {
    return err instanceof ClusterError ? err.message : String(err);
  }
}

/** Checks the node that answers at the client's URL; a missing piece is named with the reason. */
export async function checkCapabilities(client: ClusterClient): Promise<CapabilityReport> {
  const { body } = await client.request<NodesInfo>({ method: 'GET', path: '/_nodes/_local/ingest', query: { filter_path: 'nodes.*.roles,nodes.*.ingest.processors' } });
  const node = Object.values(body.nodes ?? {})[0];
  const roles = node?.roles ?? [];
  const processors = (node?.ingest?.processors ?? []).map((p) => p.type).sort();

  const missing: CapabilityReport['missing'] = [];
  if (!roles.includes('ingest')) missing.push({ capability: 'ingest_role', detail: `node roles are [${roles.join(', ')}]: ingest pipelines will not run on it` });
  for (const processor of ['script', 'community_id', 'fingerprint']) {
    if (!processors.includes(processor)) {
      missing.push({ capability: `processor:${processor}` as Capability, detail: `ingest processor '${processor}' is not installed (ingest-common module)` });
    }
  }
  const painless = await probe(async () => {
    const result = await executePainless(client, 'params.a + 1', { a: 41 });
    if (String(result) !== '42') throw new Error(`painless returned ${JSON.stringify(result)} for 41 + 1`);
  });
  if (painless) missing.push({ capability: 'painless', detail: `painless does not run: ${painless}` });
  const templates = await probe(() => client.request({ method: 'GET', path: '/_index_template' }));
  if (templates) missing.push({ capability: 'composable_templates', detail: templates });
  const streams = await probe(() => client.request({ method: 'GET', path: '/_data_stream' }));
  if (streams) missing.push({ capability: 'data_streams', detail: streams });

  const missingNames = new Set(missing.map((m) => m.capability));
  return {
    ok: missing.length === 0,
    present: REQUIRED_CAPABILITIES.filter((c) => !missingNames.has(c)),
    missing,
    roles,
    processors,
  };
}
