/**
 * Index and component templates, rendered from field definitions. ECS types that only
 * Elasticsearch has are replaced for OpenSearch by the nearest type both can search the same way.
 */
import type { CustomField, OwnerFields } from './fields';
import { ALERTS_OWNER, ECS } from './fields';
import { managedMeta } from './hash';
import { lifecyclePolicyName } from './lifecycle';
import { pipelineId, SHARED } from './pipelines';
import { dataset, PRODUCT } from './sources';

export type TemplateFlavor = 'elasticsearch' | 'opensearch';

type Mapping = Record<string, unknown>;

const OPENSEARCH_TYPE: Record<string, string> = {
  constant_keyword: 'keyword',
  match_only_text: 'text',
  wildcard: 'keyword',
  flattened: 'flat_object',
};

export function ecsMapping(name: string, flavor: TemplateFlavor): Mapping {
  const def = ECS[name];
  if (!def) throw new RangeError(`${name} is not an ECS field`);
  const type = flavor === 'opensearch' ? (OPENSEARCH_TYPE[def.type] ?? def.type) : def.type;
  const mapping: Mapping = { type };
  if (type === 'keyword' && def.ignore_above) mapping.ignore_above = def.ignore_above;
  if (def.index === false) mapping.index = false;
  if (def.doc_values === false) mapping.doc_values = false;
  if (type === 'scaled_float') mapping.scaling_factor = def.scaling_factor ?? 1000;
  if (def.multi_fields?.length) {
    mapping.fields = Object.fromEntries(
      def.multi_fields.map((m) => [m.name, { type: flavor === 'opensearch' ? (OPENSEARCH_TYPE[m.type] ?? m.type) : m.type }]),
    );
  }
  if (type === 'object' || type === 'nested' || type === 'flat_object' || type === 'flattened') {
    delete mapping.ignore_above;
  }
  return mapping;
}

function customMapping(field: CustomField): Mapping {
  if (field.type === 'keyword') return { type: 'keyword', ignore_above: 1024 };
  if (field.type === 'object') return { type: 'object' };
  return { type: field.type };
}

/** Turns flat dotted names into nested `properties`. */
export function nestProperties(flat: Record<string, Mapping>): Mapping {
  const root: Mapping = {};
  for (const name of Object.keys(flat).sort()) {
    const parts = name.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const child = (node[part] ??= { properties: {} }) as Mapping;
      child.properties ??= {};
      node = child.properties as Mapping;
    }
    const leaf = parts[parts.length - 1]!;
    const existing = node[leaf] as Mapping | undefined;
    node[leaf] = existing?.properties ? { ...flat[name], properties: existing.properties } : flat[name];
  }
  return root;
}

export function flatMappings(fields: OwnerFields[], flavor: TemplateFlavor): Record<string, Mapping> {
  const flat: Record<string, Mapping> = {};
  for (const owner of fields) {
    for (const name of owner.ecs) flat[name] = ecsMapping(name, flavor);
    for (const field of owner.custom) flat[field.name] = customMapping(field);
  }
  return flat;
}

export interface RenderedTemplate {
  kind: 'component_template' | 'index_template';
  name: string;
  body: Record<string, unknown>;
}

export interface TemplateContext {
  version: string;
  packageVersion: string;
  flavor: TemplateFlavor;
  /** Index patterns get this namespace prefix instead of `*` (tests use their own namespace). */
  namespacePattern?: string;
  /** Prefix for template names (tests keep theirs apart from an installed copy). */
  namePrefix?: string;
  priority?: number;
  /** false: name no lifecycle policy (tests, or a cluster without ILM). */
  lifecycle?: boolean;
}

/** ILM is named in the index settings; OpenSearch's ISM policies attach themselves by ism_template. */
function lifecycleSetting(policy: string, ctx: TemplateContext): Record<string, unknown> {
  return ctx.flavor === 'elasticsearch' && ctx.lifecycle !== false ? { lifecycle: { name: lifecyclePolicyName(policy) } } : {};
}

function withMeta(body: Record<string, unknown>, packageVersion: string): Record<string, unknown> {
  return { ...body, _meta: managedMeta(body, packageVersion) };
}

/** Component + index template per source, plus the dead-letter stream's template. */
export function renderSourceTemplates(source: string, fields: OwnerFields[], ctx: TemplateContext): RenderedTemplate[] {
  const prefix = ctx.namePrefix ?? '';
  const owners = fields.filter((f) => f.owner === SHARED || f.owner === source);
  const component = `${prefix}logs-${dataset(source)}@package`;
  const componentBody = withMeta(
    { template: { mappings: { dynamic: true, date_detection: false, properties: nestProperties(flatMappings(owners, ctx.flavor)) } } },
    ctx.packageVersion,
  );
  const indexBody = withMeta(
    {
      index_patterns: [`logs-${dataset(source)}-${ctx.namespacePattern ?? '*'}`],
      data_stream: {},
      priority: ctx.priority ?? 200,
      composed_of: [component],
      template: { settings: { index: { default_pipeline: pipelineId(source, 'default', ctx.version), ...lifecycleSetting('events', ctx) } } },
    },
    ctx.packageVersion,
  );
  return [
    { kind: 'component_template', name: component, body: componentBody },
    { kind: 'index_template', name: `${prefix}logs-${dataset(source)}`, body: indexBody },
  ];
}

/**
 * The dead-letter stream keeps failed documents whole: `dynamic: false` stores every field in
 * `_source` without mapping it, so no input can be refused for a mapping conflict.
 */
export function renderDeadletterTemplate(ctx: TemplateContext): RenderedTemplate {
  const prefix = ctx.namePrefix ?? '';
  const flat: Record<string, Mapping> = {
    '@timestamp': ecsMapping('@timestamp', ctx.flavor),
    'event.original': ecsMapping('event.original', ctx.flavor),
    'event.kind': ecsMapping('event.kind', ctx.flavor),
    'event.dataset': ecsMapping('event.dataset', ctx.flavor),
    'event.ingested': ecsMapping('event.ingested', ctx.flavor),
    'error.message': ecsMapping('error.message', ctx.flavor),
    'error.type': ecsMapping('error.type', ctx.flavor),
    'cryptochannel.deadletter.pipeline': { type: 'keyword' },
    'cryptochannel.deadletter.source': { type: 'keyword' },
    'data_stream.type': ecsMapping('data_stream.type', ctx.flavor),
    'data_stream.dataset': ecsMapping('data_stream.dataset', ctx.flavor),
    'data_stream.namespace': ecsMapping('data_stream.namespace', ctx.flavor),
  };
  const body = withMeta(
    {
      index_patterns: [`logs-${PRODUCT}.deadletter-${ctx.namespacePattern ?? '*'}`],
      data_stream: {},
      priority: ctx.priority ?? 200,
      template: { settings: { index: { ...lifecycleSetting('deadletter', ctx) } }, mappings: { dynamic: false, properties: nestProperties(flat) } },
    },
    ctx.packageVersion,
  );
  return { kind: 'index_template', name: `${prefix}logs-${PRODUCT}.deadletter`, body };
}

/**
 * The alerts stream the correlator writes: `event.kind: alert` documents in
 * `logs-cryptochannel.alerts-<namespace>`, which Kibana Security's `logs-*` view lists as external
 * alerts. No default pipeline: the correlator writes finished documents.
 */
export function renderAlertsTemplates(fields: OwnerFields[], ctx: TemplateContext): RenderedTemplate[] {
  const prefix = ctx.namePrefix ?? '';
  const owners = fields.filter((f) => f.owner === SHARED || f.owner === ALERTS_OWNER);
  const stream = `logs-${dataset('alerts')}`;
  const component = `${prefix}${stream}@package`;
  const componentBody = withMeta(
    { template: { mappings: { dynamic: true, date_detection: false, properties: nestProperties(flatMappings(owners, ctx.flavor)) } } },
    ctx.packageVersion,
  );
  const indexBody = withMeta(
    {
      index_patterns: [`${stream}-${ctx.namespacePattern ?? '*'}`],
      data_stream: {},
      priority: ctx.priority ?? 200,
      composed_of: [component],
      template: { settings: { index: { ...lifecycleSetting('alerts', ctx) } } },
    },
    ctx.packageVersion,
  );
  return [
    { kind: 'component_template', name: component, body: componentBody },
    { kind: 'index_template', name: `${prefix}${stream}`, body: indexBody },
  ];
}
