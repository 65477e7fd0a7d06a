import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadContent, loadDetectionContent } from '../../content';
import { buildFleetPackage } from '../../fleet/package';
import { writeFleetPackage } from '../../fleet/write';
import { PACKAGE_VERSION } from '../../package-info';
import { bundleFiles } from '../../plan/bundle';
import { offlineAssets } from '../../plan/desired';
import { contextFor, type CommandContext } from '../context';
import { UsageError } from '../errors';

interface BundleReport {
  kind: 'bundle';
  out: string;
  flavor: string;
  package_version: string;
  files: number;
  assets: Record<string, number>;
}

/** What `build --fleet --json` prints. */
export interface FleetReport {
  kind: 'fleet';
  dir: string;
  zip: string;
  zip_bytes: number;
  package_version: string;
  files: number;
  assets: Record<string, number>;
}

interface BuildOptions {
  bundle?: boolean;
  fleet?: boolean;
  flavor: 'opensearch' | 'elasticsearch';
  out?: string;
}

function buildBundle(ctx: CommandContext, opts: BuildOptions): void {
  const out = opts.out ?? 'cryptochannel-bundle';
  const content = loadContent();
  const desired = offlineAssets(content, loadDetectionContent(content.roots), { flavor: opts.flavor, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
  const files = bundleFiles(desired, { package_version: PACKAGE_VERSION, flavor: opts.flavor, created: new Date().toISOString() });
  for (const f of files) {
    const target = path.join(out, f.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, f.content);
  }
  const assets: Record<string, number> = {};
  for (const d of desired) if (d.body !== undefined) assets[d.kind] = (assets[d.kind] ?? 0) + 1;
  const report: BundleReport = { kind: 'bundle', out: path.resolve(out), flavor: opts.flavor, package_version: PACKAGE_VERSION, files: files.length, assets };
  ctx.out.result(report, (r) => `bundle for ${r.flavor} (cryptochannel ${r.package_version}) in ${r.out}: ${r.files} files\n${Object.entries(r.assets).map(([k, n]) => `  ${k}: ${n}`).join('\n')}\nreview it, then: cryptochannel apply --from-bundle ${r.out} --yes`);
}

function buildFleet(ctx: CommandContext, opts: BuildOptions): void {
  const content = loadContent();
  const pkg = buildFleetPackage(content, loadDetectionContent(content.roots), { packageVersion: PACKAGE_VERSION });
  const written = writeFleetPackage(pkg, opts.out ?? path.join('build', 'fleet'));
  const report: FleetReport = { kind: 'fleet', dir: written.dir, zip: written.zip, zip_bytes: written.zipBytes, package_version: pkg.version, files: written.files, assets: pkg.counts };
  ctx.out.result(
    report,
    (r) =>
      `Fleet package cryptochannel ${r.package_version}: ${r.files} files\n  folder: ${r.dir}\n  zip:    ${r.zip} (${r.zip_bytes} bytes)\n${Object.entries(r.assets).map(([k, n]) => `  ${k}: ${n}`).join('\n')}\n` +
      `upload the zip in Kibana (Integrations, Upload integration) or POST it to /api/fleet/epm/packages; then: cryptochannel apply --runtime-only`,
  );
}

export function buildCommand(): Command {
  return new Command('build')
    .description('write installable artefacts: a Fleet package (--fleet), or a reviewable bundle of every request apply would send (--bundle)')
    .option('--fleet', 'build the Elastic package for Fleet: a folder and its zip')
    .option('--bundle', 'build the bundle (install it with apply --from-bundle)')
    .addOption(new Option('--flavor <flavor>', 'the engine the bundle is for (the Fleet package is for Elasticsearch)').choices(['opensearch', 'elasticsearch']).default('opensearch'))
    .option('--out <dir>', 'output folder (default: build/fleet for --fleet, cryptochannel-bundle for --bundle)')
    .action((opts: BuildOptions, cmd: Command) => {
      const ctx = contextFor(cmd);
      if (opts.fleet === opts.bundle) throw new UsageError('say what to build: --fleet or --bundle (one of them)');
      if (opts.fleet) {
        if (cmd.getOptionValueSource('flavor') === 'cli' && opts.flavor !== 'elasticsearch') throw new UsageError('Fleet runs on Elasticsearch only: --fleet takes no --flavor opensearch');
        buildFleet(ctx, opts);
      } else buildBundle(ctx, opts);
    });
}
