/**
 * Elastic ML anomaly-detection jobs as content: `detection-rules/ml-jobs/<job id>.yaml`, each with
 * `job` (the body of PUT _ml/anomaly_detectors/<job id>) and `datafeed` (the body of
 * PUT _ml/datafeeds/datafeed-<job id>), plus repository metadata (`id`, `analytics`).
 *
 * Job ids carry no version, unlike pipelines: a job's value is the model it has learnt, and an
 * upgrade must keep it. Ownership therefore sits in the job's `custom_settings`, the one free-form
 * object a job has (a datafeed has none; the job's hash covers both bodies).
 *
 * The second half of this module names the fields a search body uses and checks them against the
 * streams it reads; the OpenSearch monitors and detectors use the same checks.
 */
import path from 'node:path';
import type { OwnerFields } from './fields';
import { ALERTS_OWNER } from './fields';
import { ContentError, listFiles, readYaml } from './files';
import { managedMeta, type ManagedMeta } from './hash';
import { SHARED } from './pipelines';
import { PRODUCT, SOURCES } from './sources';
import { flatMappings, type TemplateFlavor } from './templates';

export const ML_JOBS_DIR = 'ml-jobs';

export interface MlJobContent {
  /** The job id, also the file name. */
  id: string;
  file: string;
  /** DET0543 analytics the job serves (AN1496 ... AN1500). */
  analytics: string[];
  job: Record<string, unknown>;
  datafeed: Record<string, unknown>;
}

/** Elasticsearch's rule for job ids: lower-case alphanumerics, '-' and '_', alphanumeric at both ends. */
const JOB_ID = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;
const ANALYTIC = /^AN(1496|1497|1498|1499|1500)$/;
/** Query-string parameters of the two PUT APIs: in a body they would be refused as unknown keys. */
const URL_PARAMETERS = ['allow_no_indices', 'expand_wildcards', 'ignore_throttled', 'ignore_unavailable'];

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function loadMlJobs(detectionRulesRoot: string): MlJobContent[] {
  const files = listFiles(path.join(detectionRulesRoot, ML_JOBS_DIR), (n) => n.endsWith('.yaml') || n.endsWith('.yml'));
  return files.map((file) => {
    const doc = readYaml<Record<string, unknown>>(file);
    function fail(message: string): never {
      throw new ContentError(file, message);
    }
    if (!isObject(doc)) fail('an ML job file is a mapping with id, analytics, job and datafeed');
    const { id, analytics, job, datafeed, ...rest } = doc;
    if (Object.keys(rest).length) fail(`unknown keys ${Object.keys(rest).join(', ')} (id, analytics, job, datafeed)`);
    if (typeof id !== 'string' || !JOB_ID.test(id)) fail(`id '${String(id)}' is not a valid job id`);
    if (path.basename(file).replace(/\.ya?ml$/, '') !== id) fail(`the file must be named after its id (${String(id)}.yaml)`);
    if (!Array.isArray(analytics) || !analytics.length || !analytics.every((a) => typeof a === 'string' && ANALYTIC.test(a))) {
      fail('analytics must list AN1496 ... AN1500');
    }
    if (!isObject(job)) fail('job must be the body of PUT _ml/anomaly_detectors/<id>');
    if (!isObject(datafeed)) fail('datafeed must be the body of PUT _ml/datafeeds/datafeed-<id>');
    // The renderer sets these; content that set them could disagree with the file name.
    if ('job_id' in job || 'datafeed_config' in job) fail('job must not set job_id or datafeed_config (the renderer does)');
    if ('job_id' in datafeed || 'datafeed_id' in datafeed) fail('datafeed must not set job_id or datafeed_id (the renderer does)');
    for (const [what, body] of [['job', job], ['datafeed', datafeed]] as const) {
      const params = URL_PARAMETERS.filter((p) => p in body);
      if (params.length) fail(`${what} sets ${params.join(', ')}, which are URL parameters, not body keys`);
    }
    return { id, file, analytics: analytics as string[], job, datafeed };
  });
}

export function datafeedId(jobId: string): string {
  return `datafeed-${jobId}`;
}

export interface RenderedMlJob {
  jobId: string;
  datafeedId: string;
  /** PUT _ml/anomaly_detectors/<jobId> body, with the ownership marker in custom_settings. */
  job: Record<string, unknown>;
  /** PUT _ml/datafeeds/<datafeedId> body, with job_id. */
  datafeed: Record<string, unknown>;
  meta: ManagedMeta;
}

/**
 * The installable job and datafeed. `content_sha256` covers both bodies (without the marker), so a
 * datafeed-only change is still an update.
 */
export function renderMlJob(job: MlJobContent, packageVersion: string): RenderedMlJob {
  const datafeed = { ...job.datafeed, job_id: job.id };
  const meta = managedMeta({ job: job.job, datafeed }, packageVersion);
  const ownSettings = isObject(job.job.custom_settings) ? job.job.custom_settings : {};
  return {
    jobId: job.id,
    datafeedId: datafeedId(job.id),
    job: { ...job.job, custom_settings: { ...ownSettings, ...meta } },
    datafeed,
    meta,
  };
}

/** Reads the ownership marker back from an installed job (GET _ml/anomaly_detectors/<id>). */
export function mlJobMeta(installedJob: Record<string, unknown>): ManagedMeta | undefined {
  const settings = installedJob.custom_settings;
  if (!isObject(settings) || settings.managed_by !== PRODUCT) return undefined;
  const { package_version: packageVersion, content_sha256: hash } = settings;
  return typeof packageVersion === 'string' && typeof hash === 'string'
    ? { managed_by: 'cryptochannel', package_version: packageVersion, content_sha256: hash }
    : undefined;
}

// ---------------------------------------------------------------------------------------------
// Searches over cryptochannel's streams: which fields a body names, and whether the streams it
// reads map them with a type that can do what the body asks.

export type FieldRole = 'query' | 'aggregation' | 'script' | 'source' | 'sort';

export interface FieldUse {
  field: string;
  role: FieldRole;
}

const LEAF_QUERIES = new Set(['term', 'terms', 'range', 'match', 'match_phrase', 'match_phrase_prefix', 'prefix', 'wildcard', 'regexp', 'fuzzy']);
/** Keys inside a leaf query that are options, not field names. */
const LEAF_OPTIONS = new Set(['boost', '_name', 'case_insensitive', 'value_type']);
/** Pipeline aggregations refer to other aggregations by path, never to fields. */
const PIPELINE_AGGREGATIONS = new Set(['bucket_selector', 'bucket_script', 'bucket_sort', 'max_bucket', 'min_bucket', 'avg_bucket', 'sum_bucket', 'stats_bucket', 'derivative', 'cumulative_sum']);

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/**
 * Field names in a painless source: `doc['x']` and any other quoted dotted name (`isTrue(doc,
 * 'cryptochannel.tls.self_signed')`), since a script may pass field names to its own functions.
 */
export function scriptFields(source: string): string[] {
  const out = new Set<string>();
  for (const m of source.matchAll(/['"](@?[a-z_][a-z0-9_@]*(?:\.[a-z0-9_]+)+)['"]/gi)) out.add(m[1]!);
  return [...out];
}

function scriptUses(script: unknown, out: FieldUse[]): void {
  const source = typeof script === 'string' ? script : isObject(script) ? script.source : undefined;
  if (typeof source === 'string') for (const field of scriptFields(source)) out.push({ field, role: 'script' });
}

/** Fields named by a query clause. Throws on a clause it does not know, so nothing goes unchecked. */
export function queryFields(query: unknown, out: FieldUse[] = []): FieldUse[] {
  if (!isObject(query)) throw new Error(`a query clause must be an object, got ${JSON.stringify(query)}`);
  for (const [kind, spec] of Object.entries(query)) {
    if (kind === 'match_all' || kind === 'match_none') continue;
    if (!isObject(spec)) throw new Error(`query clause '${kind}' must be an object`);
    if (kind === 'bool') {
      for (const occurrence of ['must', 'filter', 'should', 'must_not']) for (const q of asArray(spec[occurrence])) queryFields(q, out);
    } else if (kind === 'exists') {
      out.push({ field: String(spec.field), role: 'query' });
    } else if (kind === 'script') {
      scriptUses(spec.script, out);
    } else if (kind === 'constant_score') {
      queryFields(spec.filter, out);
    } else if (kind === 'dis_max') {
      for (const q of asArray(spec.queries)) queryFields(q, out);
    } else if (LEAF_QUERIES.has(kind)) {
      for (const field of Object.keys(spec)) if (!LEAF_OPTIONS.has(field)) out.push({ field, role: 'query' });
    } else {
      throw new Error(`query clause '${kind}' is not one the field check understands`);
    }
  }
  return out;
}

/** Fields named by an `aggregations` object (composite sources, metric fields, filter queries). */
export function aggregationFields(aggregations: unknown, out: FieldUse[] = []): FieldUse[] {
  if (!isObject(aggregations)) throw new Error('aggregations must be an object of named aggregations');
  for (const [name, aggregation] of Object.entries(aggregations)) {
    if (!isObject(aggregation)) throw new Error(`aggregation '${name}' must be an object`);
    for (const [kind, spec] of Object.entries(aggregation)) {
      if (kind === 'aggregations' || kind === 'aggs') aggregationFields(spec, out);
      else if (kind === 'meta' || PIPELINE_AGGREGATIONS.has(kind)) continue;
      else if (kind === 'filter') queryFields(spec, out);
      else if (kind === 'filters' && isObject(spec)) for (const q of Object.values(isObject(spec.filters) ? spec.filters : {})) queryFields(q, out);
      else if (kind === 'composite' && isObject(spec)) {
        for (const source of asArray(spec.sources)) {
          for (const named of Object.values(source as Record<string, unknown>)) {
            for (const inner of Object.values(named as Record<string, unknown>)) {
              if (isObject(inner) && typeof inner.field === 'string') out.push({ field: inner.field, role: 'aggregation' });
            }
          }
        }
      } else if (isObject(spec)) {
        if (typeof spec.field === 'string') out.push({ field: spec.field, role: 'aggregation' });
        if (spec.script !== undefined) scriptUses(spec.script, out);
      }
    }
  }
  return out;
}

/** Fields named by a whole search request body (query, aggregations, _source, sort). */
export function searchBodyFields(body: Record<string, unknown>): FieldUse[] {
  const out: FieldUse[] = [];
  if (body.query !== undefined) queryFields(body.query, out);
  for (const key of ['aggregations', 'aggs']) if (body[key] !== undefined) aggregationFields(body[key], out);
  const source = body._source;
  const includes = Array.isArray(source) ? source : isObject(source) ? asArray(source.includes) : [];
  for (const field of includes) out.push({ field: String(field), role: 'source' });
  for (const sort of asArray(body.sort)) {
    for (const field of typeof sort === 'string' ? [sort] : Object.keys(sort as object)) if (!field.startsWith('_')) out.push({ field, role: 'sort' });
  }
  return out;
}

/** `logs-cryptochannel.<stream>-*` → the stream (a source or `alerts`), else undefined. */
export function streamOfIndexPattern(pattern: string): string | undefined {
  const match = new RegExp(`^logs-${PRODUCT}\\.([a-z0-9]+)-\\*$`).exec(pattern);
  const stream = match?.[1];
  return stream && ((SOURCES as readonly string[]).includes(stream) || stream === ALERTS_OWNER) ? stream : undefined;
}

/** Field name → mapped type in one stream's template (the shared fields plus the stream's own). */
export function streamFieldTypes(fields: OwnerFields[], stream: string, flavor: TemplateFlavor): Map<string, string> {
  const owners = fields.filter((f) => f.owner === SHARED || f.owner === stream);
  return new Map(Object.entries(flatMappings(owners, flavor)).map(([name, mapping]) => [name, String(mapping.type)]));
}

export const NUMERIC_TYPES = new Set(['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float', 'unsigned_long']);
/** Types a terms / composite source or an ML split field can group by. */
export const SPLIT_TYPES = new Set(['keyword', 'constant_keyword', 'wildcard', 'ip']);
/** Types nothing can aggregate on (no doc values). */
const UNAGGREGATABLE = new Set(['text', 'match_only_text', 'object', 'nested', 'flattened', 'flat_object']);

/**
 * Problems with the fields a search uses: each must be mapped by at least one of the streams it
 * reads, and an aggregated or sorted field must have doc values where it is mapped.
 */
export function checkFieldUses(uses: FieldUse[], streams: string[], fields: OwnerFields[], flavor: TemplateFlavor): string[] {
  const problems = new Set<string>();
  const types = streams.map((s) => streamFieldTypes(fields, s, flavor));
  for (const use of uses) {
    const mapped = types.map((t) => t.get(use.field)).filter((t): t is string => t !== undefined);
    if (!mapped.length) problems.add(`${use.role} field '${use.field}' is not mapped by ${streams.map((s) => `logs-${PRODUCT}.${s}`).join(', ')}`);
    else if ((use.role === 'aggregation' || use.role === 'sort' || use.role === 'script') && mapped.some((t) => UNAGGREGATABLE.has(t))) {
      problems.add(`${use.role} field '${use.field}' is mapped as ${[...new Set(mapped)].join('/')}, which has no doc values`);
    }
  }
  return [...problems];
}

/** The streams of a list of index patterns, or a problem for each pattern that names none. */
export function patternStreams(patterns: unknown, what: string): { streams: string[]; problems: string[] } {
  const streams: string[] = [];
  const problems: string[] = [];
  if (!Array.isArray(patterns) || !patterns.length) return { streams, problems: [`${what} must list index patterns`] };
  for (const pattern of patterns) {
    const stream = typeof pattern === 'string' ? streamOfIndexPattern(pattern) : undefined;
    if (stream) streams.push(stream);
    else problems.push(`${what}: '${String(pattern)}' is not a cryptochannel stream pattern (logs-${PRODUCT}.<source>-*)`);
  }
  return { streams, problems };
}

// ---------------------------------------------------------------------------------------------
// What the request types cannot say: function names (a plain string there) and what each function
// needs, per Elastic's ML function reference.

type FunctionKind = 'count' | 'rare' | 'freq_rare' | 'metric' | 'time' | 'geo';
const ML_FUNCTIONS: Record<string, FunctionKind> = {};
for (const f of ['count', 'high_count', 'low_count', 'non_zero_count', 'high_non_zero_count', 'low_non_zero_count']) ML_FUNCTIONS[f] = 'count';
for (const f of ['rare']) ML_FUNCTIONS[f] = 'rare';
for (const f of ['freq_rare']) ML_FUNCTIONS[f] = 'freq_rare';
for (const base of ['mean', 'avg', 'median', 'sum', 'non_null_sum', 'varp', 'distinct_count', 'info_content']) {
  for (const f of [base, `high_${base}`, `low_${base}`]) ML_FUNCTIONS[f] = 'metric';
}
for (const f of ['min', 'max', 'metric']) ML_FUNCTIONS[f] = 'metric';
for (const f of ['time_of_day', 'time_of_week']) ML_FUNCTIONS[f] = 'time';
ML_FUNCTIONS.lat_long = 'geo';

/** Numeric-only metric functions (distinct_count and info_content take any aggregatable field). */
function needsNumber(fn: string): boolean {
  return !/distinct_count|info_content/.test(fn);
}

/** Semantic checks of one job against the field definitions: functions, fields, types, streams. */
export function checkMlJob(job: MlJobContent, fields: OwnerFields[]): string[] {
  const problems: string[] = [];
  const flavor: TemplateFlavor = 'elasticsearch';
  const { streams, problems: patternProblems } = patternStreams(job.datafeed.indices, 'datafeed.indices');
  problems.push(...patternProblems);
  if (!streams.length) return problems;
  const types = streams.map((s) => streamFieldTypes(fields, s, flavor));
  const typeOf = (field: string): string[] => types.map((t) => t.get(field)).filter((t): t is string => t !== undefined);
  const need = (field: unknown, what: string, ok: Set<string>, label: string) => {
    if (typeof field !== 'string') return;
    const mapped = typeOf(field);
    if (!mapped.length) problems.push(`${what} '${field}' is not mapped by the datafeed's streams`);
    else if (!mapped.every((t) => ok.has(t))) problems.push(`${what} '${field}' is ${[...new Set(mapped)].join('/')}, not ${label}`);
  };

  const analysis = isObject(job.job.analysis_config) ? job.job.analysis_config : {};
  const detectors = Array.isArray(analysis.detectors) ? analysis.detectors : [];
  if (!detectors.length) problems.push('analysis_config.detectors is empty');
  detectors.forEach((raw, i) => {
    const d = raw as Record<string, unknown>;
    const where = `detector ${i} (${String(d.function)})`;
    const kind = ML_FUNCTIONS[String(d.function)];
    if (!kind) problems.push(`${where}: '${String(d.function)}' is not an ML function`);
    if ((kind === 'rare' || kind === 'freq_rare') && typeof d.by_field_name !== 'string') problems.push(`${where}: needs by_field_name`);
    if (kind === 'freq_rare' && typeof d.over_field_name !== 'string') problems.push(`${where}: needs over_field_name`);
    if ((kind === 'rare' || kind === 'freq_rare') && d.exclude_frequent !== undefined) problems.push(`${where}: rare functions must not use exclude_frequent`);
    if ((kind === 'metric' || kind === 'geo') && typeof d.field_name !== 'string') problems.push(`${where}: needs field_name`);
    if ((kind === 'count' || kind === 'rare' || kind === 'freq_rare' || kind === 'time') && d.field_name !== undefined) problems.push(`${where}: takes no field_name`);
    if (kind === 'metric' && needsNumber(String(d.function))) need(d.field_name, `${where} field_name`, NUMERIC_TYPES, 'numeric');
    else if (kind === 'metric') need(d.field_name, `${where} field_name`, new Set([...SPLIT_TYPES, ...NUMERIC_TYPES]), 'aggregatable');
    for (const key of ['by_field_name', 'over_field_name', 'partition_field_name']) need(d[key], `${where} ${key}`, SPLIT_TYPES, 'keyword or ip');
  });
  for (const influencer of Array.isArray(analysis.influencers) ? analysis.influencers : []) need(influencer, 'influencer', SPLIT_TYPES, 'keyword or ip');

  const description = isObject(job.job.data_description) ? job.job.data_description : {};
  if (description.time_field !== '@timestamp') problems.push("data_description.time_field must be '@timestamp'");
  const groups = job.job.groups;
  if (!Array.isArray(groups) || !groups.includes(PRODUCT)) problems.push(`groups must include '${PRODUCT}'`);

  try {
    problems.push(...checkFieldUses(searchBodyFields({ query: job.datafeed.query, aggregations: job.datafeed.aggregations }), streams, fields, flavor));
  } catch (err) {
    problems.push(`datafeed: ${(err as Error).message}`);
  }
  return problems;
}
