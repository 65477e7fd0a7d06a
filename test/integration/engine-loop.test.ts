/**
 * The whole loop on the real engine: a stored painless script, a pipeline that calls it by id and
 * computes community_id, a simulate, a data stream whose template names the pipeline as default,
 * documents indexed through it and searched back.
 */
import {
  bulk,
  connect,
  deleteDataStream,
  deleteIndexTemplate,
  deletePipeline,
  deleteStoredScript,
  getDataStreams,
  getPipeline,
  getStoredScript,
  putIndexTemplate,
  putPipeline,
  putStoredScript,
  refresh,
  search,
  simulatePipeline,
  type ClusterClient,
} from '../../src/cluster';
import { testEngineLabel, testUrl, uniqueName } from './support/engine-env';

// A tiny script in the spirit of the real ones: derived facts from params, nothing hard-coded.
const SCRIPT = `
  String host = ctx.destination?.domain;
  ctx.test_derived = ['domain_length': host == null ? 0 : host.length(), 'port_ok': params.ports.contains(ctx.destination?.port)];
`;

// Community ID v1 (seed 0) of TCP 10.0.0.5:51234 -> 93.184.216.34:443 and of the same flow to
// port 8443, computed outside the engine by a direct implementation of the spec that reproduces
// the spec's own example (128.232.110.120:34855 -> 66.35.250.204:80 = 1:LQU9qZlK+B5F3KDmev6m5PMibrg=).
const EXPECTED_COMMUNITY_ID = '1:234TTkkACUcVxg4BbOfcRFjfYpw=';
const EXPECTED_COMMUNITY_ID_8443 = '1:zKZ7ed5uhFfDlvMs5T3akzK5uHI=';

describe(`the engine loop on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const scriptId = uniqueName('cc-test-script');
  const pipelineId = uniqueName('cc-test-pipeline');
  const templateName = uniqueName('cc-test-template');
  const streamPrefix = uniqueName('logs-cctest');
  const stream = `${streamPrefix}-default`;

  const pipeline = {
    description: 'cryptochannel integration test',
    processors: [
      { script: { id: scriptId, params: { ports: [443, 853] } } },
      {
        community_id: {
          source_ip_field: 'source.ip',
          source_port_field: 'source.port',
          destination_ip_field: 'destination.ip',
          destination_port_field: 'destination.port',
          iana_protocol_number_field: 'network.iana_number',
          target_field: 'network.community_id',
        },
      },
    ],
    on_failure: [{ set: { field: 'error.message', value: '{{ _ingest.on_failure_message }}' } }],
  };

  const doc = {
    '@timestamp': '2026-11-28T10:00:00.000Z',
    source: { ip: '10.0.0.5', port: 51234 },
    destination: { ip: '93.184.216.34', port: 443, domain: 'example.com' },
    // OpenSearch's community_id wants a number here (Elasticsearch also takes "6").
    network: { iana_number: 6 },
  };

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
  });

  afterAll(async () => {
    await deleteDataStream(client, stream);
    await deleteIndexTemplate(client, templateName);
    await deletePipeline(client, pipelineId);
    await deleteStoredScript(client, scriptId);
    await client.close();
  });

  it('stores a painless script and a pipeline that calls it by id', async () => {
    await putStoredScript(client, scriptId, SCRIPT);
    expect((await getStoredScript(client, scriptId))?.source).toBe(SCRIPT);
    await putPipeline(client, pipelineId, pipeline);
    const stored = await getPipeline(client, pipelineId);
    expect(stored?.processors).toEqual(pipeline.processors);
  });

  it('simulates a document through the stored pipeline', async () => {
    const result = await simulatePipeline(client, [doc], { id: pipelineId });
    const source = result.docs[0]?.doc?._source as Record<string, any>;
    expect(source.error).toBeUndefined();
    expect(source.test_derived).toEqual({ domain_length: 11, port_ok: true });
    expect(source.network.community_id).toBe(EXPECTED_COMMUNITY_ID);
  });

  it('indexes into a data stream whose template names the pipeline as default, and searches back', async () => {
    await putIndexTemplate(client, templateName, {
      index_patterns: [`${streamPrefix}-*`],
      data_stream: {},
      priority: 500,
      template: {
        settings: { number_of_replicas: 0, 'index.default_pipeline': pipelineId },
        mappings: { properties: { '@timestamp': { type: 'date' }, network: { properties: { community_id: { type: 'keyword' } } } } },
      },
    });
    const response = await bulk(
      client,
      [
        { action: { create: { _index: stream } }, document: doc },
        { action: { create: { _index: stream } }, document: { ...doc, destination: { ...doc.destination, port: 8443, domain: 'c2.invalid' } } },
      ],
      { refresh: 'wait_for' },
    );
    expect(response.errors).toBe(false);
    expect((await getDataStreams(client, stream)).map((d) => d.name)).toEqual([stream]);

    await refresh(client, stream);
    const hits = await search<Record<string, any>>(client, stream, {
      query: { prefix: { 'network.community_id': '1:' } },
      sort: [{ 'destination.port': 'asc' }],
    });
    const sources = hits.hits.hits.map((h) => h._source);
    expect(sources).toHaveLength(2);
    expect(sources.map((s) => s?.network.community_id)).toEqual([EXPECTED_COMMUNITY_ID, EXPECTED_COMMUNITY_ID_8443]);
    expect(sources.map((s) => s?.test_derived)).toEqual([
      { domain_length: 11, port_ok: true },
      { domain_length: 10, port_ok: false },
    ]);
  });
});
