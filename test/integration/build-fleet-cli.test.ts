/**
 * `cryptochannel build --fleet` as a user runs it: the report, the folder and the zip where it says,
 * and clear usage errors (exit 2) for what it cannot build. Needs no engine.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import type { FleetReport } from '../../src/cli/commands/build';
import { PACKAGE_VERSION } from '../../src/package-info';
import { runCli } from './support/cli';

describe('build --fleet', () => {
  it('writes the package folder and its zip, and reports them', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'cc-build-fleet-'));
    const run = await runCli(['--json', 'build', '--fleet', '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as FleetReport;
    expect(report).toMatchObject({ kind: 'fleet', package_version: PACKAGE_VERSION, dir: path.join(out, `cryptochannel-${PACKAGE_VERSION}`), zip: path.join(out, `cryptochannel-${PACKAGE_VERSION}.zip`) });
    expect(report.assets).toMatchObject({ data_streams: 10, security_rules: 18, ml_jobs: 5, saved_objects: 32 });
    expect(existsSync(path.join(report.dir, 'manifest.yml'))).toBe(true);
    const entries = Object.keys(unzipSync(readFileSync(report.zip)));
    expect(entries).toHaveLength(report.files);
    expect(entries.every((e) => e.startsWith(`cryptochannel-${PACKAGE_VERSION}/`))).toBe(true);
    expect(readFileSync(report.zip).byteLength).toBe(report.zip_bytes);
  });

  it('says what to build when told neither or both, and refuses a Fleet package for OpenSearch', async () => {
    for (const args of [['build'], ['build', '--fleet', '--bundle'], ['build', '--fleet', '--flavor', 'opensearch']]) {
      const run = await runCli(args);
      expect([args.join(' '), run.code]).toEqual([args.join(' '), 2]);
      expect(run.stderr).toMatch(/--fleet|Fleet runs on Elasticsearch/);
    }
  });
});
