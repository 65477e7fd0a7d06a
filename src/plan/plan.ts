/**
 * Planning: desired assets × observed state → ordered waves of decisions. Pure: the same inputs give
 * the same plan, so `plan` shows exactly what `apply` will do and tests need no cluster.
 */
import { FLEET_REASON, FLEET_UNINSTALL_REASON, isRuntimeShare, leftToFleetReason, runtimeOnlyReason } from './fleet';
import { mergeTunables } from './tunables-merge';
import { WAVES, type Action, type AssetKind, type DesiredAsset, type ObservedAsset, type Plan, type PlanItem, type PlanWave } from './types';

export interface PlanOptions {
  flavor: 'elasticsearch' | 'opensearch';
  packageVersion: string;
  /** Take over assets that exist but are not ours. */
  force?: boolean;
  /** Kinds this cluster cannot take (no Kibana configured, no ML, no alerting plugin), with why. */
  unsupported?: Partial<Record<AssetKind, string>>;
  /** Plan only the runtime share (src/plan/fleet.ts); the rest is someone else's to install. */
  runtimeOnly?: boolean;
}

const key = (kind: string, name: string) => `${kind}\u0000${name}`;

/**
 * Golden and corpus test runs install under their own prefixed names with the package version
 * `test`, and remove them themselves: neither an upgrade's cleanup nor uninstall may touch them
 * while such a run is in flight.
 */
export const TEST_PACKAGE_VERSION = 'test';
/** Installed by cryptochannel's deployer: our stamp, not a test run's, and not an asset Fleet took over. */
export const managedHere = (o: ObservedAsset): boolean => !o.fleet && o.meta?.managed_by === 'cryptochannel' && o.meta.package_version !== TEST_PACKAGE_VERSION;

/** Kinds whose installed names carry the package version: an upgrade leaves the old ones behind. */
const VERSIONED: readonly AssetKind[] = ['pipeline', 'stored_script'];

function decide(want: DesiredAsset, have: ObservedAsset | undefined, options: PlanOptions, fleetInstalled: boolean): PlanItem {
  const base = { kind: want.kind, name: want.name, target: want.target };
  // Fleet's own asset under our name: never a conflict, never overwritten (not even with --force).
  if (have?.fleet) return { ...base, action: 'skip', reason: FLEET_REASON };
  const runtime = isRuntimeShare(want.kind, want.name);
  // Fleet's copy may carry another name (its version, or inlined into its pipelines): installing ours
  // beside it would install cryptochannel twice.
  if (!runtime && fleetInstalled) return { ...base, action: 'skip', reason: leftToFleetReason(want.kind) };
  if (!runtime && options.runtimeOnly) return { ...base, action: 'skip', reason: runtimeOnlyReason(options.flavor) };
  const unsupported = options.unsupported?.[want.kind];
  if (unsupported) return { ...base, action: 'skip', reason: unsupported };
  if (!have) return { ...base, action: 'create', reason: 'missing', body: want.body, sha256: want.sha256 };

  if (want.userOwned) {
    if (want.kind === 'tunables') {
      const merged = mergeTunables(have.body, want.body);
      if (merged.added.length === 0) return { ...base, action: 'noop', reason: 'the live tunables are yours: kept as they are' };
      return { ...base, action: 'update', reason: `adds new tunables ${merged.added.join(', ')}; keeps your values`, body: merged.document };
    }
    return { ...base, action: 'noop', reason: 'yours once created: never overwritten' };
  }

  const ours = have.meta?.managed_by === 'cryptochannel' || have.sha256 !== undefined;
  if (!ours) {
    if (options.force) return { ...base, action: 'update', reason: 'exists and is not ours: taken over (--force)', body: want.body, sha256: want.sha256 };
    return { ...base, action: 'conflict', reason: 'exists and is not managed by cryptochannel (use --force to take it over)' };
  }
  const installed = have.meta?.content_sha256 ?? have.sha256;
  if (installed === want.sha256) return { ...base, action: 'noop', reason: 'up to date' };
  const from = have.meta?.package_version ? ` (installed by ${have.meta.package_version})` : '';
  // An ML job's detectors cannot change in place: it is recreated, and what it learnt is lost.
  const consequence = want.kind === 'ml_job' ? '; the job is recreated and its model starts over' : '';
  return { ...base, action: 'update', reason: `content changed${from}${consequence}`, body: want.body, sha256: want.sha256 };
}

function summarise(waves: PlanWave[]): Record<Action, number> {
  const summary: Record<Action, number> = { create: 0, update: 0, noop: 0, conflict: 0, delete: 0, skip: 0 };
  for (const wave of waves) for (const item of wave.items) summary[item.action] += 1;
  return summary;
}

export function makePlan(desired: DesiredAsset[], observed: ObservedAsset[], options: PlanOptions): Plan {
  const seen = new Map(observed.map((o) => [key(o.kind, o.name), o]));
  const wanted = new Set(desired.map((d) => key(d.kind, d.name)));
  const fleetInstalled = observed.some((o) => o.fleet);
  const waves: PlanWave[] = [];
  for (const wave of WAVES) {
    const items = desired.filter((d) => d.kind === wave).map((d) => decide(d, seen.get(key(d.kind, d.name)), options, fleetInstalled));
    if (items.length) waves.push({ wave, items });
  }
  // What an earlier version installed under its own versioned names, once nothing uses it: pipelines
  // before the scripts they call. Only ours, and only after every wave above has switched over.
  const cleanup: PlanItem[] = [];
  for (const kind of VERSIONED) {
    for (const o of observed) {
      if (o.kind !== kind || wanted.has(key(o.kind, o.name))) continue;
      if (!managedHere(o) || o.meta!.package_version === options.packageVersion) continue;
      const reason = `left by ${o.meta!.package_version}, superseded by ${options.packageVersion}`;
      // Pipelines and scripts are not the runtime share: --runtime-only leaves even old ones alone.
      cleanup.push(
        options.runtimeOnly
          ? { kind, name: o.name, target: o.target, action: 'skip', reason: `${reason}: ${runtimeOnlyReason(options.flavor)}` }
          : { kind, name: o.name, target: o.target, action: 'delete', reason },
      );
    }
  }
  if (cleanup.length) waves.push({ wave: 'cleanup', items: cleanup });
  return {
    flavor: options.flavor,
    packageVersion: options.packageVersion,
    waves,
    summary: summarise(waves),
    ...(fleetInstalled ? { fleet: true as const } : {}),
    ...(options.runtimeOnly ? { runtimeOnly: true as const } : {}),
  };
}

export interface UninstallOptions {
  flavor: 'elasticsearch' | 'opensearch';
  packageVersion: string;
  /** Also remove what became the user's: the live tunables and the @custom pipelines. */
  purge?: boolean;
  /**
   * Index template → the data streams created from it. The engine refuses to delete a template a
   * data stream uses (the stream's data stays, so its mappings must too); such templates and the
   * component templates they are composed of are kept, with the streams named.
   */
  templatesInUse?: Record<string, string[]>;
  /** Index template → its component templates (for keeping those of a template in use). */
  composedOf?: Record<string, string[]>;
}

/**
 * Removes only what carries our stamp, in reverse install order (pipelines before the scripts they
 * call, index templates before their component templates). Data streams and their data stay.
 * `observed` may hold anything the cluster showed: assets Fleet installed are listed as skipped
 * (removing them is Fleet's job), everything else that is not ours is left out.
 */
export function makeUninstallPlan(observed: ObservedAsset[], userOwned: ObservedAsset[], options: UninstallOptions): Plan {
  const inUse = options.templatesInUse ?? {};
  const keptComponents = new Map<string, string>();
  for (const [template, streams] of Object.entries(inUse)) {
    if (streams.length) for (const c of options.composedOf?.[template] ?? []) keptComponents.set(c, template);
  }
  const keep = (o: ObservedAsset): string | undefined => {
    if (o.kind === 'index_template' && inUse[o.name]?.length) return `kept: data streams ${inUse[o.name]!.join(', ')} use it (their data stays; delete them first to remove it)`;
    if (o.kind === 'component_template' && keptComponents.has(o.name)) return `kept: index template ${keptComponents.get(o.name)!} is composed of it and is still in use`;
    return undefined;
  };
  const waves: PlanWave[] = [];
  for (const wave of [...WAVES].reverse()) {
    const items: PlanItem[] = observed
      .filter((o) => o.kind === wave && (managedHere(o) || o.fleet))
      .map((o) => {
        if (o.fleet) return { kind: o.kind, name: o.name, target: o.target, action: 'skip' as const, reason: FLEET_UNINSTALL_REASON };
        const kept = keep(o);
        return kept
          ? { kind: o.kind, name: o.name, target: o.target, action: 'noop' as const, reason: kept }
          : { kind: o.kind, name: o.name, target: o.target, action: 'delete' as const, reason: `installed by cryptochannel ${o.meta!.package_version}` };
      });
    for (const o of userOwned.filter((u) => u.kind === wave && !u.fleet)) {
      items.push(
        options.purge
          ? { kind: o.kind, name: o.name, target: o.target, action: 'delete', reason: 'yours, removed because of --purge' }
          : { kind: o.kind, name: o.name, target: o.target, action: 'noop', reason: 'yours: kept (use --purge to remove it)' },
      );
    }
    if (items.length) waves.push({ wave, items });
  }
  return { flavor: options.flavor, packageVersion: options.packageVersion, waves, summary: summarise(waves) };
}
