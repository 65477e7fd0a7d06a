/** `--from-bundle DIR` of plan and apply: the reviewed files, read as the deployer's desired assets. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DeployContext } from '../apply/deploy';
import { desiredFromBundle } from '../plan/bundle';

export function loadBundle(dir: string): { packageVersion: string; bundle: NonNullable<DeployContext['bundle']> } {
  const manifestFile = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(manifestFile, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${manifestFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const { manifest, desired } = desiredFromBundle(text, (file) => readFileSync(path.join(dir, file), 'utf8'));
  return { packageVersion: manifest.package_version, bundle: { flavor: manifest.flavor, desired } };
}
