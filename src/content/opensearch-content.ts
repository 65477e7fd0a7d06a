/**
 * The OpenSearch flavour of the detection content, one YAML per object:
 *   detection-rules/opensearch/monitors/<id>.yaml   Alerting monitors (`monitor`: the body of
 *                                                   POST _plugins/_alerting/monitors)
 *   detection-rules/opensearch/detectors/<id>.yaml  Anomaly Detection detectors (`detector`: the body
 *                                                   of POST _plugins/_anomaly_detection/detectors)
 *   detection-rules/opensearch/_schema/             what the bodies are validated against (PROVENANCE.md)
 *
 * Neither object type has `_meta`, and both get server-generated ids, so the renderer gives each a
 * stable name built from its content id (the deployer finds it by that name: the Alerting config
 * index maps `monitor.name.keyword`, while `ui_metadata` is stored unindexed) and puts the ownership
 * marker in `ui_metadata.cryptochannel`, a free-form object both plugins keep and return as given.
 *
 * Tunables are rendered in, as in the pipelines: `{{ Tunable "Name" }}` (a whole string becomes the
 * value with its JSON type). `{{period_end}}` and other mustache belong to the Alerting plugin and
 * are left alone.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { OwnerFields } from './fields';
import { ContentError, listFiles, readYaml } from './files';
import { managedMeta, type ManagedMeta } from './hash';
import { checkFieldUses, NUMERIC_TYPES, patternStreams, searchBodyFields, SPLIT_TYPES, streamFieldTypes } from './ml-jobs';
import { PRODUCT } from './sources';

export const OPENSEARCH_DIR = 'opensearch';

interface ObjectContent {
  id: string;
  file: string;
  title: string;
  analytics: string[];
  description: string;
}

export interface MonitorContent extends ObjectContent {
  monitor: Record<string, unknown>;
}

export interface DetectorContent extends ObjectContent {
  detector: Record<string, unknown>;
}

export interface OpenSearchContent {
  monitors: MonitorContent[];
  detectors: DetectorContent[];
}

const CONTENT_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ANALYTIC = /^AN(1496|1497|1498|1499|1500)$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function loadObjects(dir: string, key: 'monitor' | 'detector'): Array<ObjectContent & { body: Record<string, unknown> }> {
  return listFiles(dir, (n) => n.endsWith('.yaml') || n.endsWith('.yml')).map((file) => {
    const doc = readYaml<Record<string, unknown>>(file);
    function fail(message: string): never {
      throw new ContentError(file, message);
    }
    if (!isObject(doc)) fail(`a ${key} file is a mapping with id, title, analytics, description and ${key}`);
    const { id, title, analytics, description, [key]: body, ...rest } = doc;
    if (Object.keys(rest).length) fail(`unknown keys ${Object.keys(rest).join(', ')} (id, title, analytics, description, ${key})`);
    if (typeof id !== 'string' || !CONTENT_ID.test(id)) fail(`id '${String(id)}' must be lower-case words joined by '-'`);
    if (path.basename(file).replace(/\.ya?ml$/, '') !== id) fail(`the file must be named after its id (${id}.yaml)`);
    if (typeof title !== 'string' || !title.trim()) fail('title is required');
    if (typeof description !== 'string' || !description.trim()) fail('description is required');
    if (!Array.isArray(analytics) || !analytics.length || !analytics.every((a) => typeof a === 'string' && ANALYTIC.test(a))) {
      fail('analytics must list AN1496 ... AN1500');
    }
    if (!isObject(body)) fail(`${key} must be the API request body`);
    // Installed names and the ownership marker are the renderer's: content that set them could disagree.
    for (const reserved of ['name', 'ui_metadata']) if (reserved in body) fail(`${key} must not set ${reserved} (the renderer does)`);
    return { id, file, title, description, analytics: analytics as string[], body };
  });
}

export function loadOpenSearchContent(detectionRulesRoot: string): OpenSearchContent {
  const root = path.join(detectionRulesRoot, OPENSEARCH_DIR);
  return {
    monitors: loadObjects(path.join(root, 'monitors'), 'monitor').map(({ body, ...rest }) => ({ ...rest, monitor: body })),
    detectors: loadObjects(path.join(root, 'detectors'), 'detector').map(({ body, ...rest }) => ({ ...rest, detector: body })),
  };
}

/** Monitor names start with this; the id follows up to the first ':'. */
export const MONITOR_NAME_PREFIX = `${PRODUCT}/`;

export function monitorName(monitor: Pick<MonitorContent, 'id' | 'title'>): string {
  return `${MONITOR_NAME_PREFIX}${monitor.id}: ${monitor.title}`;
}

/** Detector names allow only [a-zA-Z0-9._-], at most 64 characters. */
export function detectorName(detector: Pick<DetectorContent, 'id'>): string {
  return `${PRODUCT}-${detector.id}`;
}

const TUNABLE = /\{\{\s*Tunable\s+"([^"]+)"\s*\}\}/g;
const WHOLE_TUNABLE = /^\{\{\s*Tunable\s+"([^"]+)"\s*\}\}$/;

/** Replaces `{{ Tunable "X" }}`; an unknown tunable is a content error. */
export function resolveTunables(value: unknown, tunables: Readonly<Record<string, unknown>>, file: string): unknown {
  const lookup = (name: string): unknown => {
    if (!(name in tunables)) throw new ContentError(file, `unknown tunable '${name}'`);
    return tunables[name];
  };
  if (typeof value === 'string') {
    const whole = WHOLE_TUNABLE.exec(value);
    if (whole) return lookup(whole[1]!);
    return value.replace(TUNABLE, (_m, name: string) => {
      const v = lookup(name);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveTunables(v, tunables, file));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTunables(v, tunables, file)]));
  return value;
}

export interface OpenSearchRenderContext {
  packageVersion: string;
  tunables: Readonly<Record<string, unknown>>;
}

export interface RenderedOpenSearchObject {
  id: string;
  name: string;
  /** The request body, with `name` and `ui_metadata.cryptochannel`. */
  body: Record<string, unknown>;
  meta: ManagedMeta;
}

/** The hash covers the body with tunables rendered in, so a tuning change is an update. */
function stamp(id: string, name: string, body: Record<string, unknown>, packageVersion: string): RenderedOpenSearchObject {
  const named = { ...body, name };
  const meta = managedMeta(named, packageVersion);
  return { id, name, body: { ...named, ui_metadata: { [PRODUCT]: meta } }, meta };
}

export function renderMonitor(monitor: MonitorContent, ctx: OpenSearchRenderContext): RenderedOpenSearchObject {
  const body = resolveTunables(monitor.monitor, ctx.tunables, monitor.file) as Record<string, unknown>;
  return stamp(monitor.id, monitorName(monitor), body, ctx.packageVersion);
}

export function renderDetector(detector: DetectorContent, ctx: OpenSearchRenderContext): RenderedOpenSearchObject {
  const body = resolveTunables(detector.detector, ctx.tunables, detector.file) as Record<string, unknown>;
  return stamp(detector.id, detectorName(detector), body, ctx.packageVersion);
}

/** Reads the ownership marker back from an installed monitor or detector. */
export function openSearchMeta(body: Record<string, unknown>): ManagedMeta | undefined {
  const ui = body.ui_metadata;
  const meta = isObject(ui) ? ui[PRODUCT] : undefined;
  if (!isObject(meta) || meta.managed_by !== PRODUCT) return undefined;
  return typeof meta.package_version === 'string' && typeof meta.content_sha256 === 'string'
    ? { managed_by: 'cryptochannel', package_version: meta.package_version, content_sha256: meta.content_sha256 }
    : undefined;
}

/**
 * What the Alerting plugin does to a search input before it runs it: the period placeholders become
 * epoch milliseconds. Used to run the queries outside the plugin; anything else left in `{{ }}`
 * means the query would not run as written.
 */
export function substitutePeriod(value: unknown, periodEnd: number, periodStart: number = periodEnd): unknown {
  if (typeof value === 'string') {
    const out = value.replace(/\{\{\s*period_end\s*\}\}/g, String(periodEnd)).replace(/\{\{\s*period_start\s*\}\}/g, String(periodStart));
    if (out.includes('{{')) throw new Error(`unresolved placeholder in ${JSON.stringify(value)}`);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => substitutePeriod(v, periodEnd, periodStart));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitutePeriod(v, periodEnd, periodStart)]));
  return value;
}

/** The search inputs of a monitor body: index patterns and the search request body. */
export function monitorSearches(body: Record<string, unknown>): Array<{ indices: string[]; query: Record<string, unknown> }> {
  const inputs = Array.isArray(body.inputs) ? body.inputs : [];
  return inputs.flatMap((input) => {
    const search = isObject(input) && isObject(input.search) ? input.search : undefined;
    return search && Array.isArray(search.indices) && isObject(search.query) ? [{ indices: search.indices.map(String), query: search.query }] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// Request schemas (see _schema/PROVENANCE.md).

const SPEC_BASE = 'https://opensearch-api-specification.local/spec/';

/** OpenAPI component pointers as JSON Schema `$defs` pointers, file part kept. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', '#/$defs/') : rewriteRefs(v)]),
  );
}

/**
 * Closes object schemas that list `properties` and leave `additionalProperties` unsaid, walking only
 * schema positions (never a `properties` map itself).
 */
function closeObjects(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = { ...schema };
  if (isObject(out.properties)) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, closeObjects(v)]));
    if (!('additionalProperties' in out)) out.additionalProperties = false;
  }
  if (isObject(out.additionalProperties)) out.additionalProperties = closeObjects(out.additionalProperties);
  if (out.items !== undefined) out.items = closeObjects(out.items);
  for (const k of ['oneOf', 'anyOf', 'allOf']) if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).map(closeObjects);
  if (isObject(out.$defs)) out.$defs = Object.fromEntries(Object.entries(out.$defs).map(([k, v]) => [k, closeObjects(v)]));
  return out;
}

function specSchemaFile(file: string, id: string): Record<string, unknown> {
  const doc = readYaml<{ components?: { schemas?: Record<string, unknown> } }>(file);
  const schemas = doc?.components?.schemas;
  if (!isObject(schemas)) throw new ContentError(file, 'no components.schemas');
  const defs = rewriteRefs(schemas) as Record<string, unknown>;
  return { $id: id, $defs: Object.fromEntries(Object.entries(defs).map(([name, schema]) => [name, closeObjects(schema)])) };
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '(body)';
  if (error.keyword === 'additionalProperties') return `${where}: unknown key '${String(error.params.additionalProperty)}'`;
  return `${where}: ${error.message ?? error.keyword}`;
}

export interface OpenSearchSchemas {
  /** Problems of a rendered monitor body against the specification's create-monitor body. */
  validateMonitor(body: unknown): string[];
  /** Problems of a rendered detector body against the derived detector schema. */
  validateDetector(body: unknown): string[];
}

export function loadOpenSearchSchemas(detectionRulesRoot: string): OpenSearchSchemas {
  const dir = path.join(detectionRulesRoot, OPENSEARCH_DIR, '_schema');
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addSchema(specSchemaFile(path.join(dir, '_common.yaml'), `${SPEC_BASE}schemas/_common.yaml`));
  ajv.addSchema(specSchemaFile(path.join(dir, 'alerting._common.yaml'), `${SPEC_BASE}schemas/alerting._common.yaml`));
  const namespaceFile = path.join(dir, 'alerting.yaml');
  const namespace = readYaml<{ components?: { requestBodies?: Record<string, { content?: Record<string, { schema?: unknown }> }> } }>(namespaceFile);
  const createBody = namespace?.components?.requestBodies?.['alerting.create_monitor']?.content?.['application/json']?.schema;
  if (!isObject(createBody)) throw new ContentError(namespaceFile, 'no alerting.create_monitor request body');
  const monitor: ValidateFunction = ajv.compile({ $id: `${SPEC_BASE}namespaces/alerting.yaml`, ...(rewriteRefs(createBody) as object) });
  const detectorSchema = JSON.parse(readFileSync(path.join(dir, 'anomaly-detector.schema.json'), 'utf8')) as Record<string, unknown>;
  const detector: ValidateFunction = ajv.compile(detectorSchema);
  const run = (validate: ValidateFunction, body: unknown) => (validate(body) ? [] : (validate.errors ?? []).map(describe));
  return { validateMonitor: (body) => run(monitor, body), validateDetector: (body) => run(detector, body) };
}

// ---------------------------------------------------------------------------------------------
// Checks the schemas cannot make: fields against the templates, triggers against the aggregations.

const SEVERITIES = new Set(['1', '2', '3', '4', '5']);
/** The plugin's config index maps monitor.name.keyword with ignore_above 256: longer names are unsearchable. */
const MAX_MONITOR_NAME = 256;

function triggerProblems(monitor: Record<string, unknown>, query: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const type = monitor.monitor_type;
  const triggers = Array.isArray(monitor.triggers) ? monitor.triggers : [];
  if (!triggers.length) problems.push('a monitor needs at least one trigger');
  const aggregations = isObject(query.aggregations) ? query.aggregations : isObject(query.aggs) ? query.aggs : {};
  for (const [i, raw] of triggers.entries()) {
    const wrapperKey = type === 'bucket_level_monitor' ? 'bucket_level_trigger' : 'query_level_trigger';
    const trigger = isObject(raw) ? raw[wrapperKey] : undefined;
    if (!isObject(trigger)) {
      problems.push(`trigger ${i}: a ${String(type)} takes { ${wrapperKey}: ... } triggers`);
      continue;
    }
    if (!SEVERITIES.has(String(trigger.severity))) problems.push(`trigger ${i}: severity must be '1' ... '5'`);
    const condition = isObject(trigger.condition) ? trigger.condition : {};
    const source = isObject(condition.script) ? String(condition.script.source ?? '') : '';
    if (type === 'query_level_monitor') {
      if (!source.includes('ctx.results[0]')) problems.push(`trigger ${i}: a query-level condition reads ctx.results[0]`);
      continue;
    }
    const parent = aggregations[String(condition.parent_bucket_path)];
    if (!isObject(parent) || !isObject(parent.composite)) {
      problems.push(`trigger ${i}: parent_bucket_path '${String(condition.parent_bucket_path)}' is not a composite aggregation of the query`);
      continue;
    }
    const subAggregations = isObject(parent.aggregations) ? parent.aggregations : isObject(parent.aggs) ? parent.aggs : {};
    const paths = isObject(condition.buckets_path) ? condition.buckets_path : {};
    for (const [variable, bucketPath] of Object.entries(paths)) {
      const head = String(bucketPath).split(/[>.]/)[0]!;
      if (head !== '_count' && !(head in subAggregations)) problems.push(`trigger ${i}: buckets_path ${variable} → '${String(bucketPath)}' names no sub-aggregation of '${String(condition.parent_bucket_path)}'`);
    }
    for (const used of source.matchAll(/params\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (!(used[1]! in paths)) problems.push(`trigger ${i}: the condition reads params.${used[1]}, which buckets_path does not define`);
    }
  }
  return problems;
}

/** Semantic checks of one monitor: shape the plugin needs, a time window, fields, triggers. */
export function checkMonitor(monitor: MonitorContent, fields: OwnerFields[]): string[] {
  const body = monitor.monitor;
  const problems: string[] = [];
  // Older specification versions require these six; the plugin's own examples always send them.
  for (const key of ['type', 'monitor_type', 'enabled', 'schedule', 'inputs', 'triggers']) if (!(key in body)) problems.push(`monitor.${key} is required`);
  if (!['query_level_monitor', 'bucket_level_monitor'].includes(String(body.monitor_type))) problems.push('monitor_type must be query_level_monitor or bucket_level_monitor');
  if (monitorName(monitor).length > MAX_MONITOR_NAME) problems.push(`the monitor name is longer than ${MAX_MONITOR_NAME} characters`);
  const searches = monitorSearches(body);
  if (searches.length !== 1 || (Array.isArray(body.inputs) && body.inputs.length !== 1)) problems.push('a monitor has exactly one search input');
  for (const search of searches) {
    const { streams, problems: patternProblems } = patternStreams(search.indices, 'inputs.search.indices');
    problems.push(...patternProblems);
    if (!JSON.stringify(search.query).includes('{{period_end}}')) problems.push('the search must be limited to a window ending at {{period_end}}');
    try {
      if (streams.length) problems.push(...checkFieldUses(searchBodyFields(search.query), streams, fields, 'opensearch'));
    } catch (err) {
      problems.push(`inputs.search.query: ${(err as Error).message}`);
    }
    problems.push(...triggerProblems(body, search.query));
  }
  return problems;
}

/** Semantic checks of one detector: streams, time field, category and feature field types. */
export function checkDetector(detector: DetectorContent, fields: OwnerFields[]): string[] {
  const body = detector.detector;
  const problems: string[] = [];
  const { streams, problems: patternProblems } = patternStreams(body.indices, 'indices');
  problems.push(...patternProblems);
  if (!streams.length) return problems;
  const types = streams.map((s) => streamFieldTypes(fields, s, 'opensearch'));
  const typeOf = (field: string) => types.map((t) => t.get(field)).filter((t): t is string => t !== undefined);
  const need = (field: unknown, what: string, ok: Set<string>, label: string) => {
    const mapped = typeOf(String(field));
    if (!mapped.length) problems.push(`${what} '${String(field)}' is not mapped by the detector's streams`);
    else if (!mapped.every((t) => ok.has(t))) problems.push(`${what} '${String(field)}' is ${[...new Set(mapped)].join('/')}, not ${label}`);
  };
  need(body.time_field, 'time_field', new Set(['date', 'date_nanos']), 'a date');
  for (const field of Array.isArray(body.category_field) ? body.category_field : []) need(field, 'category_field', SPLIT_TYPES, 'keyword or ip');
  const names = new Set<string>();
  for (const feature of Array.isArray(body.feature_attributes) ? body.feature_attributes : []) {
    const aggregation = isObject(feature) && isObject(feature.aggregation_query) ? feature.aggregation_query : {};
    for (const [name, spec] of Object.entries(aggregation)) {
      if (names.has(name)) problems.push(`feature aggregation name '${name}' is used twice`);
      names.add(name);
      for (const [kind, inner] of Object.entries(isObject(spec) ? spec : {})) {
        const field = isObject(inner) ? inner.field : undefined;
        if (kind === 'value_count' || kind === 'cardinality') need(field, `feature ${name}`, new Set([...SPLIT_TYPES, ...NUMERIC_TYPES, 'boolean']), 'aggregatable');
        else need(field, `feature ${name}`, NUMERIC_TYPES, 'numeric');
      }
    }
  }
  try {
    if (body.filter_query !== undefined) problems.push(...checkFieldUses(searchBodyFields({ query: body.filter_query }), streams, fields, 'opensearch'));
  } catch (err) {
    problems.push(`filter_query: ${(err as Error).message}`);
  }
  return problems;
}
