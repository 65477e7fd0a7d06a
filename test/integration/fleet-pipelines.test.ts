/**
 * The Fleet package's pipelines, installed the way Fleet installs them (names resolved per data
 * stream, shared pipelines copied in, scripts inline, no stored script and no @custom pipeline),
 * run every golden case on the real engine and give the expected output. The test engine is
 * OpenSearch, so the files are rendered in its processor dialect; the Elasticsearch files differ only
 * by the translation apply uses too (test/content/fleet-package.test.ts compares those payloads).
 * Not covered: the `@custom` calls Fleet appends itself (with ignore_missing_pipeline, which
 * OpenSearch's pipeline processor lacks).
 */
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { connect, deletePipeline, putPipeline, type ClusterClient } from '../../src/cluster';
import { loadContent, SOURCES } from '../../src/content';
import { fleetPipelines } from '../../src/fleet/pipelines';
import { loadCaseConfig, loadCases, readExpected } from '../../src/testing/cases';
import { jsonDiff } from '../../src/testing/compare';
import { simulateCase } from '../../src/testing/pipeline-tests';
import { fleetPipelineBody, fleetPipelineName } from '../support/fleet-install';
import { testEngineLabel, testUrl } from './support/engine-env';

const content = loadContent();
const sources = SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s && p.name === 'default'));

describe(`the Fleet package's pipelines on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const version = `fleettest-${randomBytes(3).toString('hex')}`;
  const installed: string[] = [];

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
  });
  afterAll(async () => {
    for (const name of installed) await deletePipeline(client, name).catch(() => undefined);
    await client.close();
  });

  it.each(sources)('%s: every golden case gives its expected output', async (source) => {
    const files = fleetPipelines(content, source, version, client.flavor);
    // Callees first, as Fleet installs them, so that no pipeline names one that is not there yet.
    for (const f of [...files].sort((a, b) => Number(a.name === 'default') - Number(b.name === 'default'))) {
      const name = fleetPipelineName(source, version, f.name);
      await putPipeline(client, name, fleetPipelineBody(`---\n${stringify(f.body, { lineWidth: 0 })}`, source, version));
      installed.push(name);
    }
    const dynamic = loadCaseConfig(content.roots.pipelines, source).dynamicFields;
    const cases = loadCases(content.roots.pipelines, source);
    expect(cases.length).toBeGreaterThan(0);
    const diffs: string[] = [];
    for (const testCase of cases) {
      const actual = await simulateCase(client, testCase, fleetPipelineName(source, version, 'default'), version, dynamic);
      const diff = jsonDiff(readExpected(testCase.expectedFile), actual, `${source}/${testCase.name}`);
      if (diff) diffs.push(diff);
    }
    expect(diffs.join('\n')).toBe('');
  });
});
