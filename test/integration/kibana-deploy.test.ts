/**
 * The deployer's Kibana calls, contract-tested: Kibana cannot run here, so a stub answers the
 * endpoints and validates every rule body against Kibana's published rule schema (see
 * support/kibana-stub.ts); the engine side (where the saved-objects manifest lives) is the real
 * engine. Covers install into a space, a second run with nothing to do, an analyst's exception kept
 * across an upgrade of a rule, a schema violation reported with Kibana's message, and uninstall.
 */
import { applyPlan, ensureInstalled, planDeployment, planUninstall, type DeployContext } from '../../src/apply/deploy';
import { applyKibanaItem } from '../../src/apply/kibana-deploy';
import { getLiveTunables, kibanaAllowLists, pullFromKibana, setLiveTunable } from '../../src/apply/tune';
import { ClusterError, connect, kibanaClient, type ClusterClient, type KibanaClient } from '../../src/cluster';
import { computeLock, loadContent, loadDetectionContent, type DetectionContent } from '../../src/content';
import { PACKAGE_VERSION } from '../../src/package-info';
import { kibanaAssets } from '../../src/plan/desired';
import { startKibanaStub, type KibanaStub } from './support/kibana-stub';
import { testEngineLabel, testUrl } from './support/engine-env';

const content = loadContent();
const detection = loadDetectionContent(content.roots);

describe(`the deployer's Kibana calls against Kibana's published rule schema (engine: ${testEngineLabel()})`, () => {
  let stub: KibanaStub;
  let engine: ClusterClient;
  let kibana: KibanaClient;
  const ctx = (extra: Partial<DeployContext> = {}): DeployContext => ({ client: engine, kibana, content, detection, packageVersion: PACKAGE_VERSION, now: new Date().toISOString(), ...extra });
  const kibanaItems = (planned: Awaited<ReturnType<typeof planDeployment>>) => planned.plan.waves.flatMap((w) => w.items).filter((i) => i.target === 'kibana');

  beforeAll(async () => {
    stub = await startKibanaStub();
    engine = await connect({ url: testUrl() });
    kibana = kibanaClient({ url: testUrl(), kibanaUrl: stub.url, space: 'secops' });
  });
  afterAll(async () => {
    const clean = await planUninstall(ctx(), true);
    await applyPlan(ctx(), clean);
    // That purge removed the engine side too; the files after this one start from an installed
    // cluster, as global-setup left it.
    await ensureInstalled({ client: engine, content, packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
    await kibana.close();
    await engine.close();
    await stub.close();
  });

  it('installs exception lists, rules and saved objects into the space, every body accepted by the contract', async () => {
    const planned = await planDeployment(ctx());
    const items = kibanaItems(planned);
    expect(items.length).toBe(detection.exceptionLists.length + detection.rules.length + detection.savedObjects.length);
    expect(items.every((i) => i.action === 'create')).toBe(true);
    const report = await applyPlan(ctx(), planned);
    expect(report.results.filter((r) => r.status === 'failed')).toEqual([]);

    expect(stub.violations()).toEqual([]);
    expect(stub.requests.filter((r) => r.method !== 'GET').every((r) => r.rawPath.startsWith('/s/secops/api/'))).toBe(true);
    expect(stub.stored.rules.size).toBe(detection.rules.length);
    expect(stub.stored.savedObjects.size).toBe(detection.savedObjects.length);
    expect(stub.stored.lists.size).toBe(detection.exceptionLists.length);
    // Each rule names the exception lists it honours by the ids Kibana gave them in this run.
    const listIds = new Map([...stub.stored.lists.values()].map((l) => [l.list_id, l.id]));
    for (const rule of stub.stored.rules.values()) {
      for (const ref of rule.exceptions_list as Array<{ id: string; list_id: string }>) expect(ref.id).toBe(listIds.get(ref.list_id));
      expect(rule.meta).toMatchObject({ managed_by: 'cryptochannel', package_version: PACKAGE_VERSION });
    }
    const processes = [...stub.stored.items.values()].filter((i) => i.list_id === 'cryptochannel-allowed-crypto-processes');
    expect(processes.length).toBeGreaterThan(0);
  });

  it('has nothing to do on a second run', async () => {
    const planned = await planDeployment(ctx());
    expect(kibanaItems(planned).filter((i) => i.action !== 'noop')).toEqual([]);
    const writes = stub.requests.length;
    await applyPlan(ctx(), planned);
    expect(stub.requests.slice(writes).filter((r) => r.method !== 'GET' && !r.path.endsWith('_bulk_get'))).toEqual([]);
  });

  it("updates a changed rule with PUT and keeps the analyst's own exception", async () => {
    await kibana.request({
      method: 'POST',
      path: '/api/exception_lists/items',
      body: { list_id: 'cryptochannel-allowed-crypto-processes', item_id: 'analyst-added', type: 'simple', name: 'our backup agent', description: 'x', namespace_type: 'single', entries: [{ field: 'process.name', operator: 'included', type: 'match', value: 'backupd.exe' }] },
    });
    const changed = structuredClone(detection) as DetectionContent;
    const rule = changed.rules[0]!;
    rule.rule = { ...rule.rule, description: `${String(rule.rule.description)} (revised)` };
    changed.lock = computeLock(changed.rules, detection.lock);
    expect(changed.lock[rule.rule.rule_id]!.version).toBe(detection.lock[rule.rule.rule_id]!.version + 1);

    const planned = await planDeployment(ctx({ detection: changed }));
    const updates = kibanaItems(planned).filter((i) => i.action !== 'noop');
    expect(updates.map((u) => [u.kind, u.name, u.action])).toEqual([['rule', rule.rule.rule_id, 'update']]);
    const before = stub.requests.length;
    const report = await applyPlan(ctx({ detection: changed }), planned);
    expect(report.failed).toBe(0);
    const put = stub.requests.slice(before).find((r) => r.method === 'PUT' && r.path === '/api/detection_engine/rules');
    expect(put?.status).toBe(200);
    expect((stub.stored.rules.get(rule.rule.rule_id) as { version: number }).version).toBe(changed.lock[rule.rule.rule_id]!.version);
    expect(stub.stored.items.has('analyst-added')).toBe(true);
    expect(stub.violations()).toEqual([]);
  });

  it('takes the analysts\' Kibana edits into the live tunables (tune pull), and pushes a tune set back to Kibana', async () => {
    const pulled = await pullFromKibana(ctx());
    expect(pulled.changed.map((c) => c.key)).toEqual(['AllowedCryptoProcesses']);
    const live = await getLiveTunables(engine, content);
    expect(live.tunables.AllowedCryptoProcesses).toContain('backupd.exe');
    expect(live.tunables.AllowedCryptoProcesses).toEqual(expect.arrayContaining(content.tunables.AllowedCryptoProcesses));
    expect((await pullFromKibana(ctx())).changed).toEqual([]);
    // The correlator reads the same lists at each run's start, without writing (its role cannot).
    const lists = await kibanaAllowLists(kibana, detection, new Date());
    expect(lists.AllowedCryptoProcesses).toContain('backupd.exe');

    const set = await setLiveTunable(ctx(), 'TrustedDoHEndpoints', ['dns.google', 'doh.example.net'], 'test');
    expect(set.kibana).toEqual({ added: 1, removed: content.tunables.TrustedDoHEndpoints.length - 1 });
    const doh = [...stub.stored.items.values()].filter((i) => i.list_id === 'cryptochannel-trusted-doh-endpoints');
    expect(doh.map((i) => JSON.stringify(i.entries))).toEqual(expect.arrayContaining([expect.stringContaining('doh.example.net'), expect.stringContaining('dns.google')]));
    expect(doh).toHaveLength(2);
    expect(stub.stored.items.has('analyst-added')).toBe(true);
    expect(stub.violations()).toEqual([]);
  });

  it("reports a body Kibana's schema refuses with Kibana's own message", async () => {
    const planned = await planDeployment(ctx());
    const rule = kibanaAssets(detection, { packageVersion: PACKAGE_VERSION, tunables: content.tunables, exceptionListIds: planned.kibanaState!.listIds }).find((a) => a.kind === 'rule')!;
    const body = rule.body as { payload: Record<string, unknown>; exceptionLists: string[] };
    const broken = { kind: rule.kind, name: rule.name, target: rule.target, reason: 'test', action: 'update' as const, body: { ...body, payload: { ...body.payload, risk_score: 'high' } } };
    const attempt = applyKibanaItem(kibana, broken, planned.kibanaState!, PACKAGE_VERSION);
    await expect(attempt).rejects.toBeInstanceOf(ClusterError);
    await expect(attempt).rejects.toMatchObject({ status: 400, message: expect.stringContaining('/risk_score') });
    expect(stub.violations().length).toBe(1);
    stub.requests.splice(0);
  });

  it("uninstalls rules and saved objects, keeps the analysts' exception lists unless purged", async () => {
    const report = await applyPlan(ctx(), await planUninstall(ctx(), false));
    expect(report.results.filter((r) => r.status === 'failed')).toEqual([]);
    expect(stub.stored.rules.size).toBe(0);
    expect(stub.stored.savedObjects.size).toBe(0);
    expect(stub.stored.lists.size).toBe(detection.exceptionLists.length);
    const purge = await applyPlan(ctx(), await planUninstall(ctx(), true));
    expect(purge.failed).toBe(0);
    expect(stub.stored.lists.size).toBe(0);
    expect(stub.violations()).toEqual([]);
  });
});
