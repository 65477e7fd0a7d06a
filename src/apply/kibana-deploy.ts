/**
 * Kibana's share of a deployment: what a space holds of our exception lists, rules and saved
 * objects, and the calls that install them. Kibana rewrites imported saved objects, so their hashes
 * cannot be read back: the manifest of what was imported is kept in the engine (`cryptochannel-state`).
 */
import type { ClusterClient, KibanaClient } from '../cluster';
import { managedMeta, toNdjson, type KibanaSavedObject, type ManagedMeta, type RenderedExceptionList, type RenderedRule } from '../content';
import { isFleetRule, isFleetSavedObject } from '../plan/fleet';
import type { ObservedAsset, PlanItem } from '../plan/types';

export const STATE_INDEX = 'cryptochannel-state';
const manifestDoc = (space: string) => `kibana-saved-objects@${space}`;

type SavedObjectManifest = Record<string, ManagedMeta>;

export interface KibanaState {
  assets: ObservedAsset[];
  /** list_id → id of our exception lists in the space. */
  listIds: Record<string, string>;
  manifest: SavedObjectManifest;
}

function ourMeta(meta: unknown): ManagedMeta | undefined {
  return meta && typeof meta === 'object' && (meta as ManagedMeta).managed_by === 'cryptochannel' ? (meta as ManagedMeta) : undefined;
}

async function readManifest(engine: ClusterClient, space: string): Promise<SavedObjectManifest> {
  const res = await engine.request<{ _source?: { objects?: SavedObjectManifest } }>({ method: 'GET', path: `/${STATE_INDEX}/_doc/${encodeURIComponent(manifestDoc(space))}`, ignore: [404] });
  return res.status === 404 ? {} : (res.body._source?.objects ?? {});
}

export async function writeManifest(engine: ClusterClient, space: string, objects: SavedObjectManifest): Promise<void> {
  await engine.request({
    method: 'PUT',
    path: `/${STATE_INDEX}/_doc/${encodeURIComponent(manifestDoc(space))}`,
    query: { refresh: 'true' },
    body: { objects },
  });
}

export async function observeKibana(kibana: KibanaClient, engine: ClusterClient, wanted: Array<{ kind: string; name: string }>): Promise<KibanaState> {
  const state: KibanaState = { assets: [], listIds: {}, manifest: await readManifest(engine, kibana.space) };
  for (const w of wanted.filter((x) => x.kind === 'exception_list')) {
    const res = await kibana.request<{ id?: string }>({ method: 'GET', path: '/api/exception_lists', query: { list_id: w.name, namespace_type: 'single' }, ignore: [404] });
    if (res.status === 404) continue;
    if (res.body.id) state.listIds[w.name] = res.body.id;
    state.assets.push({ kind: 'exception_list', name: w.name, target: 'kibana' });
  }
  for (const w of wanted.filter((x) => x.kind === 'rule')) {
    const res = await kibana.request<{ meta?: unknown; tags?: string[]; author?: string[]; immutable?: boolean; rule_source?: unknown }>({
      method: 'GET',
      path: '/api/detection_engine/rules',
      query: { rule_id: w.name },
      ignore: [404],
    });
    if (res.status === 404) continue;
    // Installed from Fleet's security_rule assets: Fleet's, whatever stamp the package's payload carried.
    if (isFleetRule(res.body)) {
      state.assets.push({ kind: 'rule', name: w.name, target: 'kibana', fleet: true });
      continue;
    }
    // Kibana replaces `meta` when a user edits a rule in the UI: our tag and author still say whose it is.
    const meta = ourMeta(res.body.meta) ?? (res.body.tags?.includes('cryptochannel') && res.body.author?.includes('cryptochannel') ? { managed_by: 'cryptochannel' as const, package_version: 'unknown', content_sha256: 'edited-in-kibana' } : undefined);
    state.assets.push({ kind: 'rule', name: w.name, target: 'kibana', meta });
  }
  const objects = wanted.filter((x) => x.kind === 'saved_object').map((w) => ({ type: w.name.split('/')[0]!, id: w.name.slice(w.name.indexOf('/') + 1) }));
  if (objects.length) {
    const res = await kibana.request<{ saved_objects: Array<{ type: string; id: string; error?: unknown; managed?: boolean }> }>({
      method: 'POST',
      path: '/api/saved_objects/_bulk_get',
      body: objects,
      idempotent: true,
    });
    for (const so of res.body.saved_objects) {
      if (so.error) continue;
      const name = `${so.type}/${so.id}`;
      // Fleet's copy replaced ours (or never was ours): the manifest's record no longer says whose it is.
      if (isFleetSavedObject(so)) state.assets.push({ kind: 'saved_object', name, target: 'kibana', fleet: true });
      else state.assets.push({ kind: 'saved_object', name, target: 'kibana', meta: state.manifest[name] });
    }
  }
  return state;
}

/** Saved objects and rules this space holds that a manifest or our stamp says are ours (for uninstall). */
export function ownedKibanaAssets(state: KibanaState): ObservedAsset[] {
  return state.assets.filter((a) => !a.fleet && a.meta?.managed_by === 'cryptochannel');
}

export async function applyKibanaItem(kibana: KibanaClient, item: PlanItem, state: KibanaState, packageVersion: string): Promise<void> {
  switch (item.kind) {
    case 'exception_list': {
      if (item.action === 'delete') {
        await kibana.request({ method: 'DELETE', path: '/api/exception_lists', query: { list_id: item.name, namespace_type: 'single' }, ignore: [404] });
        return;
      }
      const rendered = item.body as RenderedExceptionList;
      const created = await kibana.request<{ id: string }>({ method: 'POST', path: '/api/exception_lists', body: rendered.list, idempotent: false });
      state.listIds[item.name] = created.body.id;
      for (const entry of rendered.items) await kibana.request({ method: 'POST', path: '/api/exception_lists/items', body: entry, idempotent: false });
      return;
    }
    case 'rule': {
      if (item.action === 'delete') {
        await kibana.request({ method: 'DELETE', path: '/api/detection_engine/rules', query: { rule_id: item.name }, ignore: [404] });
        return;
      }
      const { payload, exceptionLists } = item.body as { payload: RenderedRule; exceptionLists: string[] };
      // Lists created earlier in this run got their ids only now.
      // The stamp covers the ids too, so that the next plan, rendered with them, finds the rule unchanged.
      const { meta: _planned, ...unstamped } = payload;
      const withIds = { ...unstamped, exceptions_list: payload.exceptions_list.map((ref) => ({ ...ref, id: state.listIds[ref.list_id] ?? ref.id })) };
      const body = { ...withIds, meta: managedMeta(withIds, packageVersion) };
      const missing = exceptionLists.filter((l) => !state.listIds[l]);
      if (missing.length) throw new Error(`exception list(s) ${missing.join(', ')} do not exist in space ${kibana.space}`);
      if (item.action === 'create') await kibana.request({ method: 'POST', path: '/api/detection_engine/rules', body, idempotent: false });
      else await kibana.request({ method: 'PUT', path: '/api/detection_engine/rules', body });
      return;
    }
    case 'saved_object': {
      const [type, ...rest] = item.name.split('/');
      const id = rest.join('/');
      if (item.action === 'delete') {
        await kibana.request({ method: 'DELETE', path: `/api/saved_objects/${encodeURIComponent(type!)}/${encodeURIComponent(id)}`, ignore: [404] });
        delete state.manifest[item.name];
      } else {
        const object = item.body as KibanaSavedObject;
        const res = await kibana.request<{ success?: boolean; errors?: Array<{ error?: { type?: string } }> }>({
          method: 'POST',
          path: '/api/saved_objects/_import',
          query: { overwrite: 'true' },
          form: { field: 'file', filename: 'cryptochannel.ndjson', content: toNdjson([object]), contentType: 'application/ndjson' },
          idempotent: true,
        });
        if (res.body.success === false) throw new Error(`Kibana refused the import of ${item.name}: ${JSON.stringify(res.body.errors ?? [])}`);
        state.manifest[item.name] = { managed_by: 'cryptochannel', package_version: packageVersion, content_sha256: item.sha256 ?? '' };
      }
      return;
    }
    default:
      throw new Error(`${item.kind} is not a Kibana asset`);
  }
}
