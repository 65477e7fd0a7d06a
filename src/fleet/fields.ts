/**
 * A data stream's `fields/*.yml` in package-spec's format, with full definitions (type, description,
 * ignore_above, multi-fields) taken from @elastic/ecs, so neither the build nor Fleet has to fetch ECS.
 * Fleet turns these into the `@package` component template that `apply` renders from the same files.
 */
import { stringify } from 'yaml';
import { ECS, SHARED, type CustomField, type OwnerFields } from '../content';

export interface FleetField {
  name: string;
  type: string;
  description: string;
  ignore_above?: number;
  index?: boolean;
  doc_values?: boolean;
  scaling_factor?: number;
  value?: string;
  multi_fields?: Array<{ name: string; type: string }>;
}

/** Set by Fleet's data stream naming; every data stream of the package declares them. */
const BASE_FIELDS: FleetField[] = [
  { name: 'data_stream.type', type: 'constant_keyword', description: 'Data stream type.' },
  { name: 'data_stream.dataset', type: 'constant_keyword', description: 'Data stream dataset.' },
  { name: 'data_stream.namespace', type: 'constant_keyword', description: 'Data stream namespace.' },
  { name: '@timestamp', type: 'date', description: 'Event timestamp.' },
];

const BASE_NAMES = new Set(BASE_FIELDS.map((f) => f.name));

export function ecsField(name: string): FleetField {
  const def = ECS[name] as (typeof ECS)[string] & { description?: string; short?: string };
  if (!def) throw new RangeError(`${name} is not an ECS field`);
  const field: FleetField = { name, type: def.type, description: (def.short ?? def.description ?? name).trim() };
  if (def.type === 'keyword' && def.ignore_above) field.ignore_above = def.ignore_above;
  if (def.index === false) field.index = false;
  if (def.doc_values === false) field.doc_values = false;
  if (def.type === 'scaled_float') field.scaling_factor = def.scaling_factor ?? 1000;
  if (def.multi_fields?.length) field.multi_fields = def.multi_fields.map((m) => ({ name: m.name, type: m.type }));
  return field;
}

/** Same mapping choices as the apply templates' customMapping (templates.ts): keywords up to 1024 bytes. */
export function customField(field: CustomField): FleetField {
  return field.type === 'keyword' ? { name: field.name, type: 'keyword', ignore_above: 1024, description: field.description } : { ...field };
}

export interface FleetFieldFiles {
  'base-fields.yml': FleetField[];
  'ecs.yml': FleetField[];
  'fields.yml': FleetField[];
}

/** The three field files of one source's data stream: its own fields and the shared pipelines'. */
export function sourceFieldFiles(fields: OwnerFields[], source: string): FleetFieldFiles {
  const owners = fields.filter((f) => f.owner === SHARED || f.owner === source);
  const ecsNames = [...new Set(owners.flatMap((o) => o.ecs))].filter((n) => !BASE_NAMES.has(n)).sort();
  const custom = new Map<string, CustomField>();
  for (const o of owners) for (const f of o.custom) custom.set(f.name, f);
  return {
    'base-fields.yml': BASE_FIELDS,
    'ecs.yml': ecsNames.map(ecsField),
    'fields.yml': [...custom.values()].sort((a, b) => a.name.localeCompare(b.name)).map(customField),
  };
}

/** The dead-letter stream's fields: what renderDeadletterTemplate maps, nothing more (its mapping is not dynamic). */
export function deadletterFieldFiles(): FleetFieldFiles {
  return {
    'base-fields.yml': BASE_FIELDS,
    'ecs.yml': ['error.message', 'error.type', 'event.dataset', 'event.ingested', 'event.kind', 'event.original'].map(ecsField),
    'fields.yml': [
      { name: 'cryptochannel.deadletter.pipeline', type: 'keyword', ignore_above: 1024, description: 'The pipeline that failed on the event.' },
      { name: 'cryptochannel.deadletter.source', type: 'keyword', ignore_above: 1024, description: 'The source the event was sent as.' },
    ],
  };
}

export function fieldsYaml(fields: FleetField[]): string {
  return stringify(fields, { lineWidth: 0 });
}
