import { makePlan, makeUninstallPlan, TEST_PACKAGE_VERSION } from '../../../src/plan/plan';
import { mergeTunables } from '../../../src/plan/tunables-merge';
import { getTunable, parseTunableValue, setTunable } from '../../../src/plan/tunables-edit';
import type { DesiredAsset, ObservedAsset } from '../../../src/plan/types';

const meta = (package_version: string, content_sha256: string) => ({ managed_by: 'cryptochannel' as const, package_version, content_sha256 });
const want = (kind: DesiredAsset['kind'], name: string, sha: string, extra: Partial<DesiredAsset> = {}): DesiredAsset => ({ kind, name, target: 'engine', body: { name }, sha256: sha, ...extra });
const have = (kind: ObservedAsset['kind'], name: string, extra: Partial<ObservedAsset> = {}): ObservedAsset => ({ kind, name, target: 'engine', ...extra });
const options = { flavor: 'opensearch' as const, packageVersion: '2.0.0' };
const items = (plan: ReturnType<typeof makePlan>) => plan.waves.flatMap((w) => w.items.map((i) => ({ wave: w.wave, name: i.name, action: i.action })));

describe('makePlan', () => {
  it('creates what is missing, in wave order whatever order the content came in', () => {
    const plan = makePlan([want('pipeline', 'p', 'a'), want('index_template', 'it', 'b'), want('stored_script', 's', 'c'), want('component_template', 'ct', 'd')], [], options);
    expect(items(plan)).toEqual([
      { wave: 'component_template', name: 'ct', action: 'create' },
      { wave: 'index_template', name: 'it', action: 'create' },
      { wave: 'stored_script', name: 's', action: 'create' },
      { wave: 'pipeline', name: 'p', action: 'create' },
    ]);
    expect(plan.summary.create).toBe(4);
  });

  it('leaves what is ours and unchanged, updates what is ours and changed', () => {
    const plan = makePlan(
      [want('component_template', 'same', 'h1'), want('component_template', 'changed', 'h2')],
      [have('component_template', 'same', { meta: meta('1.0.0', 'h1') }), have('component_template', 'changed', { meta: meta('1.0.0', 'old') })],
      options,
    );
    expect(items(plan).map((i) => i.action)).toEqual(['noop', 'update']);
    expect(plan.waves[0]!.items[1]!.reason).toContain('installed by 1.0.0');
  });

  it('compares stored scripts by the hash of their source', () => {
    const plan = makePlan([want('stored_script', 's', 'h')], [have('stored_script', 's', { sha256: 'h', meta: meta('2.0.0', 'h') })], options);
    expect(plan.summary.noop).toBe(1);
  });

  it("refuses an asset that is not ours unless forced", () => {
    const observed = [have('pipeline', 'p')];
    expect(makePlan([want('pipeline', 'p', 'h')], observed, options).summary.conflict).toBe(1);
    const forced = makePlan([want('pipeline', 'p', 'h')], observed, { ...options, force: true });
    expect(forced.summary.conflict).toBe(0);
    expect(forced.waves[0]!.items[0]!.action).toBe('update');
  });

  it("never overwrites the user's: @custom pipelines are kept, live tunables only gain new keys", () => {
    const tunablesDoc = (tunables: Record<string, unknown>) => ({ tunables, revision: 3, package_version: '1.0.0', updated_at: 't', updated_by: 'u' });
    const plan = makePlan(
      [
        want('custom_pipeline', 'c@custom', 'x', { userOwned: true }),
        want('tunables', 'tun', 'y', { userOwned: true, body: { ...tunablesDoc({ A: 1, B: 2, New: 3 }), package_version: '2.0.0' } }),
      ],
      [have('custom_pipeline', 'c@custom'), have('tunables', 'tun', { body: tunablesDoc({ A: 10, B: 20 }) })],
      options,
    );
    const [custom, tunables] = plan.waves.flatMap((w) => w.items);
    expect(custom!.action).toBe('noop');
    expect(tunables!.action).toBe('update');
    expect(tunables!.reason).toContain('New');
    expect((tunables!.body as { tunables: unknown }).tunables).toEqual({ A: 10, B: 20, New: 3 });
  });

  it('skips kinds the cluster cannot take, with the reason', () => {
    const plan = makePlan([want('lifecycle_policy', 'l', 'h')], [], { ...options, unsupported: { lifecycle_policy: 'no ISM' } });
    expect(plan.waves[0]!.items[0]).toMatchObject({ action: 'skip', reason: 'no ISM' });
  });

  it("retires an earlier version's pipelines and scripts after everything else, pipelines first; never a test run's or a foreign one", () => {
    const plan = makePlan(
      [want('pipeline', 'p-2.0.0', 'h')],
      [
        have('stored_script', 's-1.0.0', { sha256: 'x', meta: meta('1.0.0', 'x') }),
        have('pipeline', 'p-1.0.0', { meta: meta('1.0.0', 'y') }),
        have('pipeline', 'p-test', { meta: meta(TEST_PACKAGE_VERSION, 'z') }),
        have('pipeline', 'foreign'),
      ],
      options,
    );
    expect(items(plan)).toEqual([
      { wave: 'pipeline', name: 'p-2.0.0', action: 'create' },
      { wave: 'cleanup', name: 'p-1.0.0', action: 'delete' },
      { wave: 'cleanup', name: 's-1.0.0', action: 'delete' },
    ]);
  });
});

describe('makeUninstallPlan', () => {
  it("removes ours in reverse wave order and keeps the user's unless purged", () => {
    const ours = [have('component_template', 'ct', { meta: meta('1.0.0', 'a') }), have('pipeline', 'p', { meta: meta('1.0.0', 'b') }), have('pipeline', 't', { meta: meta(TEST_PACKAGE_VERSION, 'c') })];
    const mine = [have('tunables', 'tun'), have('custom_pipeline', 'c@custom')];
    const plan = makeUninstallPlan(ours, mine, options);
    expect(items(plan)).toEqual([
      { wave: 'tunables', name: 'tun', action: 'noop' },
      { wave: 'pipeline', name: 'p', action: 'delete' },
      { wave: 'custom_pipeline', name: 'c@custom', action: 'noop' },
      { wave: 'component_template', name: 'ct', action: 'delete' },
    ]);
    const purged = makeUninstallPlan(ours, mine, { ...options, purge: true });
    expect(purged.summary.delete).toBe(4);
  });
});

describe('tunables editing', () => {
  it('reads values as YAML and reaches into object tunables', () => {
    expect(parseTunableValue('7.5')).toBe(7.5);
    expect(parseTunableValue('[a.example, b.example]')).toEqual(['a.example', 'b.example']);
    const t = setTunable({ CertValidationPolicy: { min_rsa_key_bits: 2048, allow_self_signed: false } }, 'CertValidationPolicy.min_rsa_key_bits', 3072);
    expect(getTunable(t, 'CertValidationPolicy')).toEqual({ min_rsa_key_bits: 3072, allow_self_signed: false });
    expect(() => setTunable({ ScoreThreshold: 60 }, 'ScoreThreshold.x', 1)).toThrow('not an object tunable');
  });

  it('merging adds only what is new and bumps the revision', () => {
    const live = { tunables: { A: 1 }, revision: 4, package_version: '1', updated_at: 't', updated_by: 'someone' };
    expect(mergeTunables(live, { ...live, tunables: { A: 99 } })).toEqual({ document: live, added: [] });
    const merged = mergeTunables(live, { ...live, tunables: { A: 99, B: 2 }, package_version: '2' });
    expect(merged.added).toEqual(['B']);
    expect(merged.document).toMatchObject({ tunables: { A: 1, B: 2 }, revision: 5, package_version: '2' });
  });
});
