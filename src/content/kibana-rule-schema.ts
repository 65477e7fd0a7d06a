/**
 * Kibana's own rule model, as the contract for every rule payload we send to
 * POST /api/detection_engine/rules: the OpenAPI 3.0 YAML that Kibana generates its request
 * validation from, vendored verbatim in ../shared/reference/kibana-rule-schema (PROVENANCE.md there
 * names the commits). We compile it with ajv instead of writing a stand-in schema of our own.
 *
 * What it takes to make ajv read Kibana's files:
 * - every file is registered under the URL it has in the Kibana source tree, so that the relative
 *   `$ref`s between them (`./common_attributes.schema.yaml#/...`, `../../../model/...`) resolve as
 *   they do there;
 * - the three files the vendored set does not include are stubbed as PROVENANCE.md says;
 * - OpenAPI keywords ajv does not know (`x-*` codegen hints, `example`, `discriminator`) are
 *   registered as annotations, and Kibana's own string formats (`nonempty`, `date-math`) get checks;
 * - `nullable: true` next to a `$ref` (legal for Kibana's generator, not for ajv, which wants a
 *   `type` beside it) becomes "the reference, or null".
 * `x-modify` (partial / required) only shapes the PATCH and response schemas, never the create
 * schema we validate against, so ignoring it is exact here.
 *
 * Kibana resolves `RuleCreateProps` (an `anyOf` with a `discriminator` on `type`) by the rule's
 * type; so do we, which gives one branch's errors instead of eight branches' worth of noise.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { PACKAGE_ROOT } from '../package-info';

/** Where the workspace keeps the reference schemas: a sibling of the project, `../shared/reference`. */
export function defaultReferenceRoot(): string {
  return path.resolve(PACKAGE_ROOT, '..', 'shared', 'reference');
}

/** The directory of the rule schema files inside Kibana's source tree; relative `$ref`s resolve against it. */
const KIBANA_RULE_SCHEMA_DIR =
  'https://kibana.schema.invalid/x-pack/solutions/security/plugins/security_solution/common/api/detection_engine/model/rule_schema/';
const ENTRY_FILE = 'rule_schemas.schema.yaml';

/** The three files the vendored set leaves out, stubbed as ../shared/reference/PROVENANCE.md prescribes. */
const STUBS: Record<string, Record<string, object>> = {
  '../../../model/primitives.schema.yaml': {
    UUID: { type: 'string', format: 'uuid' },
    NonEmptyString: { type: 'string', minLength: 1 },
  },
  '../rule_response_actions/response_actions.schema.yaml': {
    ResponseAction: { type: 'object' },
  },
  '../../rule_monitoring/model/execution_summary.schema.yaml': {
    RuleExecutionSummary: { type: 'object' },
  },
};

export interface RuleSchemaProblem {
  /** JSON pointer into the payload, `/` for the top level. */
  path: string;
  message: string;
}

export interface RuleSchemaValidator {
  /** The rule types RuleCreateProps admits, from the schema (eql, query, machine_learning, ...). */
  readonly ruleTypes: string[];
  /** Every problem Kibana's schema finds in a create body (POST, `RuleCreateProps`); empty when valid. */
  validate(payload: unknown): RuleSchemaProblem[];
  /** The same for an update body (PUT, `RuleUpdateProps`: a create body that may also carry `id`). */
  validateUpdate(payload: unknown): RuleSchemaProblem[];
}

export class RuleSchemaUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleSchemaUnavailableError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function yamlFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return yamlFiles(full, `${prefix}${name}/`);
      return name.endsWith('.yaml') ? [`${prefix}${name}`] : [];
    });
}

/** `{$ref, nullable: true}` → `{anyOf: [{$ref}, {type: 'null'}]}`, recursively; everything else unchanged. */
function rewriteNullableRefs(node: Json): Json {
  if (Array.isArray(node)) return node.map(rewriteNullableRefs);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) out[key] = rewriteNullableRefs(value);
  if (typeof out.$ref === 'string' && out.nullable === true) {
    const { $ref, nullable: _nullable, ...rest } = out;
    return { ...rest, anyOf: [{ $ref }, { type: 'null' }] };
  }
  return out;
}

// Kibana's date math for `from`/`to`: `now`, optionally +/- amounts and a rounding, or an absolute date.
const DATE_MATH = /^now(?:[+-]\d+[smhdwMyH])*(?:\/[smhdwMyH])?$/;

function createAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    // Fully strict (keywords, types, required): an unknown keyword in a vendored file is an error.
    // Kibana's files are OpenAPI documents, so their envelopes and hints are declared below.
    strict: true,
  });
  ajv.addVocabulary([
    'openapi', 'info', 'paths', 'components',
    'x-codegen-enabled', 'x-inline', 'x-modify',
    'example', 'discriminator',
  ]);
  ajv.addFormat('nonempty', /\S/);
  ajv.addFormat('date-math', { type: 'string', validate: (s: string) => DATE_MATH.test(s) || !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)) });
  return ajv;
}

function describe(error: ErrorObject): RuleSchemaProblem {
  const where = error.instancePath || '/';
  switch (error.keyword) {
    case 'required':
      return { path: where, message: `must have required property '${String(error.params.missingProperty)}'` };
    case 'enum':
      return { path: where, message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'format':
      return { path: where, message: `must be a valid ${String(error.params.format)} value` };
    default:
      return { path: where, message: error.message ?? error.keyword };
  }
}

interface Loaded {
  ajv: Ajv;
  documents: Map<string, JsonObject>;
}

function load(referenceRoot: string): Loaded {
  const dir = path.join(referenceRoot, 'kibana-rule-schema');
  if (!existsSync(path.join(dir, ENTRY_FILE))) {
    throw new RuleSchemaUnavailableError(
      `Kibana's rule schema was not found at ${dir}. It is vendored in the workspace's shared folder ` +
        `(../shared/reference/kibana-rule-schema beside the project, see PROVENANCE.md there); without it rule payloads cannot be validated.`,
    );
  }
  const ajv = createAjv();
  const documents = new Map<string, JsonObject>();
  for (const file of yamlFiles(dir)) {
    const uri = new URL(file, KIBANA_RULE_SCHEMA_DIR).href;
    const doc = rewriteNullableRefs(parseYaml(readFileSync(path.join(dir, file), 'utf8')) as Json);
    if (!isObject(doc)) throw new RuleSchemaUnavailableError(`${path.join(dir, file)} is not an OpenAPI document`);
    documents.set(uri, doc);
  }
  for (const [relative, schemas] of Object.entries(STUBS)) {
    const uri = new URL(relative, KIBANA_RULE_SCHEMA_DIR).href;
    if (!documents.has(uri)) documents.set(uri, { components: { schemas: schemas as JsonObject } });
  }
  for (const [uri, doc] of documents) ajv.addSchema(doc, uri);
  return { ajv, documents };
}

/** Follows a `$ref` (relative to `base`) to its schema object and the URI of the document holding it. */
function deref(documents: Map<string, JsonObject>, ref: string, base: string): { schema: JsonObject; base: string } {
  const url = new URL(ref, base);
  const docUri = `${url.origin}${url.pathname}`;
  let node: Json | undefined = documents.get(docUri);
  for (const part of decodeURIComponent(url.hash.replace(/^#\/?/, '')).split('/').filter(Boolean)) {
    node = isObject(node) ? node[part] : undefined;
  }
  if (!isObject(node)) throw new RuleSchemaUnavailableError(`unresolvable $ref ${url.href}`);
  return { schema: node, base: docUri };
}

/** Walks a schema through `$ref` and `allOf`, calling `visit` on each object schema met. */
function walkAllOf(documents: Map<string, JsonObject>, schema: JsonObject, base: string, visit: (s: JsonObject) => void): void {
  if (typeof schema.$ref === 'string') {
    const target = deref(documents, schema.$ref, base);
    walkAllOf(documents, target.schema, target.base, visit);
  }
  visit(schema);
  if (Array.isArray(schema.allOf)) for (const part of schema.allOf) if (isObject(part)) walkAllOf(documents, part, base, visit);
}

interface Branch {
  validate: ValidateFunction;
  properties: Set<string>;
}

interface Union {
  name: string;
  branches: Map<string, Branch>;
  whole: ValidateFunction;
}

/** A discriminated union of rule_schemas.schema.yaml (RuleCreateProps, RuleUpdateProps), keyed by rule type. */
function compileUnion(ajv: Ajv, documents: Map<string, JsonObject>, entry: string, name: string): Union {
  const union = deref(documents, `#/components/schemas/${name}`, entry).schema;
  if (!Array.isArray(union.anyOf)) throw new RuleSchemaUnavailableError(`${name} is not the anyOf union this code expects`);
  const branches = new Map<string, Branch>();
  for (const option of union.anyOf) {
    if (!isObject(option) || typeof option.$ref !== 'string') continue;
    const types = new Set<string>();
    const properties = new Set<string>();
    walkAllOf(documents, option, entry, (s) => {
      if (!isObject(s.properties)) return;
      for (const prop of Object.keys(s.properties)) properties.add(prop);
      const type = s.properties.type;
      if (isObject(type) && Array.isArray(type.enum)) for (const t of type.enum) if (typeof t === 'string') types.add(t);
    });
    const validate = ajv.getSchema(new URL(option.$ref, entry).href);
    if (!validate) throw new RuleSchemaUnavailableError(`cannot compile ${option.$ref}`);
    for (const type of types) branches.set(type, { validate, properties });
  }
  const whole = ajv.getSchema(`${entry}#/components/schemas/${name}`);
  if (!whole) throw new RuleSchemaUnavailableError(`cannot compile ${name}`);
  return { name, branches, whole };
}

function validateAgainst(union: Union, payload: unknown): RuleSchemaProblem[] {
  const ruleTypes = [...union.branches.keys()];
  if (!isObject(payload)) return [{ path: '/', message: 'must be an object' }];
  const branch = typeof payload.type === 'string' ? union.branches.get(payload.type) : undefined;
  if (!branch) {
    // No branch to blame: the union's verdict, with the discriminator named.
    return [{ path: '/type', message: `must be one of ${ruleTypes.map((t) => JSON.stringify(t)).join(', ')}` }];
  }
  const problems: RuleSchemaProblem[] = [];
  if (!branch.validate(payload)) problems.push(...(branch.validate.errors ?? []).map(describe));
  for (const key of Object.keys(payload)) {
    if (!branch.properties.has(key)) problems.push({ path: `/${key}`, message: `is not a property of a ${payload.type} rule in Kibana's schema (dropped or refused there)` });
  }
  // The branch passing implies the union passes; asserting it keeps us honest if that ever changes.
  if (problems.length === 0 && !union.whole(payload)) problems.push(...(union.whole.errors ?? []).map(describe));
  return problems;
}

/**
 * Builds the validator for POST (and PUT) /api/detection_engine/rules bodies. Besides the schema's
 * own checks it reports properties the schema does not declare (the OpenAPI objects are open, so the
 * schema alone lets them through): a misspelt key would otherwise get lost on its way to Kibana.
 */
export function createRuleSchemaValidator(referenceRoot: string = defaultReferenceRoot()): RuleSchemaValidator {
  const { ajv, documents } = load(referenceRoot);
  const entry = new URL(ENTRY_FILE, KIBANA_RULE_SCHEMA_DIR).href;
  const create = compileUnion(ajv, documents, entry, 'RuleCreateProps');
  const update = compileUnion(ajv, documents, entry, 'RuleUpdateProps');
  return {
    ruleTypes: [...create.branches.keys()],
    validate: (payload) => validateAgainst(create, payload),
    validateUpdate: (payload) => validateAgainst(update, payload),
  };
}

let shared: RuleSchemaValidator | undefined;

/** One validator per process: compiling Kibana's schema takes a moment. */
export function ruleSchemaValidator(): RuleSchemaValidator {
  shared ??= createRuleSchemaValidator();
  return shared;
}

export function formatRuleSchemaProblems(problems: RuleSchemaProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}
