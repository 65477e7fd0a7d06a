/**
 * The searches of the OpenSearch monitors and detectors (and of the Elastic ML datafeeds, whose
 * query DSL both engines share) run on the real engine. The Alerting and Anomaly Detection plugins
 * cannot be installed here (docs/engines.md), so this does what they would do with the search part:
 * {{period_end}} becomes "now", the query runs with _search on the real index patterns, and a
 * bucket-level trigger's condition runs as the bucket_selector the plugin builds from it.
 *
 * So that the queries meet real mappings and real values, the golden outputs of the pipelines (and
 * one correlator alert) are indexed first into streams of a test namespace, created from the real
 * templates; the patterns `logs-cryptochannel.<source>-*` match those streams. Every search must
 * answer without error or shard failure, and must find what the golden data holds, also with a
 * stray index in every pattern that never got our template (as a write made while the templates
 * were missing leaves behind): no @timestamp or other mapping there may fail a shard.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bulk,
  connect,
  deleteComponentTemplate,
  deleteDataStream,
  deleteIndexTemplate,
  putComponentTemplate,
  putIndexTemplate,
  refresh,
  type ClusterClient,
} from '../../src/cluster';
import {
  dataStreamName,
  defaultRoots,
  listFiles,
  loadContent,
  renderAlertsTemplates,
  renderSourceTemplates,
  type RenderedTemplate,
} from '../../src/content';
import { loadMlJobs, renderMlJob, streamOfIndexPattern } from '../../src/content/ml-jobs';
import { loadOpenSearchContent, monitorSearches, renderDetector, renderMonitor, substitutePeriod } from '../../src/content/opensearch-content';
import { testEngineLabel, testUrl } from './support/engine-env';

const roots = defaultRoots();
const content = loadContent(roots);
const opensearch = loadOpenSearchContent(roots.detectionRules);
const ctx = { packageVersion: 'test', tunables: content.tunables as unknown as Record<string, unknown> };
const monitors = opensearch.monitors.map((m) => renderMonitor(m, ctx));
const detectors = opensearch.detectors.map((d) => renderDetector(d, ctx));
const datafeeds = loadMlJobs(roots.detectionRules).map((j) => renderMlJob(j, 'test'));

const namespace = `cctestmon${process.pid}`;
const namePrefix = `cctest-mon-${process.pid}-`;
const strayTemplate = `${namePrefix}stray`;
const strayIndex = (stream: string) => `logs-cryptochannel.${stream}-${namespace}stray`;

const patterns = [
  ...monitors.flatMap((m) => monitorSearches(m.body).flatMap((s) => s.indices)),
  ...detectors.flatMap((d) => d.body.indices as string[]),
  ...datafeeds.flatMap((f) => f.datafeed.indices as string[]),
];
const streams = [...new Set(patterns.map((p) => streamOfIndexPattern(p)!))].sort();

interface SearchResponse {
  hits: { total: { value: number } };
  _shards: { failed: number; failures?: unknown[] };
  aggregations?: Record<string, any>;
}

/** The pipelines' golden outputs of a source, as the documents that would be in its stream. */
function goldenDocuments(source: string, ingested: string): Array<Record<string, unknown>> {
  const dir = path.join(roots.pipelines, source, '_dev', 'test', 'pipeline');
  return listFiles(dir, (n) => n.endsWith('-expected.json')).flatMap((file) =>
    (JSON.parse(readFileSync(file, 'utf8')) as { expected: Array<Record<string, any>> }).expected
      // Documents the pipeline dead-letters do not reach the source's stream.
      .filter((doc) => doc['@timestamp'] && doc.event?.kind !== 'pipeline_error' && !doc.error)
      .map((doc) => {
        const { data_stream: _dataStream, ...rest } = doc;
        // The monitors look at what was ingested in the last minutes, whatever the event time.
        return { ...rest, event: { ...rest.event, ingested } };
      }),
  );
}

function correlatorAlert(now: string): Record<string, unknown> {
  return {
    '@timestamp': now,
    message: 'AN1499: hostd on esx01 negotiated TLS with 203.0.113.7, outside BaselineMgmtHosts',
    event: { kind: 'alert', dataset: 'cryptochannel.alerts', created: now, severity: 82, risk_score: 82 },
    host: { name: 'esx01.corp.local' },
    process: { name: 'hostd' },
    destination: { ip: '203.0.113.7', port: 443 },
    cryptochannel: {
      alert: {
        id: `it-${process.pid}`,
        analytic: 'AN1499',
        score: 82,
        score_threshold: 60,
        reasons: [{ name: 'esxi_peer_outside_baseline', observed: '203.0.113.7', threshold: 'BaselineMgmtHosts', points: 50 }],
      },
    },
  };
}

async function run(client: ClusterClient, indices: string[], body: unknown): Promise<SearchResponse> {
  const { body: response } = await client.request<SearchResponse>({
    method: 'POST',
    path: `/${indices.map(encodeURIComponent).join(',')}/_search`,
    body,
    idempotent: true,
  });
  expect(response._shards.failures ?? []).toEqual([]);
  expect(response._shards.failed).toBe(0);
  return response;
}

describe(`OpenSearch monitor and detector searches on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const templates: RenderedTemplate[] = [];
  const indexed = new Map<string, number>();

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
    const tctx = { version: 'test', packageVersion: 'test', flavor: client.flavor, namespacePattern: `${namespace}*`, namePrefix, priority: 1000, lifecycle: false };
    const now = new Date().toISOString();
    for (const stream of streams) {
      const rendered = stream === 'alerts' ? renderAlertsTemplates(content.fields, tctx) : renderSourceTemplates(stream, content.fields, tctx);
      templates.push(...rendered);
      for (const t of rendered.filter((r) => r.kind === 'component_template')) await putComponentTemplate(client, t.name, t.body);
      for (const t of rendered.filter((r) => r.kind === 'index_template')) await putIndexTemplate(client, t.name, t.body);
      const docs = stream === 'alerts' ? [correlatorAlert(now)] : goldenDocuments(stream, now);
      // `_none`: the documents are pipeline outputs already; the versioned pipeline is not installed.
      const response = await bulk(
        client,
        docs.map((document) => ({ action: { create: { _index: dataStreamName(stream, namespace) } }, document })),
        { refresh: true, pipeline: '_none' },
      );
      const errors = response.items.map((item) => item.create?.error).filter(Boolean);
      expect({ stream, errors }).toEqual({ stream, errors: [] });
      indexed.set(stream, docs.length);
    }
    // The stray indices: plain indices with only a raw line, made through a template that wins over
    // ours for their names and is removed at once, as if ours had not been there when they were written.
    await putIndexTemplate(client, strayTemplate, { index_patterns: [`logs-cryptochannel.*-${namespace}stray`], priority: 2000, template: { mappings: { dynamic: false } } });
    try {
      const response = await bulk(client, streams.map((stream) => ({ action: { index: { _index: strayIndex(stream) } }, document: { message: 'a raw line nobody parsed' } })), { refresh: true, pipeline: '_none' });
      expect(response.errors).toBe(false);
    } finally {
      await deleteIndexTemplate(client, strayTemplate);
    }
    for (const stream of streams) await refresh(client, dataStreamName(stream, namespace));
  });

  afterAll(async () => {
    for (const stream of streams) await deleteDataStream(client, dataStreamName(stream, namespace)).catch(() => undefined);
    await client.request({ method: 'DELETE', path: `/${streams.map(strayIndex).join(',')}`, query: { ignore_unavailable: true } }).catch(() => undefined);
    await deleteIndexTemplate(client, strayTemplate).catch(() => undefined);
    for (const t of templates.filter((r) => r.kind === 'index_template')) await deleteIndexTemplate(client, t.name).catch(() => undefined);
    for (const t of templates.filter((r) => r.kind === 'component_template')) await deleteComponentTemplate(client, t.name).catch(() => undefined);
    await client.close();
  });

  it('indexed golden documents into every stream the content reads, beside an unmapped stray index', async () => {
    for (const stream of streams) expect({ stream, indexed: (indexed.get(stream) ?? 0) > 0 }).toEqual({ stream, indexed: true });
    const { body } = await client.request<Record<string, { mappings: Record<string, unknown> }>>({ method: 'GET', path: `/${streams.map(strayIndex).join(',')}/_mapping` });
    expect(Object.keys(body).sort()).toEqual(streams.map(strayIndex).sort());
    for (const index of Object.values(body)) expect(index.mappings.properties).toBeUndefined();
  });

  it.each(monitors.map((m) => [m.id, m] as const))('monitor %s: its search runs and finds the golden cases', async (_id, monitor) => {
    const [search] = monitorSearches(monitor.body);
    const query = substitutePeriod(search!.query, Date.now()) as Record<string, any>;
    const response = await run(client, search!.indices, query);
    expect(response.hits.total.value).toBeGreaterThan(0);
    if (monitor.body.monitor_type !== 'bucket_level_monitor') return;

    // Each bucket-level trigger as the plugin applies it: a bucket_selector under the parent
    // composite aggregation, with the trigger's buckets_path and script.
    const fired: string[] = [];
    for (const raw of monitor.body.triggers as Array<Record<string, any>>) {
      const trigger = raw.bucket_level_trigger;
      const condition = trigger.condition;
      const withSelector = JSON.parse(JSON.stringify(query)) as Record<string, any>;
      const parent = withSelector.aggregations[condition.parent_bucket_path];
      parent.aggregations = { ...parent.aggregations, trigger_condition: { bucket_selector: { buckets_path: condition.buckets_path, script: condition.script, gap_policy: condition.gap_policy ?? 'skip' } } };
      const answer = await run(client, search!.indices, withSelector);
      const buckets = answer.aggregations?.[condition.parent_bucket_path]?.buckets ?? [];
      if (buckets.length > 0) fired.push(trigger.name);
    }
    expect(fired.length).toBeGreaterThan(0);
  });

  it.each(detectors.map((d) => [d.id, d] as const))('detector %s: filter, features and category field run and find data', async (_id, detector) => {
    const body = detector.body as Record<string, any>;
    const features = Object.assign({}, ...body.feature_attributes.map((f: Record<string, any>) => f.aggregation_query)) as Record<string, unknown>;
    const response = await run(client, body.indices, {
      size: 0,
      query: { bool: { filter: [body.filter_query, { exists: { field: body.time_field } }] } },
      aggregations: { ...features, entities: { terms: { field: body.category_field[0], size: 10 } } },
    });
    expect(response.hits.total.value).toBeGreaterThan(0);
    for (const name of Object.keys(features)) expect({ name, value: typeof response.aggregations?.[name]?.value }).toEqual({ name, value: 'number' });
    expect(response.aggregations?.entities.buckets.length).toBeGreaterThan(0);
  });

  it.each(datafeeds.map((f) => [f.jobId, f] as const))('ML datafeed %s: its query runs on the same streams and finds data', async (_id, feed) => {
    const response = await run(client, feed.datafeed.indices as string[], { size: 0, query: feed.datafeed.query });
    expect(response.hits.total.value).toBeGreaterThan(0);
  });
});
