/**
 * The run log: one document per run in `cryptochannel-runs`, with the fields kibana-assets/fields/
 * runs.yml declares (the same file the runs dashboard and data view are checked against), so the
 * index is created on first use with mappings derived from that file and nothing else.
 */
import { encodePath, type ClusterClient } from '../cluster';
import type { RunsFields } from '../content';
import { ensureIndex } from './checkpoint';

/** Dotted field names from runs.yml → nested `properties` mappings. */
export function runsMappings(fields: RunsFields): { dynamic: false; properties: Record<string, unknown> } {
  const root: Record<string, { type?: string; properties?: Record<string, unknown> }> = {};
  for (const field of fields.fields) {
    const parts = field.name === '@timestamp' ? ['@timestamp'] : field.name.split('.');
    let node = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node[part] = { type: field.type };
        return;
      }
      const next = (node[part] ??= { properties: {} });
      node = next.properties as typeof root;
    });
  }
  // dynamic false: a field runs.yml does not declare is kept in _source but never mapped by guess.
  return { dynamic: false, properties: root };
}

/**
 * Creates the run log with runs.yml's mappings, and adds the fields a newer runs.yml declares to an
 * existing one (additive, so safe on every run). A role that may not change mappings (403) leaves
 * new fields unmapped until the index is recreated; their values are still kept in _source.
 */
export async function ensureRunsIndex(client: ClusterClient, fields: RunsFields): Promise<void> {
  const mappings = runsMappings(fields);
  await ensureIndex(client, fields.index, mappings);
  await client.request({ method: 'PUT', path: `${encodePath(fields.index)}/_mapping`, body: { properties: mappings.properties }, ignore: [403] });
}

/** Flat `cryptochannel.run.*` values (as runs.yml names them) → the nested run document. */
export function runDocument(values: Record<string, unknown>): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const parts = name === '@timestamp' ? ['@timestamp'] : name.split('.');
    let node = doc;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Record<string, unknown>;
    });
  }
  return doc;
}

/** Writes (or, for the same run id, rewrites) a run's summary; refreshed, so the runs dashboard shows it at once. */
export async function recordRun(client: ClusterClient, fields: RunsFields, runId: string, values: Record<string, unknown>): Promise<void> {
  const declared = new Set(fields.fields.map((f) => f.name));
  const undeclared = Object.keys(values).filter((k) => !declared.has(k));
  // A field the assets cannot see is a bug here, not something to store quietly.
  if (undeclared.length) throw new Error(`run summary fields not declared in kibana-assets/fields/runs.yml: ${undeclared.join(', ')}`);
  await ensureRunsIndex(client, fields);
  await client.request({ method: 'PUT', path: encodePath(fields.index, '_doc', runId), query: { refresh: 'true' }, body: runDocument(values) });
}
