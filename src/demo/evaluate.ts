/**
 * The demo's detection result against the ground truth (the issue-6 contract): an alert matches an
 * attack when the analytic is the attack's, one of the alert's host names or IPs is one of the
 * attack's hosts, and its @timestamp lies in [attack start - 2m, attack end + 15m]. Attacks with no
 * matching alert are missed; alerts that match no attack are false alerts.
 */
import type { AlertDoc, AttackTruth, GroundTruth } from './types';

export const MATCH_BEFORE_MS = 2 * 60_000;
export const MATCH_AFTER_MS = 15 * 60_000;

export interface FoundAttack {
  attack: AttackTruth;
  /** cryptochannel.alert.id of every alert that matched it. */
  alerts: string[];
}

export interface FalseAlert {
  alert: string;
  analytic: string;
  timestamp: string;
  hosts: string[];
  /** One of the alert's hosts is a benign host of the ground truth. */
  benignHost: boolean;
}

export interface Evaluation {
  found: FoundAttack[];
  missed: AttackTruth[];
  falseAlerts: FalseAlert[];
}

function strings(value: unknown): string[] {
  if (typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  return [];
}

/** host.name, host.hostname and host.ip of an alert (lower case: host names are case-insensitive). */
export function alertHosts(alert: AlertDoc): string[] {
  const host = (alert.host ?? {}) as Record<string, unknown>;
  return [...new Set([...strings(host.name), ...strings(host.hostname), ...strings(host.ip)].map((h) => h.toLowerCase()))];
}

export function alertId(alert: AlertDoc): string {
  return String(alert.cryptochannel?.alert?.id ?? alert.event?.id ?? '');
}

export function alertAnalytic(alert: AlertDoc): string {
  return String(alert.cryptochannel?.alert?.analytic ?? '');
}

export function matches(alert: AlertDoc, attack: AttackTruth): boolean {
  if (alertAnalytic(alert) !== attack.analytic) return false;
  const wanted = new Set(attack.hosts.map((h) => h.toLowerCase()));
  if (!alertHosts(alert).some((h) => wanted.has(h))) return false;
  const t = Date.parse(String(alert['@timestamp']));
  return Number.isFinite(t) && t >= Date.parse(attack.start) - MATCH_BEFORE_MS && t <= Date.parse(attack.end) + MATCH_AFTER_MS;
}

export function evaluate(groundTruth: Pick<GroundTruth, 'attacks' | 'benign_hosts'>, alerts: AlertDoc[]): Evaluation {
  const benign = new Set(groundTruth.benign_hosts.map((h) => h.toLowerCase()));
  const matched = new Set<AlertDoc>();
  const found: FoundAttack[] = [];
  const missed: AttackTruth[] = [];
  for (const attack of groundTruth.attacks) {
    const mine = alerts.filter((a) => matches(a, attack));
    for (const a of mine) matched.add(a);
    if (mine.length) found.push({ attack, alerts: mine.map(alertId) });
    else missed.push(attack);
  }
  const falseAlerts = alerts
    .filter((a) => !matched.has(a))
    .map((a) => {
      const hosts = alertHosts(a);
      return { alert: alertId(a), analytic: alertAnalytic(a), timestamp: String(a['@timestamp']), hosts, benignHost: hosts.some((h) => benign.has(h)) };
    });
  return { found, missed, falseAlerts };
}
