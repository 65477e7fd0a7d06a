/** The correlator's shared machinery: ids, scoring, the alert document, and the sliding window. */
import { loadContent } from '../../../src/content';
import { alertId, buildAlert } from '../../../src/correlator/alert';
import { CLOCK_SKEW_MS, correlateAll, SlidingCorrelator } from '../../../src/correlator/correlate';
import { durationMs, sameConnection } from '../../../src/correlator/fields';
import { score } from '../../../src/correlator/scoring';
import type { AnalyticFn, CorrelationContext, Finding, IntelLookup, SourceEvent } from '../../../src/correlator/types';

const tunables = loadContent().tunables;
const noIntel: IntelLookup = { ja3: () => undefined, certSha1: () => undefined };
const ctx: CorrelationContext = { tunables, intel: noIntel };
const alertCtx = { runId: 'unit', packageVersion: 'test', scoreThreshold: tunables.ScoreThreshold, now: '2026-12-01T00:00:00.000Z' };
const T0 = Date.parse('2026-11-28T10:00:00Z');
const ev = (id: string, offsetMs: number, doc: Record<string, unknown> = {}): SourceEvent => ({ index: 'idx', id, time: T0 + offsetMs, doc: { 'event.action': 'x', ...doc } });
const finding = (evidence: SourceEvent[], points: number[]): Finding => ({
  analytic: 'AN1500',
  evidence,
  reasons: points.map((p, i) => ({ name: `r${i}`, observed: String(p), threshold: 't', points: p, message: 'm' })),
  entities: { host: { ip: ['10.0.0.1'] } },
  summary: 's',
});

/** Fires once per pair of events with the same `k` at most 1 minute apart. */
const pairs: AnalyticFn = (events) => {
  const out: Finding[] = [];
  for (let i = 0; i < events.length; i++) for (let j = i + 1; j < events.length; j++) {
    const a = events[i]!;
    const b = events[j]!;
    if (a.doc.k === b.doc.k && b.time - a.time <= 60_000) out.push(finding([a, b], [70]));
  }
  return out;
};

describe('alert ids', () => {
  it('depend on the analytic and the evidence, not on their order', () => {
    const a = ev('a', 0);
    const b = ev('b', 1);
    expect(alertId('AN1500', [a, b])).toBe(alertId('AN1500', [b, a]));
    expect(alertId('AN1500', [a, b])).not.toBe(alertId('AN1499', [a, b]));
    expect(alertId('AN1500', [a, b])).not.toBe(alertId('AN1500', [a]));
  });
});

describe('scoring', () => {
  it('adds reason points, bounds them to 0-100, and raises by threat-intel matches', () => {
    expect(score(finding([ev('a', 0)], [50, 70]), ctx).score).toBe(100);
    expect(score(finding([ev('a', 0)], [30, -50]), ctx).score).toBe(0);
    const intel: IntelLookup = { ja3: (h) => (h === 'abc' ? { kind: 'ja3', value: 'abc', list: 'abusech_sslbl_ja3', reason: 'TrickBot' } : undefined), certSha1: () => undefined };
    const withJa3 = { ...finding([ev('a', 0)], [40]), indicators: { ja3: ['ABC'] } };
    const scored = score(withJa3, { tunables, intel });
    expect(scored.score).toBe(55);
    expect(scored.reasons.map((r) => r.name)).toEqual(['r0', 'threat_intel_ja3']);
  });
});

describe('the alert document', () => {
  it('carries the design.md fields: kind alert, T1573.002, score, reasons, evidence, deterministic _id', () => {
    const f = finding([ev('b', 5000, { event: { action: 'tls_session', dataset: 'cryptochannel.zeek' } }), ev('a', 0)], [65]);
    const { _id, doc } = buildAlert(score(f, ctx), alertCtx);
    expect(_id).toBe(alertId('AN1500', f.evidence));
    expect(doc).toMatchObject({
      '@timestamp': new Date(T0).toISOString(),
      event: { kind: 'alert', dataset: 'cryptochannel.alerts', start: new Date(T0).toISOString(), created: alertCtx.now },
      threat: { technique: { subtechnique: { id: ['T1573.002'] } } },
      cryptochannel: { alert: { id: _id, analytic: 'AN1500', score: 65, score_threshold: tunables.ScoreThreshold } },
    });
    const alert = (doc.cryptochannel as { alert: { evidence: Array<{ id: string; action?: string }> } }).alert;
    expect(alert.evidence.map((e) => e.id)).toEqual(['a', 'b']);
    expect(alert.evidence[1]!.action).toBe('tls_session');
  });
});

describe('SlidingCorrelator', () => {
  it('emits each alert once, when the watermark passes its newest evidence', () => {
    const c = new SlidingCorrelator({ AN1500: pairs }, ctx, alertCtx, Number.NEGATIVE_INFINITY);
    c.push([ev('a', 0, { k: 1 }), ev('b', 30_000, { k: 1 })]);
    expect(c.advance(T0 + 10_000)).toHaveLength(0);
    expect(c.advance(T0 + 40_000)).toHaveLength(1);
    expect(c.advance(T0 + 50_000)).toHaveLength(0);
    c.push([ev('c', 55_000, { k: 1 })]);
    // c pairs with both a (55 s apart) and b (25 s apart): two alerts, each once.
    expect(c.advance(T0 + 60_000)).toHaveLength(2);
    expect(c.advance(T0 + 70_000)).toHaveLength(0);
  });

  it('holds only what can still join: memory follows the window, not the number of events', () => {
    const c = new SlidingCorrelator({ AN1500: pairs }, ctx, alertCtx, Number.NEGATIVE_INFINITY);
    const window = durationMs(tunables.CorrelationWindow) + CLOCK_SKEW_MS;
    const step = 60_000;
    for (let i = 0; i < 500; i++) {
      c.push([ev(`e${i}`, i * step, { k: i })]);
      c.advance(T0 + i * step + 1);
    }
    expect(c.stats.events).toBe(500);
    expect(c.stats.peakBuffered).toBeLessThanOrEqual(Math.ceil(window / step) + 2);
  });

  it('does not emit what a previous run already covered, and counts what falls below the threshold', () => {
    const weak: AnalyticFn = (events) => (events.length ? [finding([events[events.length - 1]!], [10])] : []);
    const c = new SlidingCorrelator({ AN1500: weak, AN1499: pairs }, ctx, alertCtx, T0 + 20_000);
    c.push([ev('a', 0, { k: 1 }), ev('b', 10_000, { k: 1 })]);
    expect(c.advance(T0 + 30_000)).toEqual([]);
    expect(c.stats.belowThreshold).toBe(0);
    c.push([ev('c', 35_000, { k: 2 })]);
    c.advance(T0 + 40_000);
    expect(c.stats.belowThreshold).toBe(1);
  });

  it('writes one alert per analytic and key, even when later records add evidence to the same story', () => {
    const keyed: AnalyticFn = (events) => {
      const anchor = events.find((e) => e.doc.anchor);
      return anchor ? [{ ...finding(events.filter((e) => e.doc.k === 1), [70]), key: anchor.id }] : [];
    };
    const c = new SlidingCorrelator({ AN1500: keyed }, ctx, alertCtx, Number.NEGATIVE_INFINITY);
    c.push([ev('a', 0, { k: 1, anchor: true })]);
    expect(c.advance(T0 + 10_000)).toHaveLength(1);
    c.push([ev('late', 20_000, { k: 1 })]);
    expect(c.advance(T0 + 30_000)).toHaveLength(0);
    const unkeyed = new SlidingCorrelator({ AN1500: (events) => [finding(events, [70])] }, ctx, alertCtx, Number.NEGATIVE_INFINITY);
    unkeyed.push([ev('a', 0)]);
    unkeyed.advance(T0 + 10_000);
    unkeyed.push([ev('late', 20_000)]);
    expect(unkeyed.advance(T0 + 30_000)).toHaveLength(1);
  });

  it('lets a keyed story that was below the threshold alert once later evidence lifts it over', () => {
    // A connection first seen with one weak reason; a record arriving after it adds a strong one.
    const keyed: AnalyticFn = (events) => {
      const anchor = events.find((e) => e.doc.anchor);
      if (!anchor) return [];
      const story = events.filter((e) => e.doc.k === 1);
      return [{ ...finding(story, story.some((e) => e.doc.strong) ? [30, 40] : [30]), key: anchor.id }];
    };
    const c = new SlidingCorrelator({ AN1500: keyed }, ctx, alertCtx, Number.NEGATIVE_INFINITY);
    c.push([ev('a', 0, { k: 1, anchor: true })]);
    expect(c.advance(T0 + 10_000)).toHaveLength(0);
    expect(c.stats.belowThreshold).toBe(1);
    c.push([ev('ids', 20_000, { k: 1, strong: true })]);
    const lifted = c.advance(T0 + 30_000);
    expect(lifted).toHaveLength(1);
    expect(lifted[0]!._id).toBe(alertId('AN1500', [ev('a', 0), ev('ids', 20_000)]));
    // Once it alerted, the key holds: a further record adds no second alert.
    c.push([ev('more', 40_000, { k: 1, strong: true })]);
    expect(c.advance(T0 + 50_000)).toHaveLength(0);
    expect(c.stats).toMatchObject({ alerts: 1, belowThreshold: 1 });
  });

  it('correlateAll sorts its input', () => {
    const out = correlateAll([ev('b', 30_000, { k: 1 }), ev('a', 0, { k: 1 })], { AN1500: pairs }, ctx, alertCtx);
    expect(out).toHaveLength(1);
  });
});

describe('joins', () => {
  it('match one connection by community id, or by 5-tuple in either orientation within the skew', () => {
    const tuple = { source: { ip: '10.0.0.1', port: 5000 }, destination: { ip: '203.0.113.9', port: 443 }, network: { transport: 'tcp' } };
    const reversed = { source: { ip: '203.0.113.9', port: 443 }, destination: { ip: '10.0.0.1', port: 5000 }, network: { transport: 'tcp' } };
    expect(sameConnection(ev('a', 0, tuple), ev('b', 60_000, reversed), CLOCK_SKEW_MS)).toBe(true);
    expect(sameConnection(ev('a', 0, tuple), ev('b', CLOCK_SKEW_MS + 1, tuple), CLOCK_SKEW_MS)).toBe(false);
    const c1 = { network: { community_id: '1:x' } };
    expect(sameConnection(ev('a', 0, { ...tuple, ...c1 }), ev('b', 0, { ...tuple, network: { community_id: '1:y' } }), CLOCK_SKEW_MS)).toBe(false);
  });
});
