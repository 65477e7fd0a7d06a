/**
 * The deployer's vocabulary. A plan is plain data: what the content wants (desired assets), what the
 * cluster holds (observed assets), and the decision for each, in the order apply must follow.
 */
import type { ManagedMeta } from '../content';

/** Install order. An index template may name only existing component templates; a pipeline may
 * call only existing stored scripts (OpenSearch compiles them when the pipeline is PUT); rules
 * reference exception lists; data views come before the dashboards that use them. */
export const WAVES = [
  'component_template',
  'lifecycle_policy',
  'index_template',
  'stored_script',
  'custom_pipeline',
  'pipeline',
  'threat_intel',
  'tunables',
  'exception_list',
  'rule',
  'saved_object',
  'ml_job',
  'monitor',
  'detector',
] as const;
export type AssetKind = (typeof WAVES)[number];

/** Where an asset lives: the search engine, or Kibana (Elastic flavour only). */
export type AssetTarget = 'engine' | 'kibana';

export interface DesiredAsset {
  kind: AssetKind;
  /** The installed name or id. */
  name: string;
  target: AssetTarget;
  /** What apply sends (for tunables and threat-intel: the documents). */
  body: unknown;
  /** The hash ownership and change detection compare: sha256 of the rendered body without markers. */
  sha256: string;
  /** Assets the user owns once created (tunables, @custom pipelines): created if missing, never overwritten. */
  userOwned?: boolean;
}

export interface ObservedAsset {
  kind: AssetKind;
  name: string;
  target: AssetTarget;
  /** The stamp read back; undefined when the asset carries none (then it is not ours). */
  meta?: ManagedMeta;
  /** For assets that cannot carry a stamp (stored scripts): the hash of what is installed. */
  sha256?: string;
  /** Anything the planner needs to merge (the live tunables document). */
  body?: unknown;
  /** Fleet installed it (package cryptochannel): never ours, never a conflict, never touched. */
  fleet?: true;
}

export type Action = 'create' | 'update' | 'noop' | 'conflict' | 'delete' | 'skip';

export interface PlanItem {
  kind: AssetKind;
  name: string;
  target: AssetTarget;
  action: Action;
  reason: string;
  /** What apply sends for create/update. */
  body?: unknown;
  /** The desired content hash, for assets whose stamp apply must record itself (saved objects). */
  sha256?: string;
}

export interface PlanWave {
  wave: AssetKind | 'cleanup';
  items: PlanItem[];
}

export interface Plan {
  flavor: 'elasticsearch' | 'opensearch';
  packageVersion: string;
  waves: PlanWave[];
  summary: Record<Action, number>;
  /** The cluster shows a Fleet install of cryptochannel: its share of the plan is left to Fleet. */
  fleet?: true;
  /** Planned with --runtime-only: only the runtime share. */
  runtimeOnly?: true;
}
