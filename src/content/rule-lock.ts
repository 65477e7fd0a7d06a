/**
 * detection-rules/version.lock.json: rule_id → {rule_name, sha256, version}. Kibana keeps a rule's
 * `version` as the version of its content; we derive it from the content itself. The hash covers
 * the rule payload as written (tunable placeholders unrendered), without the keys the renderer adds
 * (`version`, `exceptions_list`, `meta`): a change to what the rule does bumps the version, while
 * tuning a value or re-creating the exception lists in another space does not.
 *
 * `computeLock` is what `npm run lock:update` (scripts/update-lock.cjs) writes; `lockProblems` is
 * what the content test and `renderRule` refuse to go on with.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ContentError } from './files';
import { sha256 } from './hash';
import type { RuleContent } from './rules';

export interface RuleLockEntry {
  rule_name: string;
  sha256: string;
  version: number;
}

export type RuleLock = Record<string, RuleLockEntry>;

/** The command that rewrites the lock; every stale-lock message names it. */
export const LOCK_UPDATE_COMMAND = 'npm run lock:update';

export const LOCK_FILE = 'version.lock.json';

/** The content hash of a rule: its payload as written, which holds none of the rendered keys. */
export function ruleContentHash(rule: Pick<RuleContent, 'rule'>): string {
  return sha256(rule.rule);
}

/**
 * The lock for `rules`: an unchanged rule keeps its entry, a changed one gets version + 1, a new
 * one version 1; rules no longer in the content drop out. Entries are ordered by rule_id so the file
 * diffs cleanly.
 */
export function computeLock(rules: Array<Pick<RuleContent, 'rule'>>, previous: RuleLock = {}): RuleLock {
  const next: RuleLock = {};
  for (const { rule } of [...rules].sort((a, b) => a.rule.rule_id.localeCompare(b.rule.rule_id))) {
    const hash = ruleContentHash({ rule });
    const before = previous[rule.rule_id];
    const version = !before ? 1 : before.sha256 === hash ? before.version : before.version + 1;
    next[rule.rule_id] = { rule_name: rule.name, sha256: hash, version };
  }
  return next;
}

/** Why the lock does not describe this one rule; empty when it does. */
export function lockProblemsFor(rule: Pick<RuleContent, 'rule' | 'file'>, lock: RuleLock): string[] {
  const entry = lock[rule.rule.rule_id];
  const where = path.basename(rule.file);
  if (!entry) return [`${where}: rule ${rule.rule.rule_id} is not in ${LOCK_FILE}; run ${LOCK_UPDATE_COMMAND}`];
  const problems: string[] = [];
  if (entry.sha256 !== ruleContentHash(rule)) problems.push(`${where}: the rule changed since ${LOCK_FILE} was written (version ${entry.version}); run ${LOCK_UPDATE_COMMAND}`);
  if (entry.rule_name !== rule.rule.name) problems.push(`${where}: ${LOCK_FILE} names the rule '${entry.rule_name}', the content '${rule.rule.name}'; run ${LOCK_UPDATE_COMMAND}`);
  if (!Number.isInteger(entry.version) || entry.version < 1) problems.push(`${where}: ${LOCK_FILE} holds version ${String(entry.version)}, not a positive integer; run ${LOCK_UPDATE_COMMAND}`);
  return problems;
}

/** Everything stale about the lock: rules missing or changed, and entries for rules that are gone. */
export function lockProblems(rules: Array<Pick<RuleContent, 'rule' | 'file'>>, lock: RuleLock): string[] {
  const problems = rules.flatMap((rule) => lockProblemsFor(rule, lock));
  const ids = new Set(rules.map((r) => r.rule.rule_id));
  for (const [id, entry] of Object.entries(lock)) {
    if (!ids.has(id)) problems.push(`${LOCK_FILE}: rule ${id} ('${entry.rule_name}') is no longer in the content; run ${LOCK_UPDATE_COMMAND}`);
  }
  return problems;
}

function isEntry(value: unknown): value is RuleLockEntry {
  if (value === null || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  return typeof e.rule_name === 'string' && typeof e.sha256 === 'string' && typeof e.version === 'number';
}

/** Reads detection-rules/version.lock.json; a missing file is an empty lock (every rule then reports as missing). */
export function readLock(detectionRulesRoot: string): RuleLock {
  const file = path.join(detectionRulesRoot, LOCK_FILE);
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ContentError(file, `not valid JSON: ${(err as Error).message}; run ${LOCK_UPDATE_COMMAND}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ContentError(file, `must map rule ids to entries; run ${LOCK_UPDATE_COMMAND}`);
  for (const [id, entry] of Object.entries(parsed)) {
    if (!isEntry(entry)) throw new ContentError(file, `entry ${id} must be {rule_name, sha256, version}; run ${LOCK_UPDATE_COMMAND}`);
  }
  return parsed as RuleLock;
}

/** The file's text: two-space JSON and a final newline, entries in rule_id order. */
export function serializeLock(lock: RuleLock): string {
  const ordered = Object.fromEntries(Object.keys(lock).sort().map((id) => [id, lock[id]]));
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
