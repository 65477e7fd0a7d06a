/**
 * The Elastic ML jobs of detection-rules/ml-jobs/: typed against @elastic/elasticsearch's own request
 * types by the TypeScript compiler, fields checked against the templates, datafeeds against the real
 * streams and the values the pipelines really write, and the rendered ownership marker.
 */
import path from 'node:path';
import ts from 'typescript';
import { defaultRoots, loadContent, type OwnerFields } from '../../src/content';
import { checkMlJob, datafeedId, loadMlJobs, mlJobMeta, renderMlJob, searchBodyFields, streamOfIndexPattern, type MlJobContent } from '../../src/content/ml-jobs';
import { PACKAGE_ROOT } from '../../src/package-info';
import { actionValues, goldenActions } from './support/golden-actions';

const SHARED_IDS = [
  'cryptochannel_esxi_rare_mgmt_destination',
  'cryptochannel_high_bytes_out_ratio',
  'cryptochannel_high_payload_entropy',
  'cryptochannel_rare_crypto_library_process',
  'cryptochannel_rare_tls_fingerprint',
];

const roots = defaultRoots();
const jobs = loadMlJobs(roots.detectionRules);
const content = loadContent(roots);
const fields: OwnerFields[] = content.fields;

// ---------------------------------------------------------------------------------------------
// The type check: one program, one virtual file per job (plus deliberately wrong ones), compiled
// with the project's own compiler options against the installed @elastic/elasticsearch types.

interface VirtualFile {
  name: string;
  text: string;
}

function jobSource(job: MlJobContent): string {
  const rendered = renderMlJob(job, '0.0.0-test');
  return typedSource({ job_id: rendered.jobId, ...rendered.job }, { datafeed_id: rendered.datafeedId, ...rendered.datafeed });
}

/** Object literals (not spreads): excess-property checks only apply to properties written out. */
function typedSource(job: unknown, feed: unknown): string {
  return [
    "import type { estypes } from '@elastic/elasticsearch';",
    `export const job: estypes.MlPutJobRequest = ${JSON.stringify(job, null, 2)};`,
    `export const feed: estypes.MlPutDatafeedRequest = ${JSON.stringify(feed, null, 2)};`,
    '',
  ].join('\n');
}

function typeCheck(files: VirtualFile[]): Map<string, string[]> {
  const configFile = path.join(PACKAGE_ROOT, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configFile, ts.sys.readFile).config, ts.sys, PACKAGE_ROOT);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, sourceMap: false };
  // Virtual files live under test/ so that module resolution finds the project's node_modules.
  const virtual = new Map(files.map((f) => [path.join(PACKAGE_ROOT, 'test', 'content', '__ml_typecheck__', `${f.name}.ts`), f.text]));
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file);
  host.readFile = (file) => virtual.get(file) ?? readFile.call(host, file);
  host.getSourceFile = (file, language, onError, create) => {
    const text = virtual.get(file);
    return text !== undefined ? ts.createSourceFile(file, text, language, true) : getSourceFile.call(host, file, language, onError, create);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const result = new Map<string, string[]>(files.map((f) => [f.name, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const name = d.file ? path.basename(d.file.fileName, '.ts') : '(global)';
    const list = result.get(name) ?? [];
    list.push(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    result.set(name, list);
  }
  return result;
}

describe('ML jobs (detection-rules/ml-jobs)', () => {
  it('ships exactly the five shared job ids, each serving a DET0543 analytic', () => {
    expect(jobs.map((j) => j.id).sort()).toEqual(SHARED_IDS);
    for (const job of jobs) expect(job.analytics.length).toBeGreaterThan(0);
  });

  describe('typed against the official client\'s ML request types', () => {
    const wrong = jobs[0]!;
    const rendered = renderMlJob(wrong, '0.0.0-test');
    const analysis = rendered.job.analysis_config as Record<string, unknown>;
    const detector = (analysis.detectors as Array<Record<string, unknown>>)[0]!;
    const files: VirtualFile[] = [
      ...jobs.map((j) => ({ name: j.id, text: jobSource(j) })),
      // A misspelt key in a detector, a bucket span given as a number, an unknown datafeed key.
      {
        name: 'wrong-excess-key',
        text: typedSource({ job_id: rendered.jobId, ...rendered.job, analysis_config: { ...analysis, detectors: [{ ...detector, fieldname: 'x' }] } }, { datafeed_id: rendered.datafeedId, ...rendered.datafeed }),
      },
      { name: 'wrong-type', text: typedSource({ job_id: rendered.jobId, ...rendered.job, analysis_config: { ...analysis, bucket_span: 15 } }, { datafeed_id: rendered.datafeedId, ...rendered.datafeed }) },
      { name: 'wrong-datafeed', text: typedSource({ job_id: rendered.jobId, ...rendered.job }, { datafeed_id: rendered.datafeedId, ...rendered.datafeed, index: ['logs-*'] }) },
      { name: 'wrong-query', text: typedSource({ job_id: rendered.jobId, ...rendered.job }, { datafeed_id: rendered.datafeedId, ...rendered.datafeed, query: { bool: { filtre: [] } } }) },
    ];
    let diagnostics: Map<string, string[]>;
    beforeAll(() => {
      diagnostics = typeCheck(files);
    });

    it('every job and datafeed compiles as MlPutJobRequest / MlPutDatafeedRequest', () => {
      expect(diagnostics.get('(global)') ?? []).toEqual([]);
      for (const job of jobs) expect({ job: job.id, errors: diagnostics.get(job.id) }).toEqual({ job: job.id, errors: [] });
    });

    it('the same check fails for deliberately wrong bodies (so it can fail)', () => {
      expect((diagnostics.get('wrong-excess-key') ?? []).join('\n')).toMatch(/'"fieldname"' does not exist in type 'MlDetector'/);
      expect((diagnostics.get('wrong-type') ?? []).join('\n')).toMatch(/Type '15' is not assignable to type 'Duration/);
      expect((diagnostics.get('wrong-datafeed') ?? []).join('\n')).toMatch(/'"index"' does not exist in type 'MlPutDatafeedRequest'/);
      expect((diagnostics.get('wrong-query') ?? []).join('\n')).toMatch(/'"filtre"' does not exist in type 'QueryDslBoolQuery'/);
    });
  });

  it('names only fields the templates map, with types the functions need, in the streams the datafeed reads', () => {
    for (const job of jobs) expect({ job: job.id, problems: checkMlJob(job, fields) }).toEqual({ job: job.id, problems: [] });
  });

  it('the field check fails for an unmapped field, a text field as a split field and a string as a metric', () => {
    const base = jobs.find((j) => j.id === 'cryptochannel_high_bytes_out_ratio')!;
    const withDetector = (detector: Record<string, unknown>): MlJobContent => ({
      ...base,
      job: { ...base.job, analysis_config: { ...(base.job.analysis_config as object), detectors: [detector] } },
    });
    expect(checkMlJob(withDetector({ function: 'high_mean', field_name: 'cryptochannel.network.no_such_ratio', partition_field_name: 'source.ip' }), fields).join('\n')).toMatch(/no_such_ratio' is not mapped/);
    expect(checkMlJob(withDetector({ function: 'high_mean', field_name: 'destination.domain' }), fields).join('\n')).toMatch(/destination.domain' is keyword, not numeric/);
    expect(checkMlJob(withDetector({ function: 'rare', by_field_name: 'message' }), fields).join('\n')).toMatch(/'message' is match_only_text, not keyword or ip/);
    expect(checkMlJob(withDetector({ function: 'rare', partition_field_name: 'host.name' }), fields).join('\n')).toMatch(/needs by_field_name/);
    expect(checkMlJob(withDetector({ function: 'hihg_mean', field_name: 'cryptochannel.network.bytes_out_in_ratio' }), fields).join('\n')).toMatch(/not an ML function/);
    expect(checkMlJob({ ...base, datafeed: { ...base.datafeed, query: { term: { 'cryptochannel.zeek.no_such': true } } } }, fields).join('\n')).toMatch(/no_such' is not mapped/);
  });

  it('reads real source streams, and compares event.action only with values the pipelines write there', () => {
    const sourcesWithPipelines = new Set(content.pipelines.filter((p) => p.name === 'default').map((p) => p.owner));
    for (const job of jobs) {
      const patterns = job.datafeed.indices as string[];
      const streams = patterns.map(streamOfIndexPattern);
      expect({ job: job.id, patterns, unknown: patterns.filter((_, i) => !streams[i] || !sourcesWithPipelines.has(streams[i]!)) }).toEqual({ job: job.id, patterns, unknown: [] });
      const written = new Set(streams.flatMap((s) => [...goldenActions(s!)]));
      const compared = actionValues(job.datafeed.query);
      expect({ job: job.id, neverWritten: compared.filter((a) => !written.has(a)) }).toEqual({ job: job.id, neverWritten: [] });
    }
  });

  it('the field extractor finds the fields of every datafeed query (the field check is not vacuous)', () => {
    // Guards the extractor itself: a datafeed that names fields must yield them.
    for (const job of jobs) expect(searchBodyFields({ query: job.datafeed.query }).length).toBeGreaterThan(0);
  });

  it('renders the job with the ownership marker in custom_settings and the datafeed with job_id', () => {
    const job = jobs[0]!;
    const rendered = renderMlJob(job, '1.2.3');
    expect(rendered.jobId).toBe(job.id);
    expect(rendered.datafeedId).toBe(datafeedId(job.id));
    expect(rendered.datafeed.job_id).toBe(job.id);
    const settings = rendered.job.custom_settings as Record<string, unknown>;
    expect(settings).toMatchObject({ managed_by: 'cryptochannel', package_version: '1.2.3', created_by: 'cryptochannel' });
    expect(mlJobMeta(rendered.job)).toEqual(rendered.meta);
    expect(mlJobMeta({ custom_settings: { created_by: 'someone' } })).toBeUndefined();
    // The hash follows the content, datafeed included, and not the package version.
    expect(renderMlJob(job, '9.9.9').meta.content_sha256).toBe(rendered.meta.content_sha256);
    const changedFeed = { ...job, datafeed: { ...job.datafeed, query_delay: '120s' } };
    expect(renderMlJob(changedFeed, '1.2.3').meta.content_sha256).not.toBe(rendered.meta.content_sha256);
  });

  it('puts the jobs where Kibana Security lists them (the security group)', () => {
    for (const job of jobs) expect(job.job.groups).toEqual(expect.arrayContaining(['cryptochannel', 'security']));
  });
});
