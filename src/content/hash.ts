import { createHash } from 'node:crypto';

/** JSON with sorted keys, so that a content hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function sha256(value: unknown): string {
  return createHash('sha256').update(typeof value === 'string' ? value : canonicalJson(value)).digest('hex');
}

export interface ManagedMeta {
  managed_by: 'cryptochannel';
  package_version: string;
  content_sha256: string;
}

/** The `_meta` every installed asset carries; the hash covers the rendered body without `_meta`. */
export function managedMeta(body: unknown, packageVersion: string): ManagedMeta {
  return { managed_by: 'cryptochannel', package_version: packageVersion, content_sha256: sha256(body) };
}
