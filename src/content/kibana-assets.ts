/**
 * Kibana saved objects as content: data views (`index-pattern`), Lens visualisations, dashboards,
 * saved searches and the `cryptochannel-managed` tag, authored as YAML objects under
 * kibana-assets/<type>/ and built into the saved-objects `_import` NDJSON format.
 *
 * Ownership: saved objects cannot hold an arbitrary `_meta`. Every taggable object (dashboard, lens,
 * search) references the tag `cryptochannel-managed`, which shows in Kibana's UI and lets the deployer
 * find ours; data views cannot be tagged and are known by their fixed `cryptochannel-` ids. The content
 * hashes travel in a manifest beside the NDJSON (one `managedMeta` per object) for the deployer to keep
 * with its install state and compare on the next plan: Kibana rewrites imported objects (migrations,
 * `updated_at`, `version`), so the installed copy cannot be hashed back into the content.
 */
import path from 'node:path';
import { ContentError, listDirs, listFiles, readYaml } from './files';
import { ECS, mappedFieldNames, type OwnerFields } from './fields';
import { managedMeta, type ManagedMeta } from './hash';

/** In dependency order: what an object references comes before it in the NDJSON. */
export const SAVED_OBJECT_TYPES = ['tag', 'index-pattern', 'search', 'lens', 'dashboard'] as const;
export type SavedObjectType = (typeof SAVED_OBJECT_TYPES)[number];

export const SAVED_OBJECT_ID_PREFIX = 'cryptochannel-';
export const MANAGED_TAG_ID = 'cryptochannel-managed';
/** Folders of kibana-assets/ that hold other content than saved objects. */
const NON_OBJECT_DIRS = new Set(['exception-lists', 'fields']);

/** Kibana cannot tag data views; the other types carry the managed tag. */
const TAGGABLE = new Set<SavedObjectType>(['search', 'lens', 'dashboard']);

/**
 * Migration versions the builder stamps (content holds none). Since Kibana 8.8 an import names the
 * version of its document shape; Kibana then runs only the migrations after it, and refuses a version
 * newer than it knows. Each is the oldest version whose shape the content already has: Lens
 * `formBased` datasource state arrived with 8.6.0; the others are those of Kibana's own sample data.
 * A tag has no migrations, so it names none. Minimum Kibana: 8.8.
 */
export const CORE_MIGRATION_VERSION = '8.8.0';
const TYPE_MIGRATION_VERSION: Partial<Record<SavedObjectType, string>> = {
  'index-pattern': '7.11.0',
  search: '7.9.3',
  lens: '8.6.0',
  dashboard: '7.17.3',
};
/** The `version` a dashboard panel names: the shape of by-reference panels, unchanged since 8.8. */
const PANEL_VERSION = '8.8.0';

/** Attributes Kibana stores as JSON strings; content authors them as objects. */
const STRING_ATTRIBUTES: Record<SavedObjectType, string[]> = {
  tag: [],
  'index-pattern': ['fields', 'fieldFormatMap', 'fieldAttrs', 'runtimeFieldMap', 'sourceFilters', 'typeMeta'],
  search: ['kibanaSavedObjectMeta.searchSourceJSON'],
  lens: [],
  dashboard: ['panelsJSON', 'optionsJSON', 'kibanaSavedObjectMeta.searchSourceJSON'],
};

/** The dashboard grid is 48 columns wide. */
const GRID_COLUMNS = 48;

export interface SavedObjectReference {
  type: string;
  id: string;
  name: string;
}

/** One saved object as authored: attributes are plain objects, nothing stringified. */
export interface SavedObjectContent {
  file: string;
  type: SavedObjectType;
  id: string;
  attributes: Record<string, unknown>;
  references: SavedObjectReference[];
}

/** One line of the `_import` NDJSON. */
export interface KibanaSavedObject {
  type: SavedObjectType;
  id: string;
  attributes: Record<string, unknown>;
  references: SavedObjectReference[];
  coreMigrationVersion: string;
  typeMigrationVersion?: string;
}

export interface SavedObjectsManifest {
  managed_by: 'cryptochannel';
  package_version: string;
  tag_id: string;
  objects: Array<{ type: SavedObjectType; id: string } & ManagedMeta>;
}

export interface BuiltSavedObjects {
  objects: KibanaSavedObject[];
  manifest: SavedObjectsManifest;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function getPath(obj: Json, dotted: string): unknown {
  let node: unknown = obj;
  for (const part of dotted.split('.')) node = isObject(node) ? node[part] : undefined;
  return node;
}

function setPath(obj: Json, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = obj;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(node[part])) node[part] = {};
    node = node[part] as Json;
  }
  node[parts[parts.length - 1]!] = value;
}

function isSavedObjectType(value: unknown): value is SavedObjectType {
  return typeof value === 'string' && (SAVED_OBJECT_TYPES as readonly string[]).includes(value);
}

function loadOne(file: string, folderType: SavedObjectType): SavedObjectContent {
  const raw = readYaml<unknown>(file);
  if (!isObject(raw)) throw new ContentError(file, 'a saved object is a mapping with type, id, attributes and references');
  const { type, id, attributes, references = [] } = raw;
  const extra = Object.keys(raw).filter((k) => !['type', 'id', 'attributes', 'references'].includes(k));
  if (extra.length) throw new ContentError(file, `unknown keys ${extra.join(', ')} (versions and migration fields are added by the builder)`);
  if (type !== folderType) throw new ContentError(file, `type '${String(type)}' does not match its folder ${folderType}/`);
  if (typeof id !== 'string' || !id.startsWith(SAVED_OBJECT_ID_PREFIX)) throw new ContentError(file, `id must start with '${SAVED_OBJECT_ID_PREFIX}'`);
  if (path.basename(file).replace(/\.ya?ml$/, '') !== id) throw new ContentError(file, `the file is named after its id: ${id}.yaml`);
  if (!isObject(attributes)) throw new ContentError(file, 'attributes must be a mapping');
  if (!Array.isArray(references) || !references.every((r) => isObject(r) && typeof r.type === 'string' && typeof r.id === 'string' && typeof r.name === 'string')) {
    throw new ContentError(file, 'references must be a list of {type, id, name}');
  }
  for (const attr of STRING_ATTRIBUTES[folderType]) {
    if (typeof getPath(attributes, attr) === 'string') throw new ContentError(file, `author ${attr} as YAML, not as a JSON string: the builder stringifies it`);
  }
  return { file, type: folderType, id, attributes, references: references as SavedObjectReference[] };
}

/** Every saved object under kibana-assets/<type>/, in dependency order; ids are unique. */
export function loadSavedObjects(root: string): SavedObjectContent[] {
  for (const dir of listDirs(root)) {
    if (!NON_OBJECT_DIRS.has(dir) && !isSavedObjectType(dir)) throw new ContentError(path.join(root, dir), `unknown folder: saved objects live in ${SAVED_OBJECT_TYPES.join('/, ')}/`);
  }
  const objects = SAVED_OBJECT_TYPES.flatMap((type) =>
    listFiles(path.join(root, type), (n) => n.endsWith('.yaml') || n.endsWith('.yml')).map((file) => loadOne(file, type)),
  );
  const seen = new Map<string, string>();
  for (const o of objects) {
    const other = seen.get(o.id);
    if (other) throw new ContentError(o.file, `id ${o.id} is also used by ${path.relative(root, other)}`);
    seen.set(o.id, o.file);
  }
  return objects;
}

function tagReference(): SavedObjectReference {
  return { type: 'tag', id: MANAGED_TAG_ID, name: `tag-ref-${MANAGED_TAG_ID}` };
}

function buildOne(o: SavedObjectContent): KibanaSavedObject {
  const attributes = structuredClone(o.attributes);
  if (o.type === 'dashboard' && Array.isArray(attributes.panelsJSON)) {
    attributes.panelsJSON = attributes.panelsJSON.map((panel: unknown) => (isObject(panel) ? { version: PANEL_VERSION, ...panel } : panel));
  }
  for (const attr of STRING_ATTRIBUTES[o.type]) {
    const value = getPath(attributes, attr);
    if (value !== undefined) setPath(attributes, attr, JSON.stringify(value));
  }
  const references = o.references.map((r) => ({ type: r.type, id: r.id, name: r.name }));
  if (TAGGABLE.has(o.type) && !references.some((r) => r.type === 'tag' && r.id === MANAGED_TAG_ID)) references.push(tagReference());
  const built: KibanaSavedObject = { type: o.type, id: o.id, attributes, references, coreMigrationVersion: CORE_MIGRATION_VERSION };
  const typeVersion = TYPE_MIGRATION_VERSION[o.type];
  if (typeVersion) built.typeMigrationVersion = typeVersion;
  return built;
}

/**
 * The import-ready objects (string attributes stringified, managed tag referenced, migration versions
 * stamped) and the manifest of their content hashes. The hash covers the built object and so changes
 * only when the content does, not with the package version.
 */
export function buildSavedObjects(objects: SavedObjectContent[], packageVersion: string): BuiltSavedObjects {
  const order = (t: SavedObjectType) => SAVED_OBJECT_TYPES.indexOf(t);
  const built = [...objects].sort((a, b) => order(a.type) - order(b.type) || a.id.localeCompare(b.id)).map(buildOne);
  return {
    objects: built,
    manifest: {
      managed_by: 'cryptochannel',
      package_version: packageVersion,
      tag_id: MANAGED_TAG_ID,
      objects: built.map((o) => ({ type: o.type, id: o.id, ...managedMeta(o, packageVersion) })),
    },
  };
}

/** The body of `POST /api/saved_objects/_import`: one object per line. */
export function toNdjson(objects: KibanaSavedObject[]): string {
  return objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
}

export function fromNdjson(text: string): KibanaSavedObject[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as KibanaSavedObject);
}

// ---------------------------------------------------------------------------------------------
// Fields: which names a data view can see, with their mapped types.

export interface RunsField {
  name: string;
  type: string;
  description: string;
}

export interface RunsFields {
  /** The correlator's run-log index. */
  index: string;
  fields: RunsField[];
}

const RUNS_TYPES = new Set(['keyword', 'long', 'integer', 'float', 'double', 'date', 'boolean', 'ip', 'text']);

/** kibana-assets/fields/runs.yml: the correlator run-log fields the assets may use. */
export function loadRunsFields(root: string): RunsFields {
  const file = path.join(root, 'fields', 'runs.yml');
  const raw = readYaml<unknown>(file);
  if (!isObject(raw) || typeof raw.index !== 'string' || !Array.isArray(raw.fields)) throw new ContentError(file, 'expected {index, fields: [{name, type, description}]}');
  const fields = raw.fields as RunsField[];
  const names = new Set<string>();
  for (const f of fields) {
    if (typeof f.name !== 'string' || !(f.name === '@timestamp' || f.name.startsWith('cryptochannel.run.'))) throw new ContentError(file, `'${String(f.name)}': run fields are @timestamp and cryptochannel.run.*`);
    if (!RUNS_TYPES.has(f.type)) throw new ContentError(file, `'${f.name}': type '${String(f.type)}' is not one of ${[...RUNS_TYPES].join(', ')}`);
    if (typeof f.description !== 'string' || !f.description.trim()) throw new ContentError(file, `'${f.name}' needs a description`);
    if (names.has(f.name)) throw new ContentError(file, `'${f.name}' is declared twice`);
    names.add(f.name);
  }
  return { index: raw.index, fields };
}

/** Field name -> mapped type, as one data view sees it. */
export type FieldCatalog = Map<string, string>;

function ownerCatalog(owners: OwnerFields[]): FieldCatalog {
  const custom = new Map(owners.flatMap((o) => o.custom.map((f) => [f.name, f.type] as const)));
  const catalog: FieldCatalog = new Map();
  for (const name of mappedFieldNames(owners)) {
    const type = custom.get(name) ?? ECS[name]?.type ?? multiFieldType(name);
    if (type) catalog.set(name, type);
  }
  return catalog;
}

function multiFieldType(name: string): string | undefined {
  const cut = name.lastIndexOf('.');
  return ECS[name.slice(0, cut)]?.multi_fields?.find((m) => m.name === name.slice(cut + 1))?.type;
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/**
 * Resolves a data view title (comma-separated index patterns) to the fields of every stream it
 * matches: each source's stream sees `_shared` plus its own, the alerts stream `_shared` plus the
 * alerts fields, the dead-letter stream `_shared`, and the run log its runs.yml. A title that matches
 * no stream resolves to undefined.
 */
export function dataViewFieldResolver(fields: OwnerFields[], runs: RunsFields): (title: string) => FieldCatalog | undefined {
  const shared = fields.filter((f) => f.owner === '_shared');
  const streams: Array<{ name: string; catalog: () => FieldCatalog }> = fields
    .filter((f) => f.owner !== '_shared')
    .map((owner) => ({ name: `logs-cryptochannel.${owner.owner}-default`, catalog: () => ownerCatalog([...shared, owner]) }));
  streams.push({ name: 'logs-cryptochannel.deadletter-default', catalog: () => ownerCatalog(shared) });
  streams.push({ name: runs.index, catalog: () => new Map(runs.fields.map((f) => [f.name, f.type])) });
  return (title) => {
    const patterns = title.split(',').map((p) => p.trim()).filter((p) => p && !p.startsWith('-')).map(globToRegExp);
    const matched = streams.filter((s) => patterns.some((re) => re.test(s.name)));
    if (matched.length === 0) return undefined;
    const union: FieldCatalog = new Map();
    for (const s of matched) for (const [name, type] of s.catalog()) union.set(name, type);
    return union;
  };
}

// ---------------------------------------------------------------------------------------------
// Checks of the built objects: references, panels, Lens state, and every field named.

/** Field names a KQL query names (left of `:`, `<`, `<=`, `>`, `>=`), quoted values ignored. */
export function kqlFields(query: string): string[] {
  const unquoted = query.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = new Set<string>();
  for (const m of unquoted.matchAll(/([A-Za-z@_][\w.@*-]*)\s*(?:<=|>=|:|<|>)/g)) names.add(m[1]!);
  return [...names];
}

const NUMERIC = new Set(['long', 'integer', 'short', 'byte', 'float', 'double', 'half_float', 'scaled_float', 'unsigned_long']);
const TEXT = new Set(['text', 'match_only_text']);
const DATE = new Set(['date', 'date_nanos']);

/** Which mapped types a Lens operation can aggregate. */
function operationAccepts(op: string, type: string): boolean {
  switch (op) {
    case 'date_histogram':
      return DATE.has(type);
    case 'sum':
    case 'average':
    case 'median':
    case 'standard_deviation':
    case 'percentile':
    case 'range':
      return NUMERIC.has(type);
    case 'min':
    case 'max':
      return NUMERIC.has(type) || DATE.has(type);
    case 'terms':
    case 'unique_count':
    case 'last_value':
    case 'count':
      return !TEXT.has(type) && type !== 'object' && type !== 'nested';
    default:
      return false;
  }
}

/** Lens's pseudo-field for "count of documents". */
const RECORDS_FIELD = '___records___';

interface CheckContext {
  problems: string[];
  byId: Map<string, KibanaSavedObject>;
  fieldsFor: (title: string) => FieldCatalog | undefined;
}

function parseJsonAttribute(o: KibanaSavedObject, attr: string, ctx: CheckContext): unknown {
  const value = getPath(o.attributes, attr);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    ctx.problems.push(`${o.type}/${o.id}: ${attr} must be a JSON string in the built object`);
    return undefined;
  }
  try {
    return JSON.parse(value) as unknown;
  } catch {
    ctx.problems.push(`${o.type}/${o.id}: ${attr} is not valid JSON`);
    return undefined;
  }
}

/** The field catalog of the data view a reference points at, or undefined (with a problem). */
function catalogOf(o: KibanaSavedObject, refName: string, ctx: CheckContext): FieldCatalog | undefined {
  const ref = o.references.find((r) => r.name === refName);
  if (!ref) {
    ctx.problems.push(`${o.type}/${o.id}: no reference named ${refName}`);
    return undefined;
  }
  if (ref.type !== 'index-pattern') {
    ctx.problems.push(`${o.type}/${o.id}: reference ${refName} must point at an index-pattern, not ${ref.type}`);
    return undefined;
  }
  const view = ctx.byId.get(ref.id);
  if (!view || view.type !== 'index-pattern') return undefined; // reported by the reference check
  return ctx.fieldsFor(String(view.attributes.title));
}

function checkField(where: string, field: unknown, catalog: FieldCatalog | undefined, ctx: CheckContext, accepts?: (type: string) => boolean): void {
  if (!catalog) return;
  if (typeof field !== 'string' || !field) {
    ctx.problems.push(`${where}: a field name is missing`);
    return;
  }
  const type = catalog.get(field);
  if (!type) ctx.problems.push(`${where}: field ${field} is not mapped in the data view's streams`);
  else if (accepts && !accepts(type)) ctx.problems.push(`${where}: field ${field} (${type}) cannot be used there`);
}

function checkQuery(where: string, query: unknown, catalog: FieldCatalog | undefined, ctx: CheckContext): void {
  if (query === undefined) return;
  if (!isObject(query) || typeof query.query !== 'string' || query.language !== 'kuery') {
    ctx.problems.push(`${where}: a query is {query, language: kuery}`);
    return;
  }
  for (const field of kqlFields(query.query)) checkField(`${where} query`, field, catalog, ctx);
}

function checkNoFilters(where: string, filters: unknown, ctx: CheckContext): void {
  // Pinned filters carry their own index references; the content says everything in KQL instead.
  if (filters !== undefined && !(Array.isArray(filters) && filters.length === 0)) ctx.problems.push(`${where}: use the KQL query instead of filters`);
}

function checkIndexPattern(o: KibanaSavedObject, ctx: CheckContext): void {
  const title = o.attributes.title;
  if (typeof title !== 'string' || !title) {
    ctx.problems.push(`index-pattern/${o.id}: title (the index pattern) is required`);
    return;
  }
  const catalog = ctx.fieldsFor(title);
  if (!catalog) {
    ctx.problems.push(`index-pattern/${o.id}: ${title} matches no cryptochannel stream or index`);
    return;
  }
  checkField(`index-pattern/${o.id} timeFieldName`, o.attributes.timeFieldName, catalog, ctx, (t) => DATE.has(t));
}

function checkSearch(o: KibanaSavedObject, ctx: CheckContext): void {
  const where = `search/${o.id}`;
  const source = parseJsonAttribute(o, 'kibanaSavedObjectMeta.searchSourceJSON', ctx);
  if (!isObject(source) || typeof source.indexRefName !== 'string') {
    ctx.problems.push(`${where}: searchSourceJSON needs an indexRefName`);
    return;
  }
  const catalog = catalogOf(o, source.indexRefName, ctx);
  checkQuery(where, source.query, catalog, ctx);
  checkNoFilters(where, source.filter, ctx);
  const columns = o.attributes.columns;
  if (!Array.isArray(columns) || columns.length === 0) ctx.problems.push(`${where}: columns are required`);
  else for (const c of columns) checkField(`${where} columns`, c, catalog, ctx);
  const sort = o.attributes.sort ?? [];
  if (!Array.isArray(sort)) ctx.problems.push(`${where}: sort is a list of [field, asc|desc]`);
  else {
    for (const s of sort) {
      if (!Array.isArray(s) || s.length !== 2 || !['asc', 'desc'].includes(String(s[1]))) ctx.problems.push(`${where}: sort entry ${JSON.stringify(s)} is not [field, asc|desc]`);
      else checkField(`${where} sort`, s[0], catalog, ctx, (t) => !TEXT.has(t));
    }
  }
}

function columnsOf(layer: Json): Record<string, Json> {
  return isObject(layer.columns) ? (layer.columns as Record<string, Json>) : {};
}

function checkLensColumn(where: string, columnId: string, column: Json, columns: Record<string, Json>, catalog: FieldCatalog | undefined, ctx: CheckContext): void {
  const op = String(column.operationType);
  const at = `${where} column ${columnId}`;
  const params = isObject(column.params) ? column.params : {};
  if (op === 'filters') {
    const filters = params.filters;
    if (!Array.isArray(filters) || filters.length === 0) ctx.problems.push(`${at}: filters need at least one {input, label}`);
    else for (const f of filters) checkQuery(at, isObject(f) ? f.input : undefined, catalog, ctx);
  } else if (op === 'count' && column.sourceField === RECORDS_FIELD) {
    // count of documents: no field
  } else if (['date_histogram', 'sum', 'average', 'median', 'standard_deviation', 'percentile', 'range', 'min', 'max', 'terms', 'unique_count', 'last_value', 'count'].includes(op)) {
    checkField(at, column.sourceField, catalog, ctx, (t) => operationAccepts(op, t));
  } else {
    ctx.problems.push(`${at}: operation ${op} is not one the checks know`);
  }
  if (op === 'terms') {
    const orderBy = isObject(params.orderBy) ? params.orderBy : undefined;
    if (orderBy?.type === 'column' && !(typeof orderBy.columnId === 'string' && columns[orderBy.columnId])) ctx.problems.push(`${at}: orders by a column that is not in the layer`);
    if (typeof params.size !== 'number' || params.size < 1) ctx.problems.push(`${at}: terms need a size`);
  }
  if (op === 'last_value') checkField(`${at} sortField`, params.sortField, catalog, ctx, (t) => DATE.has(t));
  if (column.filter !== undefined) checkQuery(`${at} filter`, column.filter, catalog, ctx);
}

/** The accessors a visualisation names, per layer, which must be columns of that layer. */
function visualizationAccessors(type: string, vis: Json): Array<{ layerId: string; accessors: string[] }> | string {
  const present = (...ids: unknown[]) => ids.filter((id): id is string => typeof id === 'string');
  switch (type) {
    case 'lnsXY':
      if (!Array.isArray(vis.layers)) return 'lnsXY needs layers';
      return vis.layers.filter(isObject).map((l) => ({
        layerId: String(l.layerId),
        accessors: [...present(l.xAccessor, l.splitAccessor), ...(Array.isArray(l.accessors) ? present(...l.accessors) : [])],
      }));
    case 'lnsDatatable': {
      const cols = Array.isArray(vis.columns) ? vis.columns.filter(isObject).map((c) => c.columnId) : [];
      const sorting = isObject(vis.sorting) ? vis.sorting.columnId : undefined;
      return [{ layerId: String(vis.layerId), accessors: present(...cols, sorting) }];
    }
    case 'lnsMetric':
      return [{ layerId: String(vis.layerId), accessors: present(vis.metricAccessor, vis.secondaryMetricAccessor, vis.maxAccessor, vis.breakdownByAccessor) }];
    default:
      return `visualizationType ${type} is not one the checks know (lnsXY, lnsDatatable, lnsMetric)`;
  }
}

function checkLens(o: KibanaSavedObject, ctx: CheckContext): void {
  const where = `lens/${o.id}`;
  const state = o.attributes.state;
  const layers = isObject(state) ? getPath(state, 'datasourceStates.formBased.layers') : undefined;
  if (!isObject(state) || !isObject(layers) || Object.keys(layers).length === 0) {
    ctx.problems.push(`${where}: state.datasourceStates.formBased.layers is required`);
    return;
  }
  let firstCatalog: FieldCatalog | undefined;
  for (const [layerId, layer] of Object.entries(layers)) {
    if (!isObject(layer)) continue;
    const catalog = catalogOf(o, `indexpattern-datasource-layer-${layerId}`, ctx);
    firstCatalog ??= catalog;
    const columns = columnsOf(layer);
    const order = Array.isArray(layer.columnOrder) ? layer.columnOrder.map(String) : [];
    if (order.length !== Object.keys(columns).length || !order.every((id) => columns[id])) ctx.problems.push(`${where} layer ${layerId}: columnOrder must list exactly its columns`);
    for (const [columnId, column] of Object.entries(columns)) checkLensColumn(`${where} layer ${layerId}`, columnId, column, columns, catalog, ctx);
  }
  checkQuery(where, state.query, firstCatalog, ctx);
  checkNoFilters(where, state.filters, ctx);
  const vis = state.visualization;
  const accessors = isObject(vis) ? visualizationAccessors(String(o.attributes.visualizationType), vis) : 'state.visualization is required';
  if (typeof accessors === 'string') {
    ctx.problems.push(`${where}: ${accessors}`);
    return;
  }
  for (const { layerId, accessors: ids } of accessors) {
    const layer = layers[layerId];
    if (!isObject(layer)) {
      ctx.problems.push(`${where}: the visualisation names layer ${layerId}, which the datasource does not have`);
      continue;
    }
    for (const id of ids) if (!columnsOf(layer)[id]) ctx.problems.push(`${where}: the visualisation names column ${id}, which layer ${layerId} does not have`);
  }
}

function checkDashboard(o: KibanaSavedObject, ctx: CheckContext): void {
  const where = `dashboard/${o.id}`;
  const panels = parseJsonAttribute(o, 'panelsJSON', ctx);
  parseJsonAttribute(o, 'optionsJSON', ctx);
  const source = parseJsonAttribute(o, 'kibanaSavedObjectMeta.searchSourceJSON', ctx);
  if (isObject(source)) {
    // A dashboard-wide query spans several data views: it may name only fields all of them map.
    checkQuery(where, source.query, undefined, ctx);
    if (isObject(source.query) && String(source.query.query).trim()) ctx.problems.push(`${where}: keep the dashboard query empty; panels carry their own`);
    checkNoFilters(where, source.filter, ctx);
  }
  if (!Array.isArray(panels) || panels.length === 0) {
    ctx.problems.push(`${where}: panelsJSON must list at least one panel`);
    return;
  }
  const used = new Set<string>();
  const boxes: Array<{ i: string; x: number; y: number; w: number; h: number }> = [];
  for (const panel of panels) {
    if (!isObject(panel) || typeof panel.panelIndex !== 'string') {
      ctx.problems.push(`${where}: every panel needs a panelIndex`);
      continue;
    }
    const at = `${where} panel ${panel.panelIndex}`;
    if (boxes.some((b) => b.i === panel.panelIndex)) ctx.problems.push(`${at}: panelIndex is used twice`);
    const grid = isObject(panel.gridData) ? panel.gridData : {};
    const [x, y, w, h] = [grid.x, grid.y, grid.w, grid.h].map(Number) as [number, number, number, number];
    if (grid.i !== panel.panelIndex) ctx.problems.push(`${at}: gridData.i must equal panelIndex`);
    if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > GRID_COLUMNS) ctx.problems.push(`${at}: gridData must fit the ${GRID_COLUMNS}-column grid`);
    for (const b of boxes) if (x < b.x + b.w && b.x < x + w && y < b.y + b.h && b.y < y + h) ctx.problems.push(`${at}: overlaps panel ${b.i}`);
    boxes.push({ i: panel.panelIndex, x, y, w, h });
    if (isObject(panel.embeddableConfig) && panel.embeddableConfig.attributes !== undefined) ctx.problems.push(`${at}: by-value panels are not used; author a lens object and reference it`);
    const refName = `panel_${panel.panelIndex}`;
    if (panel.panelRefName !== refName) {
      ctx.problems.push(`${at}: panelRefName must be ${refName}`);
      continue;
    }
    const ref = o.references.find((r) => r.name === `${panel.panelIndex}:${refName}`);
    if (!ref) ctx.problems.push(`${at}: no reference named ${panel.panelIndex}:${refName}`);
    else {
      used.add(ref.name);
      if (ref.type !== panel.type) ctx.problems.push(`${at}: panel type ${String(panel.type)} but its reference points at a ${ref.type}`);
      if (!['lens', 'search'].includes(ref.type)) ctx.problems.push(`${at}: panels show lens or search objects, not ${ref.type}`);
    }
  }
  for (const r of o.references) if (r.type !== 'tag' && !used.has(r.name)) ctx.problems.push(`${where}: reference ${r.name} is not used by any panel`);
}

function checkTag(o: KibanaSavedObject, ctx: CheckContext): void {
  const { name, color } = o.attributes;
  if (typeof name !== 'string' || !name || name.length > 50) ctx.problems.push(`tag/${o.id}: name is 1 to 50 characters`);
  if (typeof color !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(color)) ctx.problems.push(`tag/${o.id}: color is #rrggbb`);
}

/**
 * Problems of a set of built saved objects (empty when all is well): unique ids; every reference
 * resolves to an object of the set with the right type; data views match cryptochannel streams; every
 * field a data view, saved search or Lens column names (sourceField, sort fields, KQL queries of the
 * query, column filters and `filters` buckets) is mapped, with a type its operation can use; Lens
 * visualisations name only their layers' columns; dashboards show only lens/search objects of the set
 * through consistent panel references on a non-overlapping grid; taggable objects carry the managed tag.
 */
export function checkSavedObjects(objects: KibanaSavedObject[], fieldsFor: (dataViewTitle: string) => FieldCatalog | undefined): string[] {
  const ctx: CheckContext = { problems: [], byId: new Map(), fieldsFor };
  for (const o of objects) {
    if (ctx.byId.has(o.id)) ctx.problems.push(`${o.type}/${o.id}: id used twice`);
    ctx.byId.set(o.id, o);
    if (!o.id.startsWith(SAVED_OBJECT_ID_PREFIX)) ctx.problems.push(`${o.type}/${o.id}: ids start with ${SAVED_OBJECT_ID_PREFIX}`);
  }
  for (const o of objects) {
    const names = new Set<string>();
    for (const r of o.references) {
      if (names.has(r.name)) ctx.problems.push(`${o.type}/${o.id}: reference name ${r.name} is used twice`);
      names.add(r.name);
      const target = ctx.byId.get(r.id);
      if (!target) ctx.problems.push(`${o.type}/${o.id}: reference ${r.name} points at ${r.type}/${r.id}, which is not in the set`);
      else if (target.type !== r.type) ctx.problems.push(`${o.type}/${o.id}: reference ${r.name} says ${r.type}/${r.id} but that object is a ${target.type}`);
    }
    if (TAGGABLE.has(o.type) && !o.references.some((r) => r.type === 'tag' && r.id === MANAGED_TAG_ID)) ctx.problems.push(`${o.type}/${o.id}: does not carry the ${MANAGED_TAG_ID} tag`);
    if (o.type !== 'tag' && (typeof o.attributes.title !== 'string' || !o.attributes.title.trim())) ctx.problems.push(`${o.type}/${o.id}: a title is required`);
    switch (o.type) {
      case 'index-pattern':
        checkIndexPattern(o, ctx);
        break;
      case 'search':
        checkSearch(o, ctx);
        break;
      case 'lens':
        checkLens(o, ctx);
        break;
      case 'dashboard':
        checkDashboard(o, ctx);
        break;
      case 'tag':
        checkTag(o, ctx);
        break;
    }
  }
  return ctx.problems;
}

/**
 * Every field name the objects use, per data view id (for tests and `validate` to report): the Lens
 * columns' fields, saved-search columns and sort fields, and the fields of every KQL query.
 */
export function fieldsUsed(objects: KibanaSavedObject[]): Map<string, Set<string>> {
  const used = new Map<string, Set<string>>();
  const add = (viewId: string | undefined, field: unknown) => {
    if (!viewId || typeof field !== 'string' || field === RECORDS_FIELD) return;
    if (!used.has(viewId)) used.set(viewId, new Set());
    used.get(viewId)!.add(field);
  };
  const addQuery = (viewId: string | undefined, query: unknown) => {
    if (isObject(query) && typeof query.query === 'string') for (const f of kqlFields(query.query)) add(viewId, f);
  };
  const viewOf = (o: KibanaSavedObject, refName: string) => o.references.find((r) => r.name === refName)?.id;
  for (const o of objects) {
    if (o.type === 'search') {
      const source = JSON.parse(String(getPath(o.attributes, 'kibanaSavedObjectMeta.searchSourceJSON') ?? '{}')) as Json;
      const view = viewOf(o, String(source.indexRefName));
      addQuery(view, source.query);
      for (const c of (o.attributes.columns as unknown[] | undefined) ?? []) add(view, c);
      for (const s of (o.attributes.sort as unknown[][] | undefined) ?? []) add(view, s[0]);
    }
    if (o.type === 'lens' && isObject(o.attributes.state)) {
      const layers = getPath(o.attributes.state, 'datasourceStates.formBased.layers');
      let first: string | undefined;
      for (const [layerId, layer] of Object.entries(isObject(layers) ? layers : {})) {
        const view = viewOf(o, `indexpattern-datasource-layer-${layerId}`);
        first ??= view;
        for (const column of Object.values(isObject(layer) ? columnsOf(layer) : {})) {
          add(view, column.sourceField);
          const params = isObject(column.params) ? column.params : {};
          add(view, params.sortField);
          if (Array.isArray(params.filters)) for (const f of params.filters) addQuery(view, isObject(f) ? f.input : undefined);
          addQuery(view, column.filter);
        }
      }
      addQuery(first, o.attributes.state.query);
    }
    if (o.type === 'index-pattern') add(o.id, o.attributes.timeFieldName);
  }
  return used;
}
