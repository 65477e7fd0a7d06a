/**
 * The alert document (design.md "Alerts"): event.kind alert in logs-cryptochannel.alerts-<ns>, ECS
 * context from the evidence, every reason with its observed value and threshold, every contributing
 * event. Its id is a hash of the analytic and the evidence ids, so a rerun, a crash or a second
 * correlator writes the same id, and `create` refuses the second copy.
 */
import { createHash } from 'node:crypto';
import { get, str } from './fields';
import type { Scored } from './scoring';
import type { AnalyticId, SourceEvent } from './types';

export const ANALYTIC_NAMES: Record<AnalyticId, string> = {
  AN1496: 'Windows: unexpected process loads crypto libraries, then TLS with an abnormal chain or handshake',
  AN1497: 'Linux: process maps TLS libraries, then connects out with abnormal certificate, handshake or traffic shape',
  AN1498: 'macOS: Security-framework key use, then TLS with unrecognised certificates, high-entropy payloads or untrusted DoH',
  AN1499: 'ESXi: hostd or vpxa negotiates TLS with a host outside its management baseline',
  AN1500: 'Network: asymmetric key exchange on unexpected ports, invalid certificates, RSA exchanges outside expected flows',
};

export const THREAT = {
  framework: 'MITRE ATT&CK',
  tactic: { id: ['TA0011'], name: ['Command and Control'], reference: ['https://attack.mitre.org/tactics/TA0011/'] },
  technique: {
    id: ['T1573'],
    name: ['Encrypted Channel'],
    reference: ['https://attack.mitre.org/techniques/T1573/'],
    subtechnique: { id: ['T1573.002'], name: ['Asymmetric Cryptography'], reference: ['https://attack.mitre.org/techniques/T1573/002/'] },
  },
};

export function alertId(analytic: AnalyticId, evidence: SourceEvent[]): string {
  const ids = evidence.map((e) => `${e.index}/${e.id}`).sort();
  return createHash('sha256').update(`${analytic}\n${ids.join('\n')}`).digest('hex');
}

function uniq(values: Array<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
}

function relatedOf(evidence: SourceEvent[], key: 'ip' | 'hosts' | 'hash' | 'user'): string[] {
  return uniq(evidence.flatMap((e) => (get(e.doc, `related.${key}`) as string[] | undefined) ?? []));
}

export interface AlertContext {
  runId: string;
  packageVersion: string;
  scoreThreshold: number;
  /** When the alert is written (event.created). */
  now: string;
}

export interface AlertDocument {
  _id: string;
  doc: Record<string, unknown>;
}

function dropEmpty(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0) && !(v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)));
}

export function buildAlert(scored: Scored, ctx: AlertContext): AlertDocument {
  const { finding } = scored;
  const evidence = [...finding.evidence].sort((a, b) => a.time - b.time);
  const id = alertId(finding.analytic, evidence);
  const first = evidence[0]!;
  const last = evidence[evidence.length - 1]!;
  const e = finding.entities;
  const doc = dropEmpty({
    // design.md: an alert's @timestamp is its earliest evidence; event.created is when it was written.
    '@timestamp': new Date(first.time).toISOString(),
    message: finding.summary,
    event: {
      kind: 'alert',
      category: ['intrusion_detection', 'network'],
      type: ['indicator'],
      dataset: 'cryptochannel.alerts',
      module: 'cryptochannel',
      severity: scored.score,
      risk_score: scored.score,
      reason: finding.summary,
      start: new Date(first.time).toISOString(),
      end: new Date(last.time).toISOString(),
      created: ctx.now,
      id,
    },
    rule: {
      id: `cryptochannel-${finding.analytic.toLowerCase()}`,
      name: ANALYTIC_NAMES[finding.analytic],
      ruleset: 'cryptochannel',
      category: 'correlation',
      reference: 'https://attack.mitre.org/techniques/T1573/002/',
      version: ctx.packageVersion,
      author: ['cryptochannel'],
    },
    threat: THREAT,
    host: e.host,
    process: e.process,
    user: e.user,
    dll: e.dll,
    source: e.source,
    destination: e.destination,
    network: e.network,
    tls: e.tls,
    related: dropEmpty({ ip: relatedOf(evidence, 'ip'), hosts: relatedOf(evidence, 'hosts'), hash: relatedOf(evidence, 'hash'), user: relatedOf(evidence, 'user') }),
    tags: ['cryptochannel', finding.analytic, 'T1573.002'],
    cryptochannel: {
      alert: dropEmpty({
        id,
        analytic: finding.analytic,
        score: scored.score,
        score_threshold: ctx.scoreThreshold,
        reasons: scored.reasons.map((r) => dropEmpty({ ...r })),
        evidence: evidence.map((ev) => dropEmpty({ index: ev.index, id: ev.id, timestamp: new Date(ev.time).toISOString(), action: str(ev, 'event.action'), dataset: str(ev, 'event.dataset') })),
        intel: scored.intel.length ? { list: uniq(scored.intel.map((h) => h.list)), indicator: uniq(scored.intel.map((h) => h.value)) } : undefined,
        run_id: ctx.runId,
        correlator_version: ctx.packageVersion,
      }),
    },
  });
  return { _id: id, doc };
}
