/**
 * A reviewable bundle: every asset `apply` would install, as plain JSON files with a manifest, so a
 * change board can read exactly what will be sent and an air-gapped site can install from files.
 * Pure: desired assets in, files out; files in, desired assets out.
 */
import type { DesiredAsset } from './types';
import { WAVES } from './types';

export const BUNDLE_FORMAT = 1;

export interface BundleEntry {
  kind: DesiredAsset['kind'];
  name: string;
  target: DesiredAsset['target'];
  sha256: string;
  userOwned?: boolean;
  /** Path of the body, relative to the bundle folder. */
  file: string;
}

export interface BundleManifest {
  format: number;
  product: 'cryptochannel';
  package_version: string;
  flavor: 'elasticsearch' | 'opensearch';
  created: string;
  /** The tunables the pipelines, rules and monitors were rendered with. */
  tunables: 'defaults';
  assets: BundleEntry[];
}

function fileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._@-]/g, '_');
}

export function bundleFiles(desired: DesiredAsset[], meta: Pick<BundleManifest, 'package_version' | 'flavor' | 'created'>): Array<{ path: string; content: string }> {
  const files: Array<{ path: string; content: string }> = [];
  const assets: BundleEntry[] = [];
  for (const asset of desired) {
    if (asset.body === undefined) continue;
    const wave = String(WAVES.indexOf(asset.kind) + 1).padStart(2, '0');
    const file = `assets/${wave}-${asset.kind}/${fileName(asset.name)}.json`;
    files.push({ path: file, content: `${JSON.stringify(asset.body, null, 2)}\n` });
    assets.push({ kind: asset.kind, name: asset.name, target: asset.target, sha256: asset.sha256, ...(asset.userOwned ? { userOwned: true } : {}), file });
  }
  const manifest: BundleManifest = { format: BUNDLE_FORMAT, product: 'cryptochannel', ...meta, tunables: 'defaults', assets };
  return [{ path: 'manifest.json', content: `${JSON.stringify(manifest, null, 2)}\n` }, ...files];
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** The desired assets a bundle holds; `read` returns a file's text by its path in the bundle. */
export function desiredFromBundle(manifestText: string, read: (file: string) => string): { manifest: BundleManifest; desired: DesiredAsset[] } {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(manifestText) as BundleManifest;
  } catch (err) {
    throw new BundleError(`manifest.json is not JSON: ${(err as Error).message}`);
  }
  if (manifest.product !== 'cryptochannel' || manifest.format !== BUNDLE_FORMAT) throw new BundleError(`not a cryptochannel bundle of format ${BUNDLE_FORMAT}`);
  const desired = manifest.assets.map((entry): DesiredAsset => {
    if (!(WAVES as readonly string[]).includes(entry.kind)) throw new BundleError(`${entry.file}: unknown asset kind ${entry.kind}`);
    let body: unknown;
    try {
      body = JSON.parse(read(entry.file));
    } catch (err) {
      throw new BundleError(`${entry.file}: ${(err as Error).message}`);
    }
    return { kind: entry.kind, name: entry.name, target: entry.target, body, sha256: entry.sha256, ...(entry.userOwned ? { userOwned: true } : {}) };
  });
  return { manifest, desired };
}
