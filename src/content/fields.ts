/**
 * Field definitions. ECS fields are named only (their definitions come from @elastic/ecs, ECS 9.x);
 * cryptochannel's own fields are declared with type and description. Per owner folder:
 *   ingest-pipelines/<owner>/fields/ecs.yml     - list of ECS field names the owner's pipelines set
 *   ingest-pipelines/<owner>/fields/fields.yml  - [{name, type, description}] of cryptochannel.* fields
 */
import { EcsFlat } from '@elastic/ecs/generated/ecs_flat';
import { EcsVersion } from './ecs-version';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { ContentError, listDirs, readYaml } from './files';

export { EcsVersion };

export interface EcsFieldDefinition {
  flat_name: string;
  type: string;
  ignore_above?: number;
  index?: boolean;
  doc_values?: boolean;
  scaling_factor?: number;
  normalize?: string[];
  allowed_values?: Array<{ name: string; expected_event_types?: string[] }>;
  multi_fields?: Array<{ name: string; type: string }>;
}

export const ECS: Record<string, EcsFieldDefinition> = EcsFlat as unknown as Record<string, EcsFieldDefinition>;

export interface CustomField {
  name: string;
  type: string;
  description: string;
}

export interface OwnerFields {
  owner: string;
  ecs: string[];
  custom: CustomField[];
}

const CUSTOM_TYPES = new Set(['keyword', 'boolean', 'long', 'integer', 'short', 'float', 'double', 'date', 'ip', 'text', 'object']);

/** The owner of the alerts stream's fields, `integration/alerts/fields/`. */
export const ALERTS_OWNER = 'alerts';

function loadOwnerFields(owner: string, dir: string): OwnerFields {
  const ecsFile = path.join(dir, 'ecs.yml');
  const customFile = path.join(dir, 'fields.yml');
  const ecs = existsSync(ecsFile) ? (readYaml<string[]>(ecsFile) ?? []) : [];
  const custom = existsSync(customFile) ? (readYaml<CustomField[]>(customFile) ?? []) : [];
  for (const name of ecs) if (!ECS[name]) throw new ContentError(ecsFile, `'${name}' is not an ECS ${EcsVersion} field`);
  for (const field of custom) {
    if (!field.name?.startsWith('cryptochannel.')) throw new ContentError(customFile, `'${field.name}': own fields live under cryptochannel.*`);
    if (!CUSTOM_TYPES.has(field.type)) throw new ContentError(customFile, `'${field.name}': type '${field.type}' is not one of ${[...CUSTOM_TYPES].join(', ')}`);
    if (!field.description?.trim()) throw new ContentError(customFile, `'${field.name}' needs a description`);
  }
  return { owner, ecs, custom };
}

/** Fields per pipeline owner (a source, or `_shared`), plus the alerts stream's when `integrationRoot` is given. */
export function loadFields(pipelinesRoot: string, integrationRoot?: string): OwnerFields[] {
  const owners = listDirs(pipelinesRoot).map((owner) => loadOwnerFields(owner, path.join(pipelinesRoot, owner, 'fields')));
  const alertsDir = integrationRoot ? path.join(integrationRoot, ALERTS_OWNER, 'fields') : undefined;
  if (alertsDir && existsSync(alertsDir)) owners.push(loadOwnerFields(ALERTS_OWNER, alertsDir));
  return owners;
}

/**
 * Every field name some template maps, for content that names fields (rules, ML jobs, dashboards):
 * a field outside this set would match nothing once installed.
 */
export function mappedFieldNames(fields: OwnerFields[]): Set<string> {
  const names = new Set<string>();
  for (const owner of fields) {
    for (const name of owner.ecs) {
      names.add(name);
      for (const multi of ECS[name]?.multi_fields ?? []) names.add(`${name}.${multi.name}`);
    }
    for (const field of owner.custom) names.add(field.name);
  }
  for (const always of ['@timestamp', 'event.ingested', 'ecs.version', 'data_stream.type', 'data_stream.dataset', 'data_stream.namespace', 'event.dataset', 'event.original']) names.add(always);
  return names;
}
