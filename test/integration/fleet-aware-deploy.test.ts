/**
 * The deployer beside Fleet on the real engine. Fleet stamps what it installs with
 * `_meta: {managed_by: 'fleet', managed: true, package: {name: 'cryptochannel'}}` under the same
 * template names as ours; this file puts such templates on the engine (OpenSearch takes `_meta` on
 * templates, not on pipelines) and checks, through the CLI as a user runs it, that `plan` shows them
 * skipped rather than in conflict, that neither `apply` nor `apply --runtime-only` changes a byte of
 * them or installs Fleet's share a second time, that `--runtime-only` installs the tunables, the
 * threat intel and the alerts stream, and that uninstall leaves Fleet's templates to Fleet.
 *
 * It uninstalls and installs under the real names, so it runs alone in its file (the integration
 * project runs one file at a time: jest.config.js) and leaves the cluster installed, as it found it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyPlan, ensureInstalled, planUninstall, type ApplyReport } from '../../src/apply/deploy';
import { connect, getPipeline, type ClusterClient } from '../../src/cluster';
import { customPipelineId, loadContent, loadDetectionContent, pipelineId } from '../../src/content';
import { PACKAGE_VERSION } from '../../src/package-info';
import { bundleFiles } from '../../src/plan/bundle';
import { offlineAssets, TUNABLES_DOC_ID, TUNABLES_INDEX } from '../../src/plan/desired';
import { FLEET_REASON, FLEET_UNINSTALL_REASON, isRuntimeShare, runtimeOnlyReason } from '../../src/plan/fleet';
import type { Plan } from '../../src/plan/types';
import { runCli } from './support/cli';
import { testEngineLabel, testUrl } from './support/engine-env';

const content = loadContent();
const FLEET_META = { managed_by: 'fleet', managed: true, package: { name: 'cryptochannel' } };
/** What Fleet installs for two streams, under Fleet's names (which are ours). */
const fleetComponents: Record<string, unknown> = {
  'logs-cryptochannel.zeek@package': { template: { mappings: { properties: { 'zeek.session_id': { type: 'keyword' } } } }, _meta: FLEET_META },
};
const fleetIndexTemplates: Record<string, unknown> = {
  'logs-cryptochannel.zeek': {
    index_patterns: ['logs-cryptochannel.zeek-*'],
    data_stream: {},
    priority: 200,
    composed_of: ['logs-cryptochannel.zeek@package'],
    template: { settings: { index: { default_pipeline: 'logs-cryptochannel.zeek-0.0.9-fleet' } } },
    _meta: FLEET_META,
  },
  'logs-cryptochannel.deadletter': { index_patterns: ['logs-cryptochannel.deadletter-*'], data_stream: {}, priority: 200, _meta: FLEET_META },
};
const FLEET_NAMES = [...Object.keys(fleetComponents), ...Object.keys(fleetIndexTemplates)];

describe(`the deployer beside Fleet on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const cli = async (...args: string[]) => runCli(['--url', testUrl(), ...args]);
  const planJson = async (...extra: string[]) => {
    const run = await cli('--json', 'plan', ...extra);
    expect(run.stderr).not.toContain('error:');
    return { code: run.code, plan: JSON.parse(run.stdout) as Plan };
  };
  const applyJson = async (...extra: string[]) => {
    const run = await cli('--json', 'apply', '--yes', ...extra);
    expect(run.stderr).not.toContain('error:');
    return { code: run.code, report: JSON.parse(run.stdout) as ApplyReport };
  };
  /** The engine's own answer for each Fleet template, as text: "unchanged" means byte for byte. */
  const fleetTemplatesAsStored = async () => {
    const out: Record<string, string> = {};
    for (const name of Object.keys(fleetComponents)) out[name] = JSON.stringify((await client.request({ method: 'GET', path: `/_component_template/${encodeURIComponent(name)}` })).body);
    for (const name of Object.keys(fleetIndexTemplates)) out[name] = JSON.stringify((await client.request({ method: 'GET', path: `/_index_template/${encodeURIComponent(name)}` })).body);
    return out;
  };
  const exists = async (p: string) => (await client.request({ method: 'GET', path: p, ignore: [404] })).status === 200;
  let stored: Record<string, string>;

  /** Index templates before the component template they are composed of. */
  const removeFleetTemplates = async () => {
    for (const name of Object.keys(fleetIndexTemplates)) await client.request({ method: 'DELETE', path: `/_index_template/${encodeURIComponent(name)}`, ignore: [404] });
    for (const name of Object.keys(fleetComponents)) await client.request({ method: 'DELETE', path: `/_component_template/${encodeURIComponent(name)}`, ignore: [404] });
  };

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
    // A cluster without cryptochannel. Uninstall keeps the templates that data streams still use, so
    // the streams other files left behind go first (as in deploy.test.ts); uninstall never removes
    // Fleet's templates, so an interrupted earlier run's go by hand.
    await client.request({ method: 'DELETE', path: '/_data_stream/logs-cryptochannel.*', ignore: [404] });
    await removeFleetTemplates();
    const ctx = { client, content, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() };
    await applyPlan(ctx, await planUninstall(ctx, true));
  });
  afterAll(async () => {
    // Fleet's stand-ins go first, then the files after this one get the cluster installed, as global-setup left it.
    await removeFleetTemplates();
    await ensureInstalled({ client, content, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
    await client.close();
  });

  it('--runtime-only without Fleet plans the runtime share and skips the rest, saying why', async () => {
    const { code, plan } = await planJson('--runtime-only');
    expect(code).toBe(0);
    expect(plan.runtimeOnly).toBe(true);
    expect(plan.fleet).toBeUndefined();
    const all = plan.waves.flatMap((w) => w.items);
    const created = all.filter((i) => i.action === 'create');
    expect(created.map((i) => i.kind)).toEqual(expect.arrayContaining(['component_template', 'index_template', 'threat_intel', 'tunables']));
    expect(created.every((i) => isRuntimeShare(i.kind, i.name))).toBe(true);
    const zeekPipeline = all.find((i) => i.name === pipelineId('zeek', 'default', PACKAGE_VERSION));
    expect(zeekPipeline).toMatchObject({ action: 'skip', reason: runtimeOnlyReason(client.flavor) });
  });

  it('takes --runtime-only together with --from-bundle: the runtime share of the reviewed files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-fleet-bundle-'));
    const desired = offlineAssets(content, loadDetectionContent(content.roots), { flavor: client.flavor, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
    for (const f of bundleFiles(desired, { package_version: PACKAGE_VERSION, flavor: client.flavor, created: new Date().toISOString() })) {
      mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
      writeFileSync(path.join(dir, f.path), f.content);
    }
    const { code, plan } = await planJson('--from-bundle', dir, '--runtime-only');
    expect(code).toBe(0);
    const created = plan.waves.flatMap((w) => w.items).filter((i) => i.action === 'create');
    expect(created.length).toBeGreaterThan(0);
    expect(created.every((i) => isRuntimeShare(i.kind, i.name))).toBe(true);
  });

  it("plan shows the templates Fleet installed as skipped, not conflicts, and leaves Fleet's whole share to it", async () => {
    for (const [name, body] of Object.entries(fleetComponents)) await client.request({ method: 'PUT', path: `/_component_template/${encodeURIComponent(name)}`, body });
    for (const [name, body] of Object.entries(fleetIndexTemplates)) await client.request({ method: 'PUT', path: `/_index_template/${encodeURIComponent(name)}`, body });
    stored = await fleetTemplatesAsStored();

    const { code, plan } = await planJson();
    expect(code).toBe(0);
    expect(plan.fleet).toBe(true);
    expect(plan.summary.conflict).toBe(0);
    const all = plan.waves.flatMap((w) => w.items);
    for (const name of FLEET_NAMES) expect(all.find((i) => i.name === name)).toMatchObject({ action: 'skip', reason: FLEET_REASON });
    // Other names of Fleet's share (other streams' templates, pipelines, stored scripts, @custom): skipped too.
    for (const i of all.filter((x) => ['pipeline', 'stored_script', 'custom_pipeline'].includes(x.kind) || x.name === 'logs-cryptochannel.suricata')) {
      expect(i).toMatchObject({ action: 'skip', reason: expect.stringMatching(/^(installed by|left to) Fleet \(package cryptochannel\)/) });
    }
    expect(all.filter((i) => i.action === 'create').every((i) => isRuntimeShare(i.kind, i.name))).toBe(true);
  });

  it("apply --runtime-only installs the tunables, the threat intel and the alerts stream, and nothing of Fleet's", async () => {
    const { code, report } = await applyJson('--runtime-only');
    expect(code).toBe(0);
    expect(report.failed).toBe(0);
    expect(report.refused).toBe(0);
    const done = report.results.filter((r) => r.status === 'done');
    expect(done.map((r) => r.name)).toEqual(expect.arrayContaining(['logs-cryptochannel.alerts@package', 'logs-cryptochannel.alerts', 'cryptochannel-threatintel', TUNABLES_INDEX]));
    expect(done.every((r) => isRuntimeShare(r.kind, r.name))).toBe(true);

    expect(await fleetTemplatesAsStored()).toEqual(stored);
    expect(await exists(`/${TUNABLES_INDEX}/_doc/${TUNABLES_DOC_ID}`)).toBe(true);
    expect(await exists('/cryptochannel-threatintel/_doc/_seed')).toBe(true);
    const alerts = await client.request<{ index_templates: Array<{ index_template: { _meta?: { managed_by?: string } } }> }>({ method: 'GET', path: '/_index_template/logs-cryptochannel.alerts' });
    expect(alerts.body.index_templates[0]!.index_template._meta?.managed_by).toBe('cryptochannel');
    // Fleet's share was not installed a second time under our names.
    expect(await getPipeline(client, pipelineId('zeek', 'default', PACKAGE_VERSION))).toBeUndefined();
    expect(await getPipeline(client, customPipelineId('zeek'))).toBeUndefined();
    expect(await exists('/_component_template/logs-cryptochannel.suricata%40package')).toBe(false);
  });

  it("a plain apply --yes then has nothing to do and leaves Fleet's templates byte for byte", async () => {
    const { code, report } = await applyJson();
    expect(code).toBe(0);
    expect(report.changed).toBe(0);
    expect(report.results.filter((r) => FLEET_NAMES.includes(r.name)).every((r) => r.status === 'skipped' && r.reason === FLEET_REASON)).toBe(true);
    expect(await fleetTemplatesAsStored()).toEqual(stored);
    const status = JSON.parse((await cli('--json', 'status')).stdout) as { installed: Array<{ name: string }>; fleet: Array<{ name: string }>; upToDate: boolean };
    expect(status.upToDate).toBe(true);
    expect(status.fleet.map((f) => f.name).sort()).toEqual([...FLEET_NAMES].sort());
    expect(status.installed.some((i) => FLEET_NAMES.includes(i.name))).toBe(false);
  });

  it("uninstall removes ours and leaves Fleet's templates to Fleet, saying so", async () => {
    const run = await cli('--json', 'uninstall', '--yes');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ApplyReport;
    expect(report.failed).toBe(0);
    expect(report.results.filter((r) => r.status === 'done').map((r) => r.name)).toEqual(expect.arrayContaining(['logs-cryptochannel.alerts', 'logs-cryptochannel.alerts@package']));
    for (const name of FLEET_NAMES) expect(report.results.find((r) => r.name === name)).toMatchObject({ status: 'skipped', reason: FLEET_UNINSTALL_REASON });
    expect(await fleetTemplatesAsStored()).toEqual(stored);
    expect(await exists('/_index_template/logs-cryptochannel.alerts')).toBe(false);
  });
});
