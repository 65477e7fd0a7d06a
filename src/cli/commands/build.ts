import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadContent, loadDetectionContent } from '../../content';
import { PACKAGE_VERSION } from '../../package-info';
import { bundleFiles } from '../../plan/bundle';
import { offlineAssets } from '../../plan/desired';
import { contextFor } from '../context';
import { UsageError } from '../errors';

interface BuildReport {
  out: string;
  flavor: string;
  package_version: string;
  files: number;
  assets: Record<string, number>;
}

export function buildCommand(): Command {
  return new Command('build')
    .description('write a reviewable bundle: every request apply would send, as JSON files with a manifest (install it with apply --from-bundle)')
    .option('--bundle', 'build the bundle (the only output so far)')
    .addOption(new Option('--flavor <flavor>', 'the engine the bundle is for').choices(['opensearch', 'elasticsearch']).default('opensearch'))
    .option('--out <dir>', 'output folder', 'cryptochannel-bundle')
    .action((opts: { bundle?: boolean; flavor: 'opensearch' | 'elasticsearch'; out: string }, cmd: Command) => {
      const ctx = contextFor(cmd);
      if (!opts.bundle) throw new UsageError('say what to build: --bundle');
      const content = loadContent();
      const desired = offlineAssets(content, loadDetectionContent(content.roots), { flavor: opts.flavor, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
      const files = bundleFiles(desired, { package_version: PACKAGE_VERSION, flavor: opts.flavor, created: new Date().toISOString() });
      for (const f of files) {
        const target = path.join(opts.out, f.path);
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, f.content);
      }
      const assets: Record<string, number> = {};
      for (const d of desired) if (d.body !== undefined) assets[d.kind] = (assets[d.kind] ?? 0) + 1;
      const report: BuildReport = { out: path.resolve(opts.out), flavor: opts.flavor, package_version: PACKAGE_VERSION, files: files.length, assets };
      ctx.out.result(report, (r) => `bundle for ${r.flavor} (cryptochannel ${r.package_version}) in ${r.out}: ${r.files} files\n${Object.entries(r.assets).map(([k, n]) => `  ${k}: ${n}`).join('\n')}\nreview it, then: cryptochannel apply --from-bundle ${r.out} --yes`);
    });
}
