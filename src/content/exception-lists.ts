/**
 * Kibana exception lists that mirror the allow-list tunables, so that analysts tune from Kibana.
 *
 * A definition (kibana-assets/exception-lists/<list_id>.yaml) names the list, the tunable it mirrors
 * and the ECS field the values match. The items are generated from the tunables, never written by
 * hand, and read back the other way: `tunablesFromExceptionItems` turns what the analysts left in
 * Kibana into tunable values for the correlator. Bodies follow Kibana's exception lists API
 * (POST /api/exception_lists, POST /api/exception_lists/items; `detection` lists, `single` namespace).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { ContentError, listFiles, readYaml } from './files';
import { managedMeta, sha256 } from './hash';
import type { Tunables } from './tunables';

/** The tunables that are lists of strings: the ones a list of exception items can mirror. */
export type MirroredTunable = { [K in keyof Tunables]: Tunables[K] extends string[] ? K : never }[keyof Tunables];

/**
 * How the values become entries:
 * - `match`: one item per value, `match` on the field (a value with `*`/`?` becomes a `wildcard`
 *   entry when the tunable's syntax has wildcards);
 * - `contains`: one item per value, `wildcard` `*value*` (the tunable matches substrings);
 * - `match_any`: one item holding every value.
 */
export type EntryKind = 'match' | 'contains' | 'match_any';

export interface ExceptionListDef {
  file: string;
  list_id: string;
  name: string;
  description: string;
  tags: string[];
  /** The tunable mirrored; absent for a list the analysts own alone. */
  tunable?: MirroredTunable;
  field?: string;
  /** IP literals and CIDR ranges of the tunable match this field instead. */
  ip_field?: string;
  entry?: EntryKind;
  /** The tunable's syntax understands `*` (a `*.suffix` host): such values become wildcard entries. */
  wildcards: boolean;
  /** The tunable ignores case: values that differ only in case are one value. */
  case_insensitive: boolean;
  /** Item names read `<item_name>: <value>`. */
  item_name?: string;
}

export type EntryOperator = 'included' | 'excluded';

export type ExceptionEntry =
  | { type: 'match'; field: string; value: string; operator: EntryOperator }
  | { type: 'match_any'; field: string; value: string[]; operator: EntryOperator }
  | { type: 'wildcard'; field: string; value: string; operator: EntryOperator };

/** Body of POST /api/exception_lists. */
export interface ExceptionListBody {
  list_id: string;
  name: string;
  description: string;
  type: 'detection';
  namespace_type: 'single';
  os_types: [];
  tags: string[];
  meta?: Record<string, unknown>;
}

/** Body of POST /api/exception_lists/items. */
export interface ExceptionItemBody {
  list_id: string;
  item_id: string;
  type: 'simple';
  name: string;
  description: string;
  entries: ExceptionEntry[];
  namespace_type: 'single';
  os_types: [];
  tags: string[];
  meta?: Record<string, unknown>;
}

export interface RenderedExceptionList {
  list: ExceptionListBody;
  items: ExceptionItemBody[];
}

const DEF_KEYS = new Set(['list_id', 'name', 'description', 'tags', 'tunable', 'field', 'ip_field', 'entry', 'wildcards', 'case_insensitive', 'item_name']);
const ENTRY_KINDS: readonly EntryKind[] = ['match', 'contains', 'match_any'];

function loadDef(file: string): ExceptionListDef {
  const raw = readYaml<Record<string, unknown>>(file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ContentError(file, 'an exception list definition is a mapping');
  const unknown = Object.keys(raw).filter((k) => !DEF_KEYS.has(k));
  if (unknown.length) throw new ContentError(file, `unknown keys ${unknown.join(', ')}`);
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v.trim()) throw new ContentError(file, `${key} must be a non-empty string`);
    return v;
  };
  const list_id = str('list_id');
  const name = str('name');
  const description = str('description');
  if (!list_id || !name || !description) throw new ContentError(file, 'list_id, name and description are required');
  if (!list_id.startsWith('cryptochannel-')) throw new ContentError(file, 'list_id starts with cryptochannel-');
  if (path.basename(file).replace(/\.ya?ml$/, '') !== list_id) throw new ContentError(file, `the file is named after its list_id: ${list_id}.yaml`);
  const tags = raw.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t.trim())) throw new ContentError(file, 'tags are non-empty strings');
  const entry = str('entry');
  if (entry !== undefined && !(ENTRY_KINDS as readonly string[]).includes(entry)) throw new ContentError(file, `entry is one of ${ENTRY_KINDS.join(', ')}`);
  for (const flag of ['wildcards', 'case_insensitive']) {
    if (raw[flag] !== undefined && typeof raw[flag] !== 'boolean') throw new ContentError(file, `${flag} is true or false`);
  }
  const def: ExceptionListDef = {
    file,
    list_id,
    name,
    description,
    tags: tags as string[],
    tunable: str('tunable') as MirroredTunable | undefined,
    field: str('field'),
    ip_field: str('ip_field'),
    entry: entry as EntryKind | undefined,
    wildcards: raw.wildcards === true,
    case_insensitive: raw.case_insensitive === true,
    item_name: str('item_name'),
  };
  if (def.tunable && (!def.field || !def.entry || !def.item_name)) throw new ContentError(file, 'a list that mirrors a tunable needs field, entry and item_name');
  if (!def.tunable && (def.field || def.ip_field || def.entry || def.item_name)) throw new ContentError(file, 'field, ip_field, entry and item_name belong to a list that mirrors a tunable');
  if (def.entry === 'contains' && def.wildcards) throw new ContentError(file, "a 'contains' list cannot also take the tunable's wildcards");
  return def;
}

/** kibana-assets/exception-lists/*.yaml; list ids are unique. */
export function loadExceptionListDefs(root: string): ExceptionListDef[] {
  const defs = listFiles(path.join(root, 'exception-lists'), (n) => n.endsWith('.yaml') || n.endsWith('.yml')).map(loadDef);
  const tunables = new Set<string>();
  for (const def of defs) {
    if (def.tunable && tunables.has(def.tunable)) throw new ContentError(def.file, `${def.tunable} is mirrored by two lists`);
    if (def.tunable) tunables.add(def.tunable);
  }
  return defs;
}

/** An IPv4/IPv6 literal or a CIDR range: what an `ip` field can match. */
export function isIpOrCidr(value: string): boolean {
  const [addr, prefix, ...rest] = value.split('/');
  if (rest.length || !addr) return false;
  const family = isIP(addr);
  if (!family) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

const WILDCARD_CHARS = /[*?\\]/g;

function escapeWildcard(value: string): string {
  return value.replace(WILDCARD_CHARS, '\\$&');
}

/** The text inside `*...*` when it holds no wildcard of its own; undefined otherwise. */
function unwrapContains(pattern: string): string | undefined {
  if (pattern.length < 3 || !pattern.startsWith('*') || !pattern.endsWith('*')) return undefined;
  const inner = pattern.slice(1, -1);
  // An odd run of backslashes before the closing * escapes it: then it is part of the text.
  if ((/\\*$/.exec(inner)?.[0].length ?? 0) % 2 === 1) return undefined;
  if (/(^|[^\\])(\\\\)*[*?]/.test(inner)) return undefined;
  return inner.replace(/\\(.)/g, '$1');
}

function normalise(def: ExceptionListDef, value: string): string {
  const trimmed = value.trim();
  return def.case_insensitive ? trimmed.toLowerCase() : trimmed;
}

/** Deterministic and readable: the list id, the value in slug form, and a hash of the value. */
export function exceptionItemId(def: ExceptionListDef, value: string): string {
  const norm = normalise(def, value);
  const slug = norm.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'value';
  return `${def.list_id}-${slug}-${sha256(norm).slice(0, 8)}`;
}

function entryFor(def: ExceptionListDef, value: string): ExceptionEntry {
  const field = def.field!;
  if (def.ip_field && isIpOrCidr(value)) return { type: 'match', field: def.ip_field, value, operator: 'included' };
  if (def.entry === 'contains') return { type: 'wildcard', field, value: `*${escapeWildcard(value)}*`, operator: 'included' };
  if (def.wildcards && /[*?]/.test(value)) return { type: 'wildcard', field, value, operator: 'included' };
  return { type: 'match', field, value, operator: 'included' };
}

function uniqueValues(def: ExceptionListDef, values: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const value of values) {
    const norm = normalise(def, value);
    if (!norm || seen.has(norm)) continue;
    seen.add(norm);
    out.push(value.trim());
  }
  return out;
}

function tunableValues(def: ExceptionListDef, tunables: Tunables): string[] {
  const value: unknown = tunables[def.tunable!];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ContentError(def.file, `${def.tunable} is not a list of strings in the tunables`);
  return uniqueValues(def, value as string[]);
}

function withMeta<T extends object>(body: T, packageVersion: string | undefined, extra: Record<string, unknown> = {}): T {
  return packageVersion ? { ...body, meta: { ...managedMeta(body, packageVersion), ...extra } } : body;
}

function itemsFor(def: ExceptionListDef, tunables: Tunables, packageVersion: string | undefined): ExceptionItemBody[] {
  if (!def.tunable) return [];
  const values = tunableValues(def, tunables);
  const base = { list_id: def.list_id, type: 'simple' as const, namespace_type: 'single' as const, os_types: [] as [], tags: ['cryptochannel', `tunable:${def.tunable}`] };
  if (def.entry === 'match_any') {
    if (values.length === 0) return [];
    const entries: ExceptionEntry[] = [{ type: 'match_any', field: def.field!, value: values, operator: 'included' }];
    const body: ExceptionItemBody = { ...base, item_id: `${def.list_id}-all`, name: `${def.item_name}: all`, description: `Every value of the ${def.tunable} tunable.`, entries };
    return [withMeta(body, packageVersion)];
  }
  return values.map((value) =>
    withMeta<ExceptionItemBody>(
      {
        ...base,
        item_id: exceptionItemId(def, value),
        name: `${def.item_name}: ${value}`,
        description: `'${value}' in the ${def.tunable} tunable. Delete this item to remove it from the tunable; the correlator follows on its next run.`,
        entries: [entryFor(def, value)],
      },
      packageVersion,
    ),
  );
}

export interface RenderExceptionListsOptions {
  /** When given, lists and items carry `meta` with managed_by, package_version and content_sha256. */
  packageVersion?: string;
}

/**
 * For each definition, the body of POST /api/exception_lists and the bodies of
 * POST /api/exception_lists/items generated from the tunables (live or default). Pure.
 */
export function renderExceptionLists(defs: ExceptionListDef[], tunables: Tunables, options: RenderExceptionListsOptions = {}): RenderedExceptionList[] {
  return defs.map((def) => {
    const list: ExceptionListBody = {
      list_id: def.list_id,
      name: def.name,
      description: def.description,
      type: 'detection',
      namespace_type: 'single',
      os_types: [],
      tags: def.tags,
    };
    return {
      list: withMeta(list, options.packageVersion, def.tunable ? { tunable: def.tunable } : {}),
      items: itemsFor(def, tunables, options.packageVersion),
    };
  });
}

/** An exception item as Kibana returns it (GET /api/exception_lists/items/_find): only what is read. */
export interface ExceptionItemLike {
  list_id: string;
  item_id?: string;
  entries: unknown;
  expire_time?: string;
}

export interface IgnoredExceptionItem {
  list_id: string;
  item_id: string;
  reason: string;
}

export interface TunablesFromItems {
  tunables: Partial<Record<MirroredTunable, string[]>>;
  ignored: IgnoredExceptionItem[];
}

export interface TunablesFromItemsOptions {
  /** Items whose expire_time is not after this are ignored. */
  now?: Date;
  /** The list ids whose items were read; only their tunables are returned (default: every list). */
  lists?: string[];
}

type Candidate = { values: string[] } | { reason: string };

function valuesOf(def: ExceptionListDef, entries: unknown): Candidate {
  if (!Array.isArray(entries) || entries.length === 0) return { reason: 'it has no entries' };
  if (entries.length > 1) return { reason: `it combines ${entries.length} conditions with AND, which a flat allow-list cannot hold` };
  const entry = entries[0] as Record<string, unknown>;
  if (entry === null || typeof entry !== 'object') return { reason: 'its entry is not an object' };
  if (entry.operator !== 'included') return { reason: `its operator is ${String(entry.operator)} (only "is" / included entries allow a value)` };
  const onIpField = def.ip_field !== undefined && entry.field === def.ip_field;
  if (entry.field !== def.field && !onIpField) return { reason: `it matches ${String(entry.field)}, not ${def.field}${def.ip_field ? ` or ${def.ip_field}` : ''}` };
  let values: string[];
  if (entry.type === 'match' && typeof entry.value === 'string') values = [entry.value];
  else if (entry.type === 'match_any' && Array.isArray(entry.value) && entry.value.every((v) => typeof v === 'string')) values = entry.value as string[];
  else if (entry.type === 'wildcard' && typeof entry.value === 'string') {
    if (def.entry === 'contains') {
      const inner = unwrapContains(entry.value);
      if (inner === undefined) return { reason: `its pattern ${entry.value} is not *text* (the tunable matches substrings)` };
      values = [inner];
    } else if (def.wildcards && !onIpField) values = [entry.value];
    else return { reason: `${def.tunable} has no wildcard syntax` };
  } else return { reason: `entries of type ${String(entry.type)} cannot be mirrored` };
  if (onIpField) {
    const bad = values.find((v) => !isIpOrCidr(v.trim()));
    if (bad !== undefined) return { reason: `${bad} is not an IP address or CIDR range` };
  }
  return { values };
}

/**
 * The tunable values the analysts' exception items express, per mirrored list, in item order and
 * without duplicates; items that say something a flat allow-list cannot (AND of conditions, `is not`,
 * value lists, nested entries, a wildcard the tunable has no syntax for, an expired item) are
 * returned in `ignored` with the reason. A list with no items yields an empty tunable: pass every
 * item of every list read (and name the lists in `options.lists` when not all were read).
 */
export function tunablesFromExceptionItems(defs: ExceptionListDef[], items: ExceptionItemLike[], options: TunablesFromItemsOptions = {}): TunablesFromItems {
  const result: TunablesFromItems = { tunables: {}, ignored: [] };
  const byList = new Map(defs.map((d) => [d.list_id, d]));
  const collected = new Map<string, string[]>();
  for (const item of items) {
    const def = byList.get(item.list_id);
    const itemId = item.item_id ?? '(no item_id)';
    if (!def) {
      result.ignored.push({ list_id: item.list_id, item_id: itemId, reason: 'it belongs to a list cryptochannel does not define' });
      continue;
    }
    if (!def.tunable || (options.lists && !options.lists.includes(def.list_id))) continue;
    if (options.now && item.expire_time && !(Date.parse(item.expire_time) > options.now.getTime())) {
      result.ignored.push({ list_id: def.list_id, item_id: itemId, reason: `it expired at ${item.expire_time}` });
      continue;
    }
    const candidate = valuesOf(def, item.entries);
    if ('reason' in candidate) {
      result.ignored.push({ list_id: def.list_id, item_id: itemId, reason: candidate.reason });
      continue;
    }
    collected.set(def.list_id, [...(collected.get(def.list_id) ?? []), ...candidate.values]);
  }
  for (const def of defs) {
    if (!def.tunable || (options.lists && !options.lists.includes(def.list_id))) continue;
    result.tunables[def.tunable] = uniqueValues(def, collected.get(def.list_id) ?? []);
  }
  return result;
}
