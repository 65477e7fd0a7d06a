/**
 * What the demo shows of an alert: one row per alert (analytic, host, process, destination, score,
 * top reasons) for the terminal table and the report, and a one-line description of each stored
 * event of its evidence chain.
 */
import type { AlertDoc } from './types';

export interface AlertReason {
  name: string;
  points: number;
  observed?: string;
  threshold?: string;
  message?: string;
  tunable?: string;
}

export interface EvidenceLink {
  index: string;
  id: string;
  timestamp: string;
  dataset?: string;
  action?: string;
  /** What the stored event says, when it was read (see describeEvent). */
  description?: string;
}

export interface AlertRow {
  id: string;
  time: string;
  analytic: string;
  host: string;
  process: string;
  destination: string;
  score: number;
  threshold?: number;
  summary: string;
  /** The names of the reasons that weigh most, heaviest first. */
  top_reasons: string[];
  reasons: AlertReason[];
  evidence: EvidenceLink[];
}

const TOP_REASONS = 3;

function first(value: unknown): string | undefined {
  if (Array.isArray(value)) return first(value[0]);
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

function get(doc: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((n, k) => (n && typeof n === 'object' ? (n as Record<string, unknown>)[k] : undefined), doc);
}

function endpoint(doc: unknown, side: 'source' | 'destination', preferDomain: boolean): string | undefined {
  const host = (preferDomain ? first(get(doc, `${side}.domain`)) : undefined) ?? first(get(doc, `${side}.ip`)) ?? first(get(doc, `${side}.domain`));
  const port = first(get(doc, `${side}.port`));
  if (!host) return undefined;
  return port ? `${host}:${port}` : host;
}

export function alertRow(alert: AlertDoc): AlertRow {
  const a = (alert.cryptochannel?.alert ?? {}) as Record<string, unknown>;
  const reasons = ((a.reasons as AlertReason[] | undefined) ?? []).map((r) => ({ ...r, points: Number(r.points ?? 0) }));
  return {
    id: String(a.id ?? ''),
    time: String(alert['@timestamp'] ?? ''),
    analytic: String(a.analytic ?? ''),
    host: first(get(alert, 'host.name')) ?? first(get(alert, 'host.hostname')) ?? first(get(alert, 'host.ip')) ?? '',
    process: first(get(alert, 'process.name')) ?? first(get(alert, 'process.executable')) ?? '',
    destination: endpoint(alert, 'destination', true) ?? '',
    score: Number(a.score ?? 0),
    threshold: a.score_threshold === undefined ? undefined : Number(a.score_threshold),
    summary: String(alert.message ?? ''),
    top_reasons: [...reasons].sort((x, y) => y.points - x.points || x.name.localeCompare(y.name)).slice(0, TOP_REASONS).map((r) => r.name),
    reasons,
    evidence: ((a.evidence as EvidenceLink[] | undefined) ?? []).map((e) => ({ ...e })),
  };
}

/** A stored (normalised) event in one line: what happened, by which process, to where. */
export function describeEvent(doc: Record<string, unknown>): string {
  const src = endpoint(doc, 'source', false);
  const dst = endpoint(doc, 'destination', true);
  const parts = [
    first(get(doc, 'host.name')),
    first(get(doc, 'process.name')),
    first(get(doc, 'dll.name')) ? `loaded ${first(get(doc, 'dll.name'))}` : undefined,
    first(get(doc, 'dns.question.name')) ? `resolved ${first(get(doc, 'dns.question.name'))}` : undefined,
    src || dst ? `${src ?? '?'} → ${dst ?? '?'}` : undefined,
    first(get(doc, 'tls.client.server_name')) ? `SNI ${first(get(doc, 'tls.client.server_name'))}` : undefined,
    first(get(doc, 'tls.server.subject')) ? `cert ${first(get(doc, 'tls.server.subject'))}` : undefined,
    first(get(doc, 'tls.client.ja3')) ? `JA3 ${first(get(doc, 'tls.client.ja3'))}` : undefined,
  ].filter((p): p is string => !!p);
  return parts.join(' · ') || (first(get(doc, 'message')) ?? '').slice(0, 200);
}
