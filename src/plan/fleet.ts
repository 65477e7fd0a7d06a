/**
 * Living beside Fleet. An Elastic user may install cryptochannel as a Fleet package: Fleet then owns
 * the templates, pipelines, rules, saved objects and the ML module, and the CLI deployer must neither
 * call them conflicts nor install them a second time under its own names. What Fleet cannot install,
 * the runtime share (what the correlator needs), stays the deployer's: `apply --runtime-only`.
 * Pure: recognises what Fleet wrote from what the cluster shows, and sorts plan items into shares.
 */
import { dataset, lifecyclePolicyName, PRODUCT } from '../content';
import type { AssetKind } from './types';

/** The package name Fleet installs cryptochannel under. */
export const FLEET_PACKAGE = PRODUCT;

export const FLEET_REASON = `installed by Fleet (package ${FLEET_PACKAGE})`;

/**
 * Fleet stamps every Elasticsearch asset it installs with `_meta: {managed_by: 'fleet', managed: true,
 * package: {name}}` (and overwrites any `_meta` a package brings). Another package's asset is not
 * ours to skip: under one of our names it stays a conflict.
 */
export function isFleetMeta(meta: unknown): boolean {
  if (!meta || typeof meta !== 'object') return false;
  const m = meta as { managed_by?: unknown; package?: { name?: unknown } };
  return m.managed_by === 'fleet' && m.package?.name === FLEET_PACKAGE;
}

/**
 * A detection rule Kibana installed from a package's `security_rule` assets (the prebuilt-rules
 * path Fleet feeds): older Kibanas mark it `immutable`, newer ones `rule_source.type: 'external'`.
 * A rule created through the rules API (as the deployer does) is neither.
 */
export function isFleetRule(rule: { immutable?: unknown; rule_source?: unknown }): boolean {
  const source = rule.rule_source as { type?: unknown } | undefined;
  return rule.immutable === true || source?.type === 'external';
}

/** Saved objects Fleet installs from a package carry `managed: true`; imported ones do not. */
export function isFleetSavedObject(object: { managed?: unknown }): boolean {
  return object.managed === true;
}

/** The alerts stream the correlator writes: its templates and the lifecycle policy they name. */
const ALERTS_STREAM = `logs-${dataset('alerts')}`;
const RUNTIME_TEMPLATES = new Set([ALERTS_STREAM, `${ALERTS_STREAM}@package`]);
const RUNTIME_LIFECYCLE = new Set([lifecyclePolicyName('alerts')]);

/**
 * The runtime share: what the correlator needs and a Fleet package cannot install. The tunables and
 * the threat-intel index are documents, the alerts stream is written by the correlator rather than
 * by an integration's input, and exception lists are Kibana lists, not package assets. The state and
 * run-log indices are no plan items: the correlator creates them on first use.
 */
export function isRuntimeShare(kind: AssetKind, name: string): boolean {
  switch (kind) {
    case 'tunables':
    case 'threat_intel':
    case 'exception_list':
      return true;
    case 'component_template':
    case 'index_template':
      return RUNTIME_TEMPLATES.has(name);
    case 'lifecycle_policy':
      return RUNTIME_LIFECYCLE.has(name);
    default:
      return false;
  }
}

/**
 * Why an item outside the runtime share is not the deployer's on a cluster where Fleet installed
 * cryptochannel, even when Fleet's copy has another name (or none). Kinds Fleet really installs say
 * so; the others say what takes their place.
 */
const LEFT_TO_FLEET: Record<AssetKind, string> = {
  component_template: `${FLEET_REASON}: the package installs the source and dead-letter streams' templates`,
  index_template: `${FLEET_REASON}: the package installs the source and dead-letter streams' templates`,
  lifecycle_policy: `left to Fleet (package ${FLEET_PACKAGE}): only the CLI's own source and dead-letter templates name it, and Fleet's replace them`,
  stored_script: `${FLEET_REASON}: the package inlines the painless scripts`,
  custom_pipeline: `left to Fleet (package ${FLEET_PACKAGE}): Fleet calls the @custom pipeline only when it exists; create it yourself to add processors`,
  pipeline: `${FLEET_REASON}: the package installs each stream's pipelines (the shared ones copied into each stream)`,
  threat_intel: FLEET_REASON,
  tunables: FLEET_REASON,
  exception_list: FLEET_REASON,
  rule: `${FLEET_REASON}: the package ships the rules as security rules (install or update them in Kibana Security)`,
  saved_object: `${FLEET_REASON}: the package installs the dashboards, searches, data views and tags`,
  ml_job: `left to Fleet (package ${FLEET_PACKAGE}): the package ships an ML module; create the jobs from it in Kibana`,
  monitor: `left to Fleet (package ${FLEET_PACKAGE}): detection content is the package's`,
  detector: `left to Fleet (package ${FLEET_PACKAGE}): detection content is the package's`,
};

export function leftToFleetReason(kind: AssetKind): string {
  return LEFT_TO_FLEET[kind];
}

/** `--runtime-only`: everything else is someone else's to install (Fleet's, on Elasticsearch). */
export function runtimeOnlyReason(flavor: 'elasticsearch' | 'opensearch'): string {
  return flavor === 'elasticsearch' ? 'left to Fleet (--runtime-only)' : 'not part of the runtime share (--runtime-only)';
}

/** Uninstall leaves Fleet's assets alone: removing them is Fleet's job. */
export const FLEET_UNINSTALL_REASON = `${FLEET_REASON}: kept; uninstall the integration in Fleet (Kibana → Integrations) to remove it`;
