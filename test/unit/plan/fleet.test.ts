/**
 * The planner beside Fleet, pure: assets Fleet installed are never conflicts and never overwritten,
 * a Fleet install leaves Fleet's whole share alone whatever its names, and --runtime-only plans only
 * what the correlator needs. The classification is checked against the real rendered content too.
 */
import { lifecyclePolicyName, loadContent, loadDetectionContent, sha256 } from '../../../src/content';
import { offlineAssets } from '../../../src/plan/desired';
import { FLEET_REASON, FLEET_UNINSTALL_REASON, isFleetMeta, isFleetRule, isFleetSavedObject, isRuntimeShare } from '../../../src/plan/fleet';
import { makePlan, makeUninstallPlan } from '../../../src/plan/plan';
import type { DesiredAsset, ObservedAsset, PlanItem } from '../../../src/plan/types';

/** Exactly what Fleet writes into `_meta` of everything it installs (its getESAssetMetadata). */
const FLEET_META = { managed_by: 'fleet', managed: true, package: { name: 'cryptochannel' } };
const meta = (package_version: string, content_sha256: string) => ({ managed_by: 'cryptochannel' as const, package_version, content_sha256 });
const want = (kind: DesiredAsset['kind'], name: string, extra: Partial<DesiredAsset> = {}): DesiredAsset => ({ kind, name, target: 'engine', body: { name }, sha256: sha256({ name }), ...extra });
const have = (kind: ObservedAsset['kind'], name: string, extra: Partial<ObservedAsset> = {}): ObservedAsset => ({ kind, name, target: 'engine', ...extra });
const fleet = (kind: ObservedAsset['kind'], name: string): ObservedAsset => ({ kind, name, target: 'engine', fleet: true });
const es = { flavor: 'elasticsearch' as const, packageVersion: '2.0.0' };
const all = (plan: { waves: Array<{ items: PlanItem[] }> }) => plan.waves.flatMap((w) => w.items);
const byName = (plan: { waves: Array<{ items: PlanItem[] }> }) => new Map(all(plan).map((i) => [i.name, i]));

describe('recognising what Fleet installed', () => {
  it("takes Fleet's stamp for the cryptochannel package only", () => {
    expect(isFleetMeta(FLEET_META)).toBe(true);
    expect(isFleetMeta({ ...FLEET_META, package: { name: 'system' } })).toBe(false);
    expect(isFleetMeta({ managed_by: 'fleet', managed: true })).toBe(false);
    expect(isFleetMeta(meta('2.0.0', 'x'))).toBe(false);
    expect(isFleetMeta(undefined)).toBe(false);
    expect(isFleetMeta('fleet')).toBe(false);
  });

  it('knows prebuilt rules and managed saved objects from the ones an API call created', () => {
    expect(isFleetRule({ immutable: true })).toBe(true);
    expect(isFleetRule({ immutable: false, rule_source: { type: 'external', is_customized: true } })).toBe(true);
    expect(isFleetRule({ immutable: false, rule_source: { type: 'internal' } })).toBe(false);
    expect(isFleetRule({})).toBe(false);
    expect(isFleetSavedObject({ managed: true })).toBe(true);
    expect(isFleetSavedObject({ managed: false })).toBe(false);
    expect(isFleetSavedObject({})).toBe(false);
  });
});

describe('makePlan beside Fleet', () => {
  it("skips an asset Fleet installed under our name: no conflict, not even with --force, not overwritten", () => {
    for (const force of [false, true]) {
      const plan = makePlan([want('index_template', 'logs-cryptochannel.zeek')], [fleet('index_template', 'logs-cryptochannel.zeek')], { ...es, force });
      expect(all(plan)).toEqual([expect.objectContaining({ action: 'skip', reason: FLEET_REASON })]);
      expect(plan.summary.conflict).toBe(0);
      expect(plan.fleet).toBe(true);
    }
  });

  it("leaves Fleet's whole share to it once any Fleet asset is seen, whatever the names; plans the runtime share as usual", () => {
    const desired = [
      want('component_template', 'logs-cryptochannel.zeek@package'),
      want('component_template', 'logs-cryptochannel.alerts@package'),
      want('lifecycle_policy', 'logs-cryptochannel-events'),
      want('lifecycle_policy', 'logs-cryptochannel-alerts'),
      want('index_template', 'logs-cryptochannel.zeek'),
      want('index_template', 'logs-cryptochannel.deadletter'),
      want('index_template', 'logs-cryptochannel.alerts'),
      want('stored_script', 'cryptochannel-2.0.0-entropy'),
      want('custom_pipeline', 'logs-cryptochannel.zeek@custom', { userOwned: true }),
      want('pipeline', 'logs-cryptochannel-2.0.0-tls'),
      want('pipeline', 'logs-cryptochannel.zeek-2.0.0'),
      want('threat_intel', 'cryptochannel-threatintel'),
      want('tunables', 'cryptochannel-tunables', { userOwned: true, body: { tunables: { A: 1 }, revision: 1, package_version: '2.0.0', updated_at: 't', updated_by: 'u' } }),
      { ...want('exception_list', 'cryptochannel-exceptions', { userOwned: true }), target: 'kibana' as const },
      { ...want('rule', 'rule-1'), target: 'kibana' as const },
      { ...want('saved_object', 'dashboard/cryptochannel-overview'), target: 'kibana' as const },
      want('ml_job', 'cryptochannel-rare-ja3'),
    ];
    // Fleet named its pipeline after the package's own version: the names differ from ours.
    const observed = [fleet('index_template', 'logs-cryptochannel.zeek'), fleet('pipeline', 'logs-cryptochannel.zeek-1.9.0'), have('tunables', 'cryptochannel-tunables', { body: { tunables: { A: 5 }, revision: 2, package_version: '1.9.0', updated_at: 't', updated_by: 'me' } })];
    const plan = makePlan(desired, observed, es);
    const items = byName(plan);
    expect(plan.summary.conflict).toBe(0);
    expect(items.get('logs-cryptochannel.zeek')).toMatchObject({ action: 'skip', reason: FLEET_REASON });
    for (const name of ['logs-cryptochannel.zeek@package', 'logs-cryptochannel.deadletter', 'logs-cryptochannel-2.0.0-tls', 'logs-cryptochannel.zeek-2.0.0', 'cryptochannel-2.0.0-entropy', 'rule-1', 'dashboard/cryptochannel-overview']) {
      expect(items.get(name)).toMatchObject({ action: 'skip', reason: expect.stringMatching(/^installed by Fleet \(package cryptochannel\): /) });
    }
    for (const name of ['logs-cryptochannel.zeek@custom', 'cryptochannel-rare-ja3', 'logs-cryptochannel-events']) {
      expect(items.get(name)).toMatchObject({ action: 'skip', reason: expect.stringMatching(/^left to Fleet \(package cryptochannel\): /) });
    }
    for (const name of ['logs-cryptochannel.alerts@package', 'logs-cryptochannel.alerts', 'logs-cryptochannel-alerts', 'cryptochannel-threatintel', 'cryptochannel-exceptions']) {
      expect(items.get(name)).toMatchObject({ action: 'create' });
    }
    // The live tunables stay the user's beside Fleet too.
    expect(items.get('cryptochannel-tunables')).toMatchObject({ action: 'noop' });
    expect(plan.summary).toMatchObject({ create: 5, update: 0, delete: 0, noop: 1, skip: 11 });
  });

  it('ignores another package that Fleet installed under one of our names: a conflict, as any foreign asset', () => {
    // The observer marks only the cryptochannel package's assets; anything else arrives unmarked.
    const plan = makePlan([want('index_template', 'logs-cryptochannel.zeek')], [have('index_template', 'logs-cryptochannel.zeek')], es);
    expect(plan.summary.conflict).toBe(1);
    expect(plan.fleet).toBeUndefined();
  });

  it('retires our own earlier versions beside Fleet, never a pipeline Fleet installed', () => {
    const plan = makePlan(
      [want('pipeline', 'logs-cryptochannel.zeek-2.0.0')],
      [have('pipeline', 'logs-cryptochannel.zeek-1.0.0', { meta: meta('1.0.0', 'x') }), fleet('pipeline', 'logs-cryptochannel.zeek-1.5.0')],
      es,
    );
    expect(all(plan).filter((i) => i.action === 'delete').map((i) => i.name)).toEqual(['logs-cryptochannel.zeek-1.0.0']);
  });
});

describe('makePlan --runtime-only', () => {
  const desired = [
    want('component_template', 'logs-cryptochannel.zeek@package'),
    want('component_template', 'logs-cryptochannel.alerts@package'),
    want('lifecycle_policy', 'logs-cryptochannel-events'),
    want('lifecycle_policy', 'logs-cryptochannel-alerts'),
    want('index_template', 'logs-cryptochannel.alerts'),
    want('pipeline', 'logs-cryptochannel.zeek-2.0.0'),
    want('threat_intel', 'cryptochannel-threatintel'),
    want('tunables', 'cryptochannel-tunables', { userOwned: true }),
    want('monitor', 'cryptochannel: rare ja3'),
  ];

  it.each([
    ['elasticsearch', 'left to Fleet (--runtime-only)'],
    ['opensearch', 'not part of the runtime share (--runtime-only)'],
  ] as const)('on %s plans only the runtime share and says why the rest is skipped', (flavor, reason) => {
    const plan = makePlan(desired, [], { flavor, packageVersion: '2.0.0', runtimeOnly: true });
    expect(plan.runtimeOnly).toBe(true);
    const items = byName(plan);
    expect(all(plan).filter((i) => i.action === 'create').map((i) => i.name)).toEqual([
      'logs-cryptochannel.alerts@package',
      'logs-cryptochannel-alerts',
      'logs-cryptochannel.alerts',
      'cryptochannel-threatintel',
      'cryptochannel-tunables',
    ]);
    for (const name of ['logs-cryptochannel.zeek@package', 'logs-cryptochannel-events', 'logs-cryptochannel.zeek-2.0.0', 'cryptochannel: rare ja3']) expect(items.get(name)).toMatchObject({ action: 'skip', reason });
  });

  it("deletes nothing of an earlier version's pipelines: they are not the runtime share", () => {
    const plan = makePlan([want('pipeline', 'p-2.0.0')], [have('pipeline', 'p-1.0.0', { meta: meta('1.0.0', 'y') })], { ...es, runtimeOnly: true });
    expect(plan.summary.delete).toBe(0);
    expect(all(plan).find((i) => i.name === 'p-1.0.0')).toMatchObject({ action: 'skip', reason: expect.stringContaining('--runtime-only') });
  });

  it('still refuses a foreign asset in the runtime share', () => {
    const plan = makePlan([want('index_template', 'logs-cryptochannel.alerts')], [have('index_template', 'logs-cryptochannel.alerts')], { ...es, runtimeOnly: true });
    expect(plan.summary.conflict).toBe(1);
  });
});

describe('makeUninstallPlan beside Fleet', () => {
  it("lists Fleet's assets as kept with why, deletes only ours, and never purges a Fleet asset", () => {
    const observed = [have('pipeline', 'logs-cryptochannel-1.0.0-tls', { meta: meta('1.0.0', 'a') }), fleet('index_template', 'logs-cryptochannel.zeek'), { ...fleet('rule', 'rule-1'), target: 'kibana' as const }, have('pipeline', 'foreign')];
    const userOwned = [fleet('custom_pipeline', 'logs-cryptochannel.zeek@custom'), have('tunables', 'cryptochannel-tunables')];
    const plan = makeUninstallPlan(observed, userOwned, { ...es, purge: true });
    const items = byName(plan);
    expect(all(plan).filter((i) => i.action === 'delete').map((i) => i.name).sort()).toEqual(['cryptochannel-tunables', 'logs-cryptochannel-1.0.0-tls']);
    expect(items.get('logs-cryptochannel.zeek')).toMatchObject({ action: 'skip', reason: FLEET_UNINSTALL_REASON });
    expect(items.get('rule-1')).toMatchObject({ action: 'skip', reason: FLEET_UNINSTALL_REASON });
    expect(items.has('logs-cryptochannel.zeek@custom')).toBe(false);
    expect(items.has('foreign')).toBe(false);
    expect(FLEET_UNINSTALL_REASON).toContain('Fleet');
  });
});

describe('the runtime share of the real content', () => {
  const content = loadContent();
  const detection = loadDetectionContent(content.roots);

  it.each(['elasticsearch', 'opensearch'] as const)('on %s is the tunables, the threat intel, the alerts stream with its lifecycle policy, and the exception lists', (flavor) => {
    const desired = offlineAssets(content, detection, { flavor, packageVersion: '9.9.9', now: '2026-12-01T00:00:00Z' });
    const runtime = desired.filter((d) => isRuntimeShare(d.kind, d.name));
    const kinds = [...new Set(runtime.map((d) => d.kind))].sort();
    expect(kinds).toEqual(flavor === 'elasticsearch' ? ['component_template', 'exception_list', 'index_template', 'lifecycle_policy', 'threat_intel', 'tunables'] : ['component_template', 'index_template', 'lifecycle_policy', 'threat_intel', 'tunables']);
    expect(runtime.filter((d) => d.kind === 'exception_list').length).toBe(flavor === 'elasticsearch' ? detection.exceptionLists.length : 0);

    // The runtime templates name only runtime component templates, no pipeline, and only a runtime lifecycle policy.
    const template = runtime.find((d) => d.kind === 'index_template')!;
    const body = template.body as { composed_of?: string[]; index_patterns: string[]; template?: { settings?: { index?: { default_pipeline?: string; lifecycle?: { name?: string } } } } };
    for (const c of body.composed_of ?? []) expect(isRuntimeShare('component_template', c)).toBe(true);
    expect(body.template?.settings?.index?.default_pipeline).toBeUndefined();
    const policy = runtime.find((d) => d.kind === 'lifecycle_policy')!;
    expect(policy.name).toBe(lifecyclePolicyName('alerts'));
    if (flavor === 'elasticsearch') {
      expect(body.template?.settings?.index?.lifecycle?.name).toBe(policy.name);
    } else {
      // ISM policies attach themselves to the backing indices their ism_template names.
      const patterns = (policy.body as { policy: { ism_template: Array<{ index_patterns: string[] }> } }).policy.ism_template.flatMap((t) => t.index_patterns);
      expect(patterns).toEqual(body.index_patterns.map((p) => `.ds-${p}`));
    }
    // Everything else is Fleet's (or, on OpenSearch, installed by a full apply).
    expect(desired.filter((d) => d.kind === 'pipeline' || d.kind === 'stored_script' || d.kind === 'rule' || d.kind === 'monitor').some((d) => isRuntimeShare(d.kind, d.name))).toBe(false);
  });
});
