/**
 * `tune set KEY VALUE`: the value is read as YAML (so `7.5`, `[a, b]` and `{min_rsa_key_bits: 3072}`
 * work from a shell), a dotted key reaches into an object tunable, and the result must pass the
 * schema before anything is written. Pure.
 */
import { parse as parseYaml } from 'yaml';

export function parseTunableValue(text: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch {
    return text;
  }
}

/** A copy of `tunables` with `key` (dotted for object tunables) set to `value`. */
export function setTunable(tunables: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const [top, ...rest] = key.split('.');
  if (!top) throw new Error('a tunable name is required');
  if (rest.length === 0) return { ...tunables, [top]: value };
  const inner = tunables[top];
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) throw new Error(`${top} is not an object tunable: set it whole`);
  return { ...tunables, [top]: setTunable(inner as Record<string, unknown>, rest.join('.'), value) };
}

export function getTunable(tunables: Record<string, unknown>, key: string): unknown {
  let node: unknown = tunables;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
