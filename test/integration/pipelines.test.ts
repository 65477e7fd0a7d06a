/**
 * The golden pipeline tests (`cryptochannel test pipelines`) on the real engine, one jest test per
 * source, so that a failing case shows its unified diff here.
 */
import { connect, type ClusterClient } from '../../src/cluster';
import { loadContent, SOURCES } from '../../src/content';
import { runPipelineTests } from '../../src/testing/pipeline-tests';
import { testEngineLabel, testUrl } from './support/engine-env';

const content = loadContent();
const sourcesWithContent = SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s && p.name === 'default'));

describe(`golden pipeline tests on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  beforeAll(async () => {
    client = await connect({ url: testUrl() });
  });
  afterAll(() => client.close());

  it.each(sourcesWithContent)('%s: every case matches its expected output and indexes', async (source) => {
    const results = await runPipelineTests(client, content, { sources: [source] });
    expect(results.length).toBeGreaterThanOrEqual(1);
    const failures = results.filter((r) => r.status !== 'pass').map((r) => [`${r.source}/${r.case}:`, ...r.problems, r.diff ?? ''].join('\n'));
    expect(failures.join('\n\n')).toBe('');
  });
});
