/**
 * The live tunables document belongs to the user once created: an upgrade may add tunables the new
 * version introduces (with their defaults) but never changes a value the user holds.
 */
export interface TunablesDocument {
  tunables: Record<string, unknown>;
  /** Bumped on every write, so a reader can tell which tuning a run used. */
  revision: number;
  package_version: string;
  updated_at: string;
  updated_by: string;
}

export function isTunablesDocument(value: unknown): value is TunablesDocument {
  return value !== null && typeof value === 'object' && typeof (value as TunablesDocument).tunables === 'object' && (value as TunablesDocument).tunables !== null;
}

export function mergeTunables(live: unknown, wanted: unknown): { document: unknown; added: string[] } {
  if (!isTunablesDocument(wanted)) throw new TypeError('the desired tunables are not a tunables document');
  if (!isTunablesDocument(live)) return { document: wanted, added: Object.keys(wanted.tunables) };
  const added = Object.keys(wanted.tunables).filter((k) => !(k in live.tunables));
  if (added.length === 0) return { document: live, added };
  const tunables = { ...live.tunables };
  for (const k of added) tunables[k] = wanted.tunables[k];
  return { document: { ...live, tunables, revision: live.revision + 1, package_version: wanted.package_version, updated_at: wanted.updated_at, updated_by: 'cryptochannel apply' }, added };
}
