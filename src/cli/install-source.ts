/**
 * What plan and apply install, chosen the same way for both: the content rendered here, or a
 * reviewed bundle (`--from-bundle DIR`); all of it, or only the runtime share (`--runtime-only`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { DeployContext } from '../apply/deploy';
import { desiredFromBundle } from '../plan/bundle';

export interface InstallSourceOptions {
  fromBundle?: string;
  runtimeOnly?: boolean;
}

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

export function addInstallSourceOptions(command: Command): Command {
  return command
    .option('--from-bundle <dir>', 'install exactly what a bundle (cryptochannel build --bundle) holds')
    .option('--runtime-only', 'only what the correlator needs and Fleet cannot install: tunables, threat intel, the alerts stream, exception lists');
}

export function selectInstallSource(deploy: DeployContext, opts: InstallSourceOptions): void {
  if (opts.fromBundle) Object.assign(deploy, loadBundle(opts.fromBundle));
  // With a bundle too: a site that installs the content through Fleet can take the runtime share from reviewed files.
  deploy.runtimeOnly = opts.runtimeOnly === true;
}
