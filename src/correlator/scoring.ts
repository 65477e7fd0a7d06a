/**
 * A finding's score: the points of its reasons (an allow-list may add negative points), raised by
 * threat-intel matches, bounded to 0-100. Alerts are written only at or above ScoreThreshold.
 */
import type { CorrelationContext, Finding, IntelHit, Reason } from './types';

/** What one threat-intel match adds: abuse.ch warns that some listed JA3s are common clients, so it is a raise, not an alert by itself. */
export const INTEL_POINTS = { ja3: 15, cert_sha1: 35 } as const;

export interface Scored {
  finding: Finding;
  reasons: Reason[];
  intel: IntelHit[];
  score: number;
}

export function intelReasons(finding: Finding, ctx: CorrelationContext): { reasons: Reason[]; hits: IntelHit[] } {
  const hits: IntelHit[] = [];
  for (const ja3 of new Set(finding.indicators?.ja3 ?? [])) {
    const hit = ctx.intel.ja3(ja3.toLowerCase());
    if (hit) hits.push(hit);
  }
  for (const sha1 of new Set(finding.indicators?.cert_sha1 ?? [])) {
    const hit = ctx.intel.certSha1(sha1.toUpperCase());
    if (hit) hits.push(hit);
  }
  const reasons = hits.map(
    (h): Reason => ({
      name: h.kind === 'ja3' ? 'threat_intel_ja3' : 'threat_intel_certificate',
      observed: h.value,
      threshold: h.list,
      points: INTEL_POINTS[h.kind],
      message: `${h.kind === 'ja3' ? 'the client fingerprint' : 'the server certificate'} is listed by ${h.list}${h.reason ? ` (${h.reason})` : ''}`,
    }),
  );
  return { reasons, hits };
}

export function score(finding: Finding, ctx: CorrelationContext): Scored {
  const intel = intelReasons(finding, ctx);
  const reasons = [...finding.reasons, ...intel.reasons];
  const total = reasons.reduce((sum, r) => sum + r.points, 0);
  return { finding, reasons, intel: intel.hits, score: Math.max(0, Math.min(100, Math.round(total))) };
}
