/**
 * Kibana detection rules, one YAML file per rule under detection-rules/rules/:
 *
 *   metadata:   the repository's own facts about the rule (never sent to Kibana)
 *     analytics:          DET0543 analytics it serves, AN1496..AN1500
 *     role:               sequence (an analytic's ordered chain) | signal (one event) |
 *                         machine_learning | promotion (correlator alerts → Kibana alerts)
 *     creation_date, updated_date (YYYY/MM/DD), maturity, min_stack_version
 *     exception_lists:    list_ids of the Kibana exception lists the rule honours
 *   rule:       the body of POST /api/detection_engine/rules, except `version`, `exceptions_list`
 *               and `meta`, which renderRule adds (version from version.lock.json, exception list
 *               references with the ids the cluster gave the lists, the managed `_meta` stamp).
 *
 * A query may name a tunable as `{{ Tunable "Name" }}`: rendering writes its value in the query's
 * language (a number as is; a list as `a, b` in EQL and `a or b` in KQL, strings quoted), so a
 * tuned value reaches the rule on the next apply. Lists that analysts tune from Kibana are better
 * served by exception lists, which take effect at once; placeholders are for values that have no
 * exception-list mirror (PortProfiles, thresholds).
 */
import path from 'node:path';
import { ContentError, listFiles, readYaml } from './files';
import { ECS, type OwnerFields } from './fields';
import { managedMeta, type ManagedMeta } from './hash';
import { tunableValue, type Tunables } from './tunables';
import { lockProblemsFor, type RuleLock } from './rule-lock';

export const ANALYTICS = ['AN1496', 'AN1497', 'AN1498', 'AN1499', 'AN1500'] as const;
export type Analytic = (typeof ANALYTICS)[number];

export const RULE_ROLES = ['sequence', 'signal', 'machine_learning', 'promotion'] as const;
export type RuleRole = (typeof RULE_ROLES)[number];

const MATURITIES = ['development', 'experimental', 'beta', 'production', 'deprecated'] as const;

/** Keys the renderer owns: content that sets them would be overwritten, so it may not. */
export const RENDERED_KEYS = ['version', 'exceptions_list', 'meta'] as const;

export interface RuleMetadata {
  analytics: Analytic[];
  role: RuleRole;
  creation_date: string;
  updated_date: string;
  maturity: (typeof MATURITIES)[number];
  min_stack_version: string;
  exception_lists: string[];
}

/** The rule body as written in content: Kibana's create payload minus the rendered keys. */
export interface RuleBody {
  rule_id: string;
  name: string;
  type: string;
  query?: string;
  language?: string;
  [key: string]: unknown;
}

export interface RuleContent {
  file: string;
  metadata: RuleMetadata;
  rule: RuleBody;
}

export interface ExceptionListReference {
  id: string;
  list_id: string;
  namespace_type: 'single';
  type: 'detection';
}

/** The rendered payload before its `meta` stamp, which hashes exactly this. */
export interface UnstampedRule extends RuleBody {
  version: number;
  exceptions_list: ExceptionListReference[];
}

/** What POST /api/detection_engine/rules receives. */
export interface RenderedRule extends UnstampedRule {
  meta: ManagedMeta;
}

export interface RenderRuleOptions {
  lock: RuleLock;
  /** list_id → the exception list's `id` in the target Kibana space (Kibana assigns it on creation). */
  exceptionListIds: Record<string, string>;
  packageVersion: string;
  /** Needed only by rules whose query names a tunable; the live document, or the shipped defaults. */
  tunables?: Tunables;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DATE = /^\d{4}\/\d{2}\/\d{2}$/;
const SEMVER = /^\d+\.\d+\.\d+$/;
const METADATA_KEYS = ['analytics', 'role', 'creation_date', 'updated_date', 'maturity', 'min_stack_version', 'exception_lists'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkMetadata(file: string, raw: unknown): RuleMetadata {
  if (!isRecord(raw)) throw new ContentError(file, '`metadata:` must be a mapping');
  for (const key of Object.keys(raw)) if (!METADATA_KEYS.includes(key)) throw new ContentError(file, `metadata.${key} is not a known key (${METADATA_KEYS.join(', ')})`);
  const { analytics, role, creation_date, updated_date, maturity, min_stack_version, exception_lists } = raw;
  if (!Array.isArray(analytics) || analytics.length === 0 || !analytics.every((a) => (ANALYTICS as readonly unknown[]).includes(a))) {
    throw new ContentError(file, `metadata.analytics must list one or more of ${ANALYTICS.join(', ')}`);
  }
  if (!(RULE_ROLES as readonly unknown[]).includes(role)) throw new ContentError(file, `metadata.role must be one of ${RULE_ROLES.join(', ')}`);
  for (const [key, value] of [['creation_date', creation_date], ['updated_date', updated_date]] as const) {
    if (typeof value !== 'string' || !DATE.test(value) || Number.isNaN(Date.parse(value.replace(/\//g, '-')))) {
      throw new ContentError(file, `metadata.${key} must be a date written YYYY/MM/DD (quote nothing, e.g. 2025/11/28)`);
    }
  }
  if ((updated_date as string) < (creation_date as string)) throw new ContentError(file, 'metadata.updated_date lies before creation_date');
  if (!(MATURITIES as readonly unknown[]).includes(maturity)) throw new ContentError(file, `metadata.maturity must be one of ${MATURITIES.join(', ')}`);
  if (typeof min_stack_version !== 'string' || !SEMVER.test(min_stack_version)) throw new ContentError(file, 'metadata.min_stack_version must be a quoted version such as "8.14.0"');
  if (!Array.isArray(exception_lists) || !exception_lists.every((l) => typeof l === 'string' && l.length > 0)) {
    throw new ContentError(file, 'metadata.exception_lists must be a list of exception list ids');
  }
  if (new Set(exception_lists).size !== exception_lists.length) throw new ContentError(file, 'metadata.exception_lists names a list twice');
  return raw as unknown as RuleMetadata;
}

function checkBody(file: string, raw: unknown): RuleBody {
  if (!isRecord(raw)) throw new ContentError(file, '`rule:` must be a mapping (the Kibana rule payload)');
  for (const key of RENDERED_KEYS) {
    if (key in raw) throw new ContentError(file, `rule.${key} is added when the rule is rendered; remove it from the content`);
  }
  if (typeof raw.rule_id !== 'string' || !UUID.test(raw.rule_id)) throw new ContentError(file, 'rule.rule_id must be a fixed lower-case UUID');
  if (typeof raw.name !== 'string' || !raw.name.trim()) throw new ContentError(file, 'rule.name is required');
  if (typeof raw.type !== 'string') throw new ContentError(file, 'rule.type is required');
  return raw as RuleBody;
}

/** Loads and checks every rule file of `detectionRulesRoot`/rules/ (detection-rules/ in the package). */
export function loadRules(detectionRulesRoot: string): RuleContent[] {
  const dir = path.join(detectionRulesRoot, 'rules');
  const rules: RuleContent[] = [];
  const ids = new Map<string, string>();
  const names = new Map<string, string>();
  for (const file of listFiles(dir, (n) => n.endsWith('.yaml') || n.endsWith('.yml'))) {
    const doc = readYaml<Record<string, unknown>>(file);
    if (!isRecord(doc)) throw new ContentError(file, 'a rule file holds `metadata:` and `rule:`');
    for (const key of Object.keys(doc)) if (key !== 'metadata' && key !== 'rule') throw new ContentError(file, `unexpected top-level key '${key}' (only metadata and rule)`);
    const metadata = checkMetadata(file, doc.metadata);
    const rule = checkBody(file, doc.rule);
    const sameId = ids.get(rule.rule_id);
    if (sameId) throw new ContentError(file, `rule_id ${rule.rule_id} is also used by ${path.basename(sameId)}`);
    const sameName = names.get(rule.name);
    if (sameName) throw new ContentError(file, `rule name '${rule.name}' is also used by ${path.basename(sameName)}`);
    ids.set(rule.rule_id, file);
    names.set(rule.name, file);
    rules.push({ file, metadata, rule });
  }
  return rules;
}

const TUNABLE = /\{\{\s*Tunable\s+"([^"]+)"\s*\}\}/g;
const HAS_TUNABLE = /\{\{\s*Tunable\s+"[^"]+"\s*\}\}/;

type QueryDialect = 'eql' | 'kuery';

function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function literal(value: unknown, dialect: QueryDialect, describeIt: () => string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return quoted(value);
  throw new Error(`${describeIt()} has a value that cannot be written in ${dialect === 'eql' ? 'EQL' : 'KQL'}`);
}

/**
 * Writes a tunable's value into a query: scalars as literals; a list as its elements joined the way
 * the language joins a set (EQL `in (a, b)`, KQL `field: (a or b)`), the parentheses being the
 * query author's. An empty list has no such form and is refused.
 */
export function renderTunableValue(name: string, value: unknown, dialect: QueryDialect): string {
  const what = () => `tunable ${name}`;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Error(`${what()} is an empty list, which a query cannot express`);
    return value.map((v) => literal(v, dialect, what)).join(dialect === 'eql' ? ', ' : ' or ');
  }
  return literal(value, dialect, what);
}

/** Replaces `{{ Tunable "Name" }}` placeholders of a query; unknown names are content errors. */
export function renderQuery(file: string, query: string, dialect: QueryDialect | undefined, tunables: Tunables | undefined): string {
  if (!HAS_TUNABLE.test(query)) return query;
  if (!dialect) throw new ContentError(file, 'tunable placeholders are rendered only in EQL and KQL (kuery) queries');
  if (!tunables) throw new ContentError(file, 'the query names a tunable, but no tunables were given to render it');
  return query.replace(TUNABLE, (_all, name: string) => {
    const value = tunableValue(file, name, tunables);
    try {
      return renderTunableValue(name, value, dialect);
    } catch (err) {
      throw new ContentError(file, (err as Error).message);
    }
  });
}

function dialectOf(rule: RuleBody): QueryDialect | undefined {
  if (rule.language === 'eql') return 'eql';
  if (rule.language === 'kuery' || (rule.language === undefined && rule.type !== 'esql')) return 'kuery';
  return undefined;
}

/** Placeholders belong in `query` only; anywhere else they would reach Kibana unrendered. */
function assertNoStrayPlaceholders(file: string, body: Record<string, unknown>): void {
  const walk = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      if (HAS_TUNABLE.test(value)) throw new ContentError(file, `${where}: tunable placeholders are rendered only in rule.query`);
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${where}[${i}]`));
    else if (isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
  };
  for (const [key, value] of Object.entries(body)) if (key !== 'query') walk(value, `rule.${key}`);
}

/**
 * The exact body for POST /api/detection_engine/rules: the content's payload with its tunables
 * written in, `version` from the lock (refused when the lock is stale), the exception lists it
 * honours as references, and `meta` stamped as ours with the hash of everything else.
 */
export function renderRule(content: RuleContent, options: RenderRuleOptions): RenderedRule {
  const { file, metadata, rule } = content;
  const stale = lockProblemsFor(content, options.lock).map((p) => p.replace(`${path.basename(file)}: `, ''));
  if (stale.length > 0) throw new ContentError(file, stale.join('; '));
  assertNoStrayPlaceholders(file, rule);

  const exceptions_list = metadata.exception_lists.map((listId): ExceptionListReference => {
    const id = options.exceptionListIds[listId];
    if (!id) throw new ContentError(file, `exception list '${listId}' has no id in the target space (create the list before the rule)`);
    return { id, list_id: listId, namespace_type: 'single', type: 'detection' };
  });
  const body: UnstampedRule = {
    ...rule,
    ...(typeof rule.query === 'string' ? { query: renderQuery(file, rule.query, dialectOf(rule), options.tunables) } : {}),
    version: options.lock[rule.rule_id]!.version,
    exceptions_list,
  };
  return { ...body, meta: managedMeta(body, options.packageVersion) };
}

// ---------------------------------------------------------------------------------------------
// Fields a rule names, for checking them against the templates.

/** Removes string literals (EQL "..." / """...""" / '...', KQL "...") so that values are not read as fields. */
function withoutStrings(query: string): string {
  return query.replace(/"""[\s\S]*?"""|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ');
}

// A dotted identifier, optionally EQL's `?` (optional field) prefix; `@timestamp` counts too.
const DOTTED = /(?<![\w.@?])\??(@timestamp|[A-Za-z_][\w-]*(?:\.[A-Za-z_@][\w-]*)+)/g;
// In KQL a field is what stands before `:` or a range operator.
const KQL_FIELD = /(?<![\w.@])(@timestamp|[A-Za-z_][\w-]*(?:\.[A-Za-z_@][\w-]*)*)\s*(?=:|<=|>=|<|>)/g;

/** Field names a query refers to: EQL's dotted identifiers, KQL's `field:` / `field >=` operands. */
export function queryFieldNames(query: string, language: string | undefined): string[] {
  const text = withoutStrings(query);
  const found = new Set<string>();
  if (language === 'eql') {
    for (const m of text.matchAll(DOTTED)) found.add(m[1]!);
  } else {
    for (const m of text.matchAll(KQL_FIELD)) found.add(m[1]!);
  }
  return [...found].sort();
}

export interface NamedField {
  name: string;
  /** Where the rule names it, e.g. `query`, `required_fields`, `new_terms_fields`. */
  where: string;
}

/** Every field a rule body names: in its query and in the field-valued settings Kibana reads. */
export function ruleFieldNames(rule: RuleBody, renderedQuery = rule.query): NamedField[] {
  const out: NamedField[] = [];
  if (typeof renderedQuery === 'string') for (const name of queryFieldNames(renderedQuery, rule.language)) out.push({ name, where: 'query' });
  const add = (where: string, value: unknown) => {
    if (typeof value === 'string') out.push({ name: value, where });
    else if (Array.isArray(value)) for (const v of value) add(where, v);
  };
  for (const key of ['rule_name_override', 'timestamp_override', 'new_terms_fields', 'event_category_override', 'tiebreaker_field', 'timestamp_field'] as const) add(key, rule[key]);
  for (const key of ['risk_score_mapping', 'severity_mapping', 'required_fields'] as const) {
    const list = rule[key];
    if (Array.isArray(list)) for (const entry of list) if (isRecord(entry)) add(key, entry.field ?? entry.name);
  }
  if (isRecord(rule.alert_suppression)) add('alert_suppression.group_by', rule.alert_suppression.group_by);
  if (isRecord(rule.threshold)) add('threshold.field', rule.threshold.field);
  return out;
}

/** The mapping type of every field the templates define: ECS types for ECS fields, declared ones for ours. */
export function mappedFieldTypes(fields: OwnerFields[]): Map<string, string> {
  const types = new Map<string, string>();
  for (const owner of fields) {
    for (const name of owner.ecs) if (ECS[name]) types.set(name, ECS[name]!.type);
    for (const field of owner.custom) types.set(field.name, field.type);
  }
  for (const name of ['@timestamp', 'event.ingested']) types.set(name, 'date');
  for (const name of ['event.dataset', 'data_stream.type', 'data_stream.dataset', 'data_stream.namespace']) types.set(name, 'keyword');
  return types;
}
