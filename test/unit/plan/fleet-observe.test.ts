/**
 * plan / apply / status / uninstall on an Elasticsearch + Kibana where Fleet installed cryptochannel,
 * without a network: fake clients answer the deployer's reads with what Fleet leaves behind (its
 * `_meta` on templates and pipelines, prebuilt rules, managed saved objects) and record every write,
 * so the tests see what the observer recognises and exactly which requests apply would send.
 */
import { applyPlan, deploymentStatus, planDeployment, planUninstall, type DeployContext } from '../../../src/apply/deploy';
import type { ClusterClient, ClusterRequest, ClusterResponse, KibanaClient } from '../../../src/cluster';
import { ClusterError } from '../../../src/cluster';
import { loadContent, loadDetectionContent, pipelineId, SHARED, SOURCES } from '../../../src/content';
import { offlineAssets } from '../../../src/plan/desired';
import { FLEET_REASON, FLEET_UNINSTALL_REASON, isRuntimeShare } from '../../../src/plan/fleet';
import type { PlanItem } from '../../../src/plan/types';

const VERSION = '0.1.0';
const FLEET_META = { managed_by: 'fleet', managed: true, package: { name: 'cryptochannel' } };
const content = loadContent();
const detection = loadDetectionContent(content.roots);

type Answer = { status: number; body: unknown } | undefined;

/** A client over a routing function; reads it cannot answer are 404, writes are recorded and succeed. */
function fakeClient(route: (req: ClusterRequest) => Answer, writes: string[]): ClusterClient & KibanaClient {
  return {
    url: 'http://fake',
    space: 'default',
    flavor: 'elasticsearch',
    version: '8.17.0',
    clusterName: 'fake',
    async request<T>(req: ClusterRequest): Promise<ClusterResponse<T>> {
      let answer = route(req);
      if (!answer && req.method !== 'GET' && req.method !== 'HEAD') {
        writes.push(`${req.method} ${req.path}`);
        answer = req.path === '/_bulk' ? { status: 200, body: { errors: false, items: [] } } : { status: 200, body: { id: 'assigned-id', acknowledged: true } };
      }
      answer ??= { status: 404, body: {} };
      if (answer.status >= 400 && !req.ignore?.includes(answer.status)) throw new ClusterError({ kind: 'response', message: `${req.method} ${req.path}: ${answer.status}`, status: answer.status });
      return answer as ClusterResponse<T>;
    },
    close: async () => undefined,
  };
}

/** The Elasticsearch side of a Fleet install of the package, as Fleet names and stamps it. */
function fleetEngine(): (req: ClusterRequest) => Answer {
  const streams = [...SOURCES.map((s) => `logs-cryptochannel.${s}`), 'logs-cryptochannel.deadletter'];
  const componentTemplates = streams.flatMap((s) => [`${s}@package`, `${s}@custom`]).map((name) => ({ name, component_template: { template: {}, _meta: FLEET_META } }));
  const indexTemplates = streams.map((name) => ({ name, index_template: { index_patterns: [`${name}-*`], data_stream: {}, composed_of: [`${name}@package`, `${name}@custom`], _meta: FLEET_META } }));
  const sharedNames = content.pipelines.filter((p) => p.owner === SHARED).map((p) => p.name);
  const pipelines: Record<string, unknown> = {};
  for (const p of content.pipelines.filter((x) => x.owner !== SHARED)) pipelines[pipelineId(p.owner, p.name, VERSION)] = { processors: [], _meta: FLEET_META };
  // The shared pipelines, copied into each stream under the stream's name.
  for (const s of SOURCES) for (const n of sharedNames) pipelines[pipelineId(s, n, VERSION)] = { processors: [], _meta: FLEET_META };
  // Elasticsearch's own ILM policy for logs: managed, but not Fleet's and not ours.
  const ilm = { logs: { policy: { phases: {}, _meta: { managed: true, description: 'default policy for the logs index template' } } } };
  return (req) => {
    if (req.method !== 'GET') return undefined;
    if (req.path === '/_component_template') return { status: 200, body: { component_templates: componentTemplates } };
    if (req.path === '/_index_template') return { status: 200, body: { index_templates: indexTemplates } };
    if (req.path === '/_ilm/policy') return { status: 200, body: ilm };
    if (req.path === '/_cluster/state/metadata') return { status: 200, body: { metadata: { stored_scripts: {} } } };
    if (req.path === '/_ingest/pipeline') return { status: 200, body: pipelines };
    if (req.path === '/_ml/info') return { status: 200, body: {} };
    if (req.path.startsWith('/_ml/anomaly_detectors/')) return { status: 200, body: { jobs: [] } };
    if (req.path.startsWith('/_data_stream/')) return { status: 200, body: { data_streams: [] } };
    return undefined;
  };
}

/** An empty Elasticsearch: nothing of anyone's. */
function emptyEngine(): (req: ClusterRequest) => Answer {
  return (req) => {
    if (req.method !== 'GET') return undefined;
    if (req.path === '/_cluster/state/metadata') return { status: 200, body: { metadata: {} } };
    if (req.path === '/_ml/info') return { status: 200, body: {} };
    if (req.path.startsWith('/_ml/anomaly_detectors/')) return { status: 200, body: { jobs: [] } };
    return undefined;
  };
}

/** Kibana after Fleet installed the package and the user installed its prebuilt rules. */
function fleetKibana(): (req: ClusterRequest) => Answer {
  return (req) => {
    if (req.method === 'GET' && req.path === '/api/detection_engine/rules') {
      return { status: 200, body: { rule_id: req.query?.rule_id, immutable: true, rule_source: { type: 'external', is_customized: false }, tags: ['cryptochannel'], author: ['cryptochannel'] } };
    }
    if (req.method === 'POST' && req.path === '/api/saved_objects/_bulk_get') {
      return { status: 200, body: { saved_objects: (req.body as Array<{ type: string; id: string }>).map((o) => ({ ...o, attributes: {}, managed: true })) } };
    }
    return undefined;
  };
}

const items = (waves: Array<{ items: PlanItem[] }>) => waves.flatMap((w) => w.items);

describe('the deployer on an Elasticsearch where Fleet installed cryptochannel', () => {
  const writes: string[] = [];
  const ctx = (): DeployContext => ({
    client: fakeClient(fleetEngine(), writes),
    kibana: fakeClient(fleetKibana(), writes),
    content,
    detection,
    packageVersion: VERSION,
    now: '2026-12-01T00:00:00Z',
  });
  beforeEach(() => writes.splice(0));

  it("plans no conflict and no second install: Fleet's share is skipped, the runtime share created", async () => {
    const { plan } = await planDeployment(ctx());
    const all = items(plan.waves);
    expect(plan.fleet).toBe(true);
    expect(plan.summary.conflict).toBe(0);
    expect(plan.summary.update + plan.summary.delete).toBe(0);
    // Under Fleet's very names: the exact reason.
    const exact = ['logs-cryptochannel.zeek', 'logs-cryptochannel.zeek@package', 'logs-cryptochannel.deadletter', pipelineId('zeek', 'default', VERSION), detection.rules[0]!.rule.rule_id];
    for (const name of exact) expect(all.find((i) => i.name === name)).toMatchObject({ action: 'skip', reason: FLEET_REASON });
    // Under names Fleet does not use (shared pipelines, stored scripts, @custom pipelines, ML jobs): still Fleet's.
    for (const i of all.filter((x) => x.kind === 'stored_script' || x.kind === 'custom_pipeline' || x.kind === 'ml_job' || (x.kind === 'pipeline' && x.name.startsWith(`logs-cryptochannel-${VERSION}-`)))) {
      expect(i).toMatchObject({ action: 'skip', reason: expect.stringMatching(/^(installed by|left to) Fleet \(package cryptochannel\)/) });
    }
    expect(all.filter((i) => i.action === 'create').every((i) => isRuntimeShare(i.kind, i.name))).toBe(true);
    expect(all.filter((i) => i.action === 'create').map((i) => i.kind).sort()).toEqual([
      'component_template',
      ...detection.exceptionLists.map(() => 'exception_list'),
      'index_template',
      'lifecycle_policy',
      'threat_intel',
      'tunables',
    ]);
  });

  it("applies only the runtime share: no request touches a Fleet asset's name, pipelines, scripts, ML, rules or saved objects", async () => {
    const c = ctx();
    const report = await applyPlan(c, await planDeployment(c));
    expect(report.failed).toBe(0);
    expect(report.refused).toBe(0);
    expect(writes.map(decodeURIComponent).filter((w) => /\/_ingest\/pipeline|\/_scripts|\/_ml\/|\/_component_template\/logs-cryptochannel\.(?!alerts@)|\/_index_template\/logs-cryptochannel\.(?!alerts$)|detection_engine|saved_objects/.test(w))).toEqual([]);
    expect(writes).toEqual(
      expect.arrayContaining([
        'PUT /_component_template/logs-cryptochannel.alerts%40package',
        'PUT /_ilm/policy/logs-cryptochannel-alerts',
        'PUT /_index_template/logs-cryptochannel.alerts',
        'PUT /cryptochannel-tunables/_create/current',
        'POST /api/exception_lists',
      ]),
    );
  });

  it("status counts nothing of Fleet's as installed by cryptochannel, and lists it as Fleet's", async () => {
    const status = await deploymentStatus(ctx());
    expect(status.installed).toEqual([]);
    expect(status.fleet.map((f) => f.name)).toEqual(expect.arrayContaining(['logs-cryptochannel.zeek', pipelineId('zeek', 'default', VERSION), detection.rules[0]!.rule.rule_id]));
    expect(status.userOwned).toEqual([]);
    expect(status.pending.conflict).toBe(0);
  });

  it("uninstall deletes nothing of Fleet's and says that removing it is Fleet's job", async () => {
    const c = ctx();
    const planned = await planUninstall(c, true);
    expect(planned.plan.summary.delete).toBe(0);
    const skipped = items(planned.plan.waves);
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.every((i) => i.action === 'skip' && i.reason === FLEET_UNINSTALL_REASON)).toBe(true);
    const report = await applyPlan(c, planned);
    expect(report.changed).toBe(0);
    expect(writes).toEqual([]);
  });
});

describe('--runtime-only on an Elasticsearch without Fleet', () => {
  const writes: string[] = [];
  const base = (): DeployContext => ({ client: fakeClient(emptyEngine(), writes), content, detection, packageVersion: VERSION, now: '2026-12-01T00:00:00Z', runtimeOnly: true });

  it.each([
    ['rendered from the content', () => base()],
    ['read from a bundle', () => ({ ...base(), bundle: { flavor: 'elasticsearch' as const, desired: offlineAssets(content, detection, { flavor: 'elasticsearch', packageVersion: VERSION, now: '2026-12-01T00:00:00Z' }) } })],
  ])('plans only the runtime share, %s; everything else is left to Fleet', async (_what, make) => {
    const { plan } = await planDeployment(make());
    const all = items(plan.waves);
    expect(plan.runtimeOnly).toBe(true);
    expect(plan.fleet).toBeUndefined();
    const created = all.filter((i) => i.action === 'create');
    expect(created.map((i) => `${i.kind} ${i.name}`).sort()).toEqual([
      'component_template logs-cryptochannel.alerts@package',
      'index_template logs-cryptochannel.alerts',
      'lifecycle_policy logs-cryptochannel-alerts',
      'threat_intel cryptochannel-threatintel',
      'tunables cryptochannel-tunables',
    ]);
    const engineRest = all.filter((i) => i.target === 'engine' && i.action !== 'create');
    expect(engineRest.length).toBeGreaterThan(0);
    expect(engineRest.every((i) => i.action === 'skip' && i.reason === 'left to Fleet (--runtime-only)')).toBe(true);
  });
});
