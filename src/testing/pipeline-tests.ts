/**
 * `cryptochannel test pipelines`: installs the scripts, pipelines and templates under test names on
 * a real engine, runs every golden case through the simulate API, compares with the expected
 * output (a unified diff on mismatch), then indexes every case through its data stream so that
 * mapping conflicts fail too, and checks that counts in = counts out (indexed + dead-lettered).
 * Everything it installed is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import {
  bulk,
  deleteComponentTemplate,
  deleteDataStream,
  deleteIndexTemplate,
  deletePipeline,
  deleteStoredScript,
  putComponentTemplate,
  putIndexTemplate,
  putPipeline,
  putStoredScript,
  refresh,
  simulatePipeline,
  ClusterError,
  type ClusterClient,
} from '../cluster';
import {
  dataStreamName,
  pipelineId,
  renderDeadletterTemplate,
  renderIngest,
  renderSourceTemplates,
  SHARED,
  SOURCES,
  type Content,
  type RenderedTemplate,
  type TemplateFlavor,
} from '../content';
import { loadCaseConfig, loadCases, readExpected, type PipelineCase } from './cases';
import { jsonDiff, maskDynamic, prettyCanonical } from './compare';

export interface CaseResult {
  source: string;
  case: string;
  status: 'pass' | 'fail' | 'generated';
  events: number;
  deadlettered: number;
  problems: string[];
  diff?: string;
}

export interface PipelineTestOptions {
  sources?: string[];
  generate?: boolean;
  onCase?: (result: CaseResult) => void;
}

interface Installed {
  scripts: string[];
  pipelines: string[];
  templates: RenderedTemplate[];
  streams: string[];
}

function resultDocs(response: Awaited<ReturnType<typeof simulatePipeline>>): Array<Record<string, unknown>> {
  return response.docs.map((d) => {
    const entry = d as { doc?: { _source?: Record<string, unknown> }; error?: Record<string, unknown> };
    // A document the pipeline could not even dead-letter: shown as the engine's error so the diff says why.
    return entry.doc?._source ?? { __simulate_error: entry.error ?? 'no document' };
  });
}

/**
 * A golden case through `pipeline` (simulate), as its expected file holds it: the run's own names
 * (`version`) as `{version}`, dynamic fields and a dead-letter document's @timestamp (ingest time) masked.
 */
export async function simulateCase(
  client: ClusterClient,
  testCase: PipelineCase,
  pipeline: string,
  version: string,
  dynamic: Record<string, RegExp>,
): Promise<Array<Record<string, unknown>>> {
  const response = await simulatePipeline(client, testCase.docs, { id: pipeline });
  return resultDocs(response).map((d) => {
    const stable = JSON.parse(JSON.stringify(d).split(version).join('{version}')) as Record<string, unknown>;
    const isDead = (stable.event as { kind?: string } | undefined)?.kind === 'pipeline_error';
    return maskDynamic(stable, isDead ? { ...dynamic, '@timestamp': /^\d{4}-\d\d-\d\dT/ } : dynamic);
  });
}

export async function runPipelineTests(client: ClusterClient, content: Content, options: PipelineTestOptions = {}): Promise<CaseResult[]> {
  const id = randomBytes(4).toString('hex');
  const version = `test-${id}`;
  const namespace = `cctest${id}`;
  const flavor: TemplateFlavor = client.flavor;
  const sources = (options.sources?.length ? options.sources : SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s))) as string[];
  // Only the sources under test (and what they share): one source's broken content must not fail another's tests.
  const scoped = { ...content, pipelines: content.pipelines.filter((p) => p.owner === SHARED || sources.includes(p.owner)) };
  const rendered = renderIngest(scoped, version, 'test', client.flavor, scoped.tunables, `cctest-${id}-`);
  const installed: Installed = { scripts: [], pipelines: [], templates: [], streams: [] };
  const results: CaseResult[] = [];

  try {
    for (const script of rendered.scripts) {
      await putStoredScript(client, script.id, script.body.script.source);
      installed.scripts.push(script.id);
    }
    for (const custom of rendered.customPipelines) {
      await putPipeline(client, custom.id, custom.body);
      installed.pipelines.push(custom.id);
    }
    for (const pipeline of rendered.pipelines) {
      await putPipeline(client, pipeline.id, pipeline.body);
      installed.pipelines.push(pipeline.id);
    }
    const ctx = { version, packageVersion: 'test', flavor, namespacePattern: `${namespace}*`, namePrefix: `cctest-${id}-`, priority: 1000 };
    const templates = [renderDeadletterTemplate(ctx), ...sources.flatMap((s) => renderSourceTemplates(s, content.fields, ctx))];
    for (const t of templates.filter((t) => t.kind === 'component_template')) {
      await putComponentTemplate(client, t.name, t.body);
      installed.templates.push(t);
    }
    for (const t of templates.filter((t) => t.kind === 'index_template')) {
      await putIndexTemplate(client, t.name, t.body);
      installed.templates.push(t);
    }
    installed.streams.push(dataStreamName('deadletter', namespace));

    for (const source of sources) {
      const config = loadCaseConfig(content.roots.pipelines, source);
      const stream = dataStreamName(source, namespace);
      installed.streams.push(stream);
      for (const testCase of loadCases(content.roots.pipelines, source)) {
        const result = await runCase(client, testCase, version, stream, config.dynamicFields, options.generate === true);
        results.push(result);
        options.onCase?.(result);
      }
    }
  } finally {
    for (const stream of installed.streams) await deleteDataStream(client, stream).catch(() => undefined);
    for (const t of installed.templates.filter((t) => t.kind === 'index_template')) await deleteIndexTemplate(client, t.name).catch(() => undefined);
    for (const t of installed.templates.filter((t) => t.kind === 'component_template')) await deleteComponentTemplate(client, t.name).catch(() => undefined);
    for (const p of installed.pipelines) await deletePipeline(client, p).catch(() => undefined);
    for (const s of installed.scripts) await deleteStoredScript(client, s).catch(() => undefined);
  }
  return results;
}

async function runCase(
  client: ClusterClient,
  testCase: PipelineCase,
  version: string,
  stream: string,
  dynamic: Record<string, RegExp>,
  generate: boolean,
): Promise<CaseResult> {
  const problems: string[] = [];
  const actual = await simulateCase(client, testCase, pipelineId(testCase.source, 'default', version), version, dynamic);
  const deadlettered = actual.filter((d) => (d.event as { kind?: string } | undefined)?.kind === 'pipeline_error').length;
  const base = { source: testCase.source, case: testCase.name, events: testCase.docs.length, deadlettered };

  let diff: string | undefined;
  if (generate) {
    writeFileSync(testCase.expectedFile, prettyCanonical({ expected: actual }));
  } else {
    const expected = readExpected(testCase.expectedFile);
    if (!expected) problems.push(`no ${testCase.name}-expected.json: run with --generate, then review it`);
    else diff = jsonDiff(expected, actual, testCase.name);
    if (diff) problems.push('simulated output differs from the expected output');
  }
  for (const doc of actual) if ('__simulate_error' in doc) problems.push(`the engine failed the document outside the pipeline: ${JSON.stringify(doc.__simulate_error)}`);

  // Index for real: mapping conflicts, and the dead-letter routing through _index, only show here.
  try {
    const deadStream = stream.replace(/^logs-cryptochannel\.[^-]+-/, 'logs-cryptochannel.deadletter-');
    const before = { indexed: await count(client, stream), dead: await count(client, deadStream) };
    const items = testCase.docs.map((document) => ({ action: { create: { _index: stream } }, document }));
    const answer = await bulk(client, items, { refresh: 'wait_for' });
    for (const item of answer.items) {
      const op = Object.values(item)[0];
      if (op?.error) problems.push(`indexing into ${stream} was refused: ${op.error.type}: ${op.error.reason ?? ''}`);
    }
    await refresh(client, `${stream},${deadStream}`);
    const indexed = (await count(client, stream)) - before.indexed;
    const dead = (await count(client, deadStream)) - before.dead;
    if (indexed + dead !== testCase.docs.length) {
      problems.push(`counts in != counts out: ${testCase.docs.length} sent, ${indexed} indexed + ${dead} dead-lettered`);
    }
    if (dead !== deadlettered) problems.push(`${deadlettered} documents were dead-lettered in simulate but ${dead} reached ${deadStream}`);
  } catch (err) {
    problems.push(`indexing failed: ${err instanceof ClusterError ? err.message : String(err)}`);
  }
  const status = generate && problems.length === 0 ? 'generated' : problems.length ? 'fail' : 'pass';
  return { ...base, status, problems, diff };
}

async function count(client: ClusterClient, index: string): Promise<number> {
  const { status, body } = await client.request<{ count: number }>({ method: 'GET', path: `/${index}/_count`, ignore: [404] });
  return status === 404 ? 0 : body.count;
}

