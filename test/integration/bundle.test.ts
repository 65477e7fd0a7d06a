/**
 * The reviewable bundle on the real engine: `build --bundle` writes every asset apply would send as
 * files with a manifest; `apply --from-bundle` installs from them; afterwards the ordinary plan, which
 * renders the content itself, finds nothing to change. Installs under the real names (the
 * integration project runs one file at a time).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureInstalled } from '../../src/apply/deploy';
import { connect, type ClusterClient } from '../../src/cluster';
import { loadContent } from '../../src/content';
import { PACKAGE_VERSION } from '../../src/package-info';
import type { BundleManifest } from '../../src/plan/bundle';
import { runCli } from './support/cli';
import { testEngineLabel, testUrl } from './support/engine-env';

describe(`bundles on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cc-bundle-')), 'bundle');
  const cli = (...args: string[]) => runCli(['--url', testUrl(), ...args]);

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
  });
  afterAll(async () => {
    // The install test uninstalls with --purge; whether or not the bundle put it all back, the files
    // after this one start from an installed cluster, as global-setup left it.
    await ensureInstalled({ client, content: loadContent(), packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
    await client.close();
  });

  it('writes every asset apply would install as a file listed in the manifest', async () => {
    const run = await cli('--json', 'build', '--bundle', '--flavor', client.flavor, '--out', dir);
    expect(run.code).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
    expect(manifest.flavor).toBe(client.flavor);
    const kinds = new Set(manifest.assets.map((a) => a.kind));
    for (const kind of ['component_template', 'index_template', 'stored_script', 'pipeline', 'custom_pipeline', 'threat_intel', 'tunables']) expect(kinds).toContain(kind);
    for (const asset of manifest.assets) {
      expect(existsSync(path.join(dir, asset.file))).toBe(true);
      expect(() => JSON.parse(readFileSync(path.join(dir, asset.file), 'utf8'))).not.toThrow();
    }
  });

  it('installs from the bundle, after which the ordinary plan has nothing to change', async () => {
    expect((await cli('uninstall', '--yes', '--purge')).code).toBe(0);
    const applied = await cli('--json', 'apply', '--from-bundle', dir, '--yes');
    expect(applied.stderr).not.toContain('error:');
    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout) as { failed: number; changed: number };
    expect(report.failed).toBe(0);
    expect(report.changed).toBeGreaterThan(0);
    const plan = await cli('--json', 'plan');
    const summary = (JSON.parse(plan.stdout) as { summary: Record<string, number> }).summary;
    expect({ create: summary.create, update: summary.update, delete: summary.delete, conflict: summary.conflict }).toEqual({ create: 0, update: 0, delete: 0, conflict: 0 });
  });

  it('refuses a bundle for the other engine and a file that is not a bundle', async () => {
    const other = path.join(path.dirname(dir), 'other');
    const built = await cli('build', '--bundle', '--flavor', client.flavor === 'opensearch' ? 'elasticsearch' : 'opensearch', '--out', other);
    expect(built.code).toBe(0);
    const wrong = await cli('apply', '--from-bundle', other, '--yes');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the bundle was built for');
    writeFileSync(path.join(other, 'manifest.json'), '{"product": "something else"}');
    const foreign = await cli('plan', '--from-bundle', other);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('not a cryptochannel bundle');
  });
});
