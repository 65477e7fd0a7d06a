import { createTwoFilesPatch } from 'diff';
import { canonicalJson } from '../content/hash';

function getPath(doc: Record<string, unknown>, field: string): { found: boolean; value: unknown; parent?: Record<string, unknown>; key?: string } {
  // Fields may be nested objects or dotted keys; try nested first.
  const parts = field.split('.');
  let node: unknown = doc;
  for (let i = 0; i < parts.length; i++) {
    if (node === null || typeof node !== 'object') return { found: false, value: undefined };
    const rest = parts.slice(i).join('.');
    if (rest in (node as Record<string, unknown>)) return { found: true, value: (node as Record<string, unknown>)[rest], parent: node as Record<string, unknown>, key: rest };
    node = (node as Record<string, unknown>)[parts[i]!];
  }
  return { found: false, value: undefined };
}

export const DYNAMIC = '<dynamic>';

/**
 * Replaces the values of dynamic fields by a marker so that runs compare; a dynamic value that
 * does not match its pattern is left in place and shows up in the diff.
 */
export function maskDynamic(doc: Record<string, unknown>, dynamic: Record<string, RegExp>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  for (const [field, pattern] of Object.entries(dynamic)) {
    const hit = getPath(copy, field);
    if (hit.found && hit.parent && hit.key && pattern.test(String(hit.value))) hit.parent[hit.key] = DYNAMIC;
  }
  return copy;
}

export function prettyCanonical(value: unknown): string {
  return `${JSON.stringify(JSON.parse(canonicalJson(value)), null, 2)}\n`;
}

/** A unified diff of expected vs actual, or undefined when they are equal. */
export function jsonDiff(expected: unknown, actual: unknown, name: string): string | undefined {
  const a = prettyCanonical(expected);
  const b = prettyCanonical(actual);
  if (a === b) return undefined;
  return createTwoFilesPatch(`${name}-expected.json`, `${name} (actual)`, a, b, undefined, undefined, { context: 4 });
}
