/**
 * The deployer on the real engine, as a user runs it: apply on a cluster without cryptochannel,
 * apply again (nothing to do), an upgrade from an earlier version that keeps the user's tuning and
 * @custom pipeline, a conflict refused without --force, and uninstall that leaves foreign assets,
 * the user's assets and the data alone.
 *
 * It installs under the real names, so it runs alone in its file and starts by removing any earlier
 * install and every cryptochannel data stream (the integration project runs one file at a time:
 * jest.config.js).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyPlan, ensureInstalled, planDeployment, planUninstall, type ApplyReport } from '../../src/apply/deploy';
import { connect, getPipeline, putPipeline, search, type ClusterClient } from '../../src/cluster';
import { customPipelineId, loadContent, pipelineId } from '../../src/content';
import { PACKAGE_VERSION } from '../../src/package-info';
import { TUNABLES_DOC_ID, TUNABLES_INDEX } from '../../src/plan/desired';
import { runCli } from './support/cli';
import { testEngineLabel, testUrl } from './support/engine-env';

const content = loadContent();
const OLD = '0.0.1-previous';
const foreignPipeline = `foreign-${randomBytes(3).toString('hex')}`;
const foreignTemplate = `foreign-${randomBytes(3).toString('hex')}`;
const namespace = `cctestdeploy${randomBytes(3).toString('hex')}`;

describe(`the deployer on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const cli = async (...args: string[]) => runCli(['--url', testUrl(), ...args]);
  const applyJson = async (...extra: string[]) => {
    const run = await cli('--json', 'apply', '--yes', ...extra);
    return { code: run.code, stderr: run.stderr, report: JSON.parse(run.stdout) as ApplyReport };
  };

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
    // A cluster without cryptochannel: uninstall keeps the templates that live data streams still use,
    // so streams another test file (or an interrupted run) left behind would turn creates into no-ops.
    await client.request({ method: 'DELETE', path: '/_data_stream/logs-cryptochannel.*', ignore: [404] });
    const clean = await planUninstall({ client, content, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() }, true);
    await applyPlan({ client, content, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() }, clean);
    await putPipeline(client, foreignPipeline, { description: 'someone else’s', processors: [{ set: { field: 'x', value: 1 } }] });
    await client.request({ method: 'PUT', path: `/_index_template/${foreignTemplate}`, body: { index_patterns: [`${foreignTemplate}-*`], priority: 1 } });
  });
  afterAll(async () => {
    await client.request({ method: 'DELETE', path: `/_ingest/pipeline/${foreignPipeline}`, ignore: [404] });
    await client.request({ method: 'DELETE', path: `/_index_template/${foreignTemplate}`, ignore: [404] });
    await client.request({ method: 'DELETE', path: `/_data_stream/logs-cryptochannel.*-${namespace}`, ignore: [404] });
    // The files after this one start from an installed cluster, as global-setup left it.
    await ensureInstalled({ client, content, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
    await client.close();
  });

  it('installs an earlier version on a cluster without cryptochannel', async () => {
    const ctx = { client, content, packageVersion: OLD, now: new Date().toISOString() };
    const planned = await planDeployment(ctx);
    expect(planned.plan.summary.conflict).toBe(0);
    expect(planned.plan.summary.noop).toBe(0);
    const report = await applyPlan(ctx, planned);
    expect(report.failed).toBe(0);
    expect(report.changed).toBe(planned.plan.summary.create);
    expect(await getPipeline(client, pipelineId('zeek', 'default', OLD))).toBeDefined();
  });

  it("the user tunes and customises: tune set, and a processor in a source's @custom pipeline", async () => {
    const tune = await cli('tune', 'set', 'ScoreThreshold', '75');
    expect(tune.code).toBe(0);
    const refused = await cli('tune', 'set', 'ScoreThreshold', 'high');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ScoreThreshold');
    await putPipeline(client, customPipelineId('zeek'), { description: 'mine', processors: [{ set: { field: 'labels.site', value: 'lab-7' } }] });
  });

  it('upgrades to this version: new pipelines in, old ones out, tuning and @custom kept, unchanged templates untouched', async () => {
    const plan = await cli('--json', 'plan');
    expect(plan.code).toBe(0);
    const { report, code } = await applyJson();
    expect(code).toBe(0);
    expect(report.failed).toBe(0);
    const by = (kind: string, action: string) => report.results.filter((r) => r.kind === kind && r.action === action);
    expect(by('pipeline', 'create').length).toBeGreaterThan(0);
    expect(by('pipeline', 'delete').map((r) => r.name)).toContain(pipelineId('zeek', 'default', OLD));
    expect(by('component_template', 'noop').length).toBeGreaterThan(0);
    expect(by('component_template', 'update')).toEqual([]);
    expect(by('tunables', 'noop')).toHaveLength(1);
    expect(by('custom_pipeline', 'noop')).toHaveLength(9);

    const live = await client.request<{ _source: { tunables: { ScoreThreshold: number } } }>({ method: 'GET', path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}` });
    expect(live.body._source.tunables.ScoreThreshold).toBe(75);
    expect(await getPipeline(client, pipelineId('zeek', 'default', OLD))).toBeUndefined();
    const custom = await getPipeline(client, customPipelineId('zeek'));
    expect(custom?.description).toBe('mine');
  });

  it('applies again with nothing to do', async () => {
    const { report, code } = await applyJson();
    expect(code).toBe(0);
    expect(report.changed).toBe(0);
    expect(report.results.every((r) => r.status === 'unchanged' || r.status === 'skipped')).toBe(true);
    const status = await cli('status');
    expect(status.stdout).toContain('up to date');
  });

  it("runs the user's @custom pipeline on ingest", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-deploy-'));
    const file = path.join(dir, 'ssl.ndjson');
    writeFileSync(file, `${JSON.stringify({ _path: 'ssl', ts: 1764324100.0, uid: 'Cdeploy1', 'id.orig_h': '10.0.0.5', 'id.orig_p': 50000, 'id.resp_h': '203.0.113.9', 'id.resp_p': 443, version: 'TLSv13', established: true, server_name: 'example.org' })}\n`);
    const run = await cli('ingest', '--source', 'zeek', '--namespace', namespace, file);
    expect(run.code).toBe(0);
    const hits = await search<{ labels?: { site?: string } }>(client, `logs-cryptochannel.zeek-${namespace}`, { query: { term: { 'event.id': 'Cdeploy1' } } });
    expect(hits.hits.hits[0]?._source?.labels?.site).toBe('lab-7');
  });

  it('refuses a conflict with an asset that is not ours, and takes it over only with --force', async () => {
    const name = pipelineId('zeek', 'ssl', PACKAGE_VERSION);
    await putPipeline(client, name, { description: 'a pipeline someone else put here', processors: [] });
    const plan = await cli('--json', 'plan');
    expect(plan.code).toBe(1);
    const conflicts = (JSON.parse(plan.stdout) as { waves: Array<{ items: Array<{ name: string; action: string }> }> }).waves.flatMap((w) => w.items).filter((i) => i.action === 'conflict');
    expect(conflicts.map((c) => c.name)).toEqual([name]);

    const refused = await applyJson();
    expect(refused.code).toBe(1);
    expect(refused.report.refused).toBe(1);
    expect(refused.report.changed).toBe(0);
    expect((await getPipeline(client, name))?.description).toBe('a pipeline someone else put here');

    const forced = await applyJson('--force');
    expect(forced.code).toBe(0);
    expect(forced.report.changed).toBe(1);
    expect(String((await getPipeline(client, name))?.description)).toContain('managed_by: cryptochannel');
  });

  it("uninstalls only what is ours: foreign assets, the user's tuning and @custom pipelines, and the data stay", async () => {
    const run = await cli('--json', 'uninstall', '--yes');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ApplyReport;
    expect(report.failed).toBe(0);
    expect(report.changed).toBeGreaterThan(0);
    expect(report.results.filter((r) => r.status === 'done').every((r) => r.action === 'delete')).toBe(true);

    expect(await getPipeline(client, foreignPipeline)).toBeDefined();
    expect((await client.request({ method: 'GET', path: `/_index_template/${foreignTemplate}`, ignore: [404] })).status).toBe(200);
    expect(await getPipeline(client, pipelineId('zeek', 'default', PACKAGE_VERSION))).toBeUndefined();
    expect((await getPipeline(client, customPipelineId('zeek')))?.description).toBe('mine');
    expect((await client.request({ method: 'GET', path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`, ignore: [404] })).status).toBe(200);
    expect((await client.request({ method: 'GET', path: `/_data_stream/logs-cryptochannel.zeek-${namespace}`, ignore: [404] })).status).toBe(200);

    // The zeek stream this test ingested into still holds data: its templates stay, and say why.
    const kept = report.results.filter((r) => r.action === 'noop' && r.reason.startsWith('kept:'));
    expect(kept.map((r) => r.name).sort()).toEqual(['logs-cryptochannel.zeek', 'logs-cryptochannel.zeek@package']);
    expect(kept.find((r) => r.kind === 'index_template')!.reason).toContain(`logs-cryptochannel.zeek-${namespace}`);
    const status = await cli('--json', 'status');
    const installed = (JSON.parse(status.stdout) as { installed: Array<{ name: string }> }).installed;
    expect(installed.map((i) => i.name).sort()).toEqual(['logs-cryptochannel.zeek', 'logs-cryptochannel.zeek@package']);
  });

  it('reports a failing item with the engine\'s root cause and the painless script stack, and carries on', async () => {
    const ctx = { client, content, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() };
    const broken = `cctest-broken-${randomBytes(3).toString('hex')}`;
    const planned = {
      plan: {
        flavor: client.flavor,
        packageVersion: PACKAGE_VERSION,
        summary: { create: 2, update: 0, noop: 0, conflict: 0, delete: 0, skip: 0 },
        waves: [
          {
            wave: 'pipeline' as const,
            items: [
              { kind: 'pipeline' as const, name: broken, target: 'engine' as const, action: 'create' as const, reason: 'test', body: { processors: [{ script: { source: 'ctx.a = params.missing.size(' } }] } },
              { kind: 'pipeline' as const, name: `${broken}-ok`, target: 'engine' as const, action: 'create' as const, reason: 'test', body: { processors: [] } },
            ],
          },
        ],
      },
      state: { assets: [], unsupported: {}, versions: {}, ids: {} },
    };
    const report = await applyPlan(ctx, planned);
    expect(report.failed).toBe(1);
    expect(report.changed).toBe(1);
    const failure = report.results.find((r) => r.status === 'failed')!;
    expect(failure.name).toBe(broken);
    expect(String(failure.error?.message)).toContain('script_stack');
    expect(failure.error?.root_cause).toBeDefined();
    await client.request({ method: 'DELETE', path: `/_ingest/pipeline/${broken}-ok`, ignore: [404] });
  });

  it('purges the user-owned assets only when asked', async () => {
    const run = await cli('--json', 'uninstall', '--yes', '--purge');
    expect(run.code).toBe(0);
    expect(await getPipeline(client, customPipelineId('zeek'))).toBeUndefined();
    expect((await client.request({ method: 'GET', path: `/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`, ignore: [404] })).status).toBe(404);
    expect(await getPipeline(client, foreignPipeline)).toBeDefined();
  });
});
