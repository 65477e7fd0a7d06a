import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { ContentError, readYaml } from './files';
import type { Tunables } from './tunables.generated';

export type { Tunables };

export class TunablesError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid tunables:\n  ${problems.join('\n  ')}`);
    this.name = 'TunablesError';
  }
}

let validator: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } | undefined;

function schemaValidator(integrationRoot: string) {
  if (!validator) {
    const schema = JSON.parse(readFileSync(path.join(integrationRoot, 'tunables', 'schema.json'), 'utf8')) as object;
    validator = new Ajv({ allErrors: true, strict: true }).compile(schema);
  }
  return validator;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (error.keyword === 'additionalProperties') return `${where}: unknown tunable '${String(error.params.additionalProperty)}'`;
  if (error.keyword === 'required') return `${where}: '${String(error.params.missingProperty)}' is required`;
  return `${where}: ${error.message ?? error.keyword}`;
}

/** Validates a tunables document against integration/tunables/schema.json; every problem is named. */
export function validateTunables(integrationRoot: string, data: unknown): Tunables {
  const validate = schemaValidator(integrationRoot);
  if (!validate(data)) throw new TunablesError((validate.errors ?? []).map(describe));
  return data as Tunables;
}

/** The shipped defaults (integration/tunables/defaults.yml), validated. */
export function loadTunableDefaults(integrationRoot: string): Tunables {
  const file = path.join(integrationRoot, 'tunables', 'defaults.yml');
  try {
    return validateTunables(integrationRoot, readYaml(file));
  } catch (err) {
    if (err instanceof TunablesError) throw new ContentError(file, err.message);
    throw err;
  }
}

/** A `{{ Tunable "name" }}` placeholder's value; an unknown name is a content error of `file`. */
export function tunableValue(file: string, name: string, tunables: object): unknown {
  if (!(name in tunables)) throw new ContentError(file, `{{ Tunable "${name}" }} is not a tunable (known: ${Object.keys(tunables).join(', ')})`);
  return (tunables as Record<string, unknown>)[name];
}
