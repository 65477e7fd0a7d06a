/**
 * The grid feeder makes a run's alerts a function of the events alone: the same alerts whatever the
 * page size, and whether the events are correlated in one run or in several runs that resume from
 * checkpoints with the lookback, for any emit lag. A per-page watermark (what a naive reader would
 * do) does not have that property, which is why the grid exists. With the emit lag at the
 * correlation window, an incident is one alert with all its evidence, as correlateAll over the whole
 * day would give; without it, one alert per stage.
 */
import { loadContent } from '../../../src/content';
import type { AlertDocument } from '../../../src/correlator/alert';
import { correlateAll, SlidingCorrelator } from '../../../src/correlator/correlate';
import { GridFeeder, gridCeil, gridFloor } from '../../../src/correlator/feeder';
import { newestEvidence } from '../../../src/correlator/partition';
import { lookbackMs } from '../../../src/correlator/run';
import type { AnalyticFn, CorrelationContext, Finding, SourceEvent } from '../../../src/correlator/types';

const tunables = loadContent().tunables;
const ctx: CorrelationContext = { tunables, intel: { ja3: () => undefined, certSha1: () => undefined } };
const alertCtx = { runId: 'unit', packageVersion: 'test', scoreThreshold: tunables.ScoreThreshold, now: '2026-12-01T00:00:00.000Z' };
const STEP = 60_000;
const T0 = Date.parse('2026-11-28T10:00:00Z');
const LOOKBACK = lookbackMs(tunables);

/**
 * Greedy grouping, the kind of analytic that makes emission depend on what the buffer holds: all
 * events of one key within 5 minutes of the group's first event become one finding.
 */
const groups: AnalyticFn = (events) => {
  const out: Finding[] = [];
  const byKey = new Map<string, SourceEvent[]>();
  for (const e of events) {
    const k = String(e.doc.k);
    const g = byKey.get(k);
    if (g && e.time - g[0]!.time <= 300_000) g.push(e);
    else {
      if (g && g.length > 1) out.push(finding(g));
      byKey.set(k, [e]);
    }
  }
  for (const g of byKey.values()) if (g.length > 1) out.push(finding(g));
  return out;
};

/**
 * Sessions: events of one key no more than 2 minutes apart. Window-local (a session is decided by
 * the gaps around it), unlike the greedy groups, whose boundaries depend on all earlier history.
 */
const sessions: AnalyticFn = (events) => {
  const open = new Map<string, SourceEvent[]>();
  const out: Finding[] = [];
  for (const e of events) {
    const k = String(e.doc.k);
    const s = open.get(k);
    if (s && e.time - s[s.length - 1]!.time <= 120_000) s.push(e);
    else {
      if (s && s.length > 1) out.push(finding(s));
      open.set(k, [e]);
    }
  }
  for (const s of open.values()) if (s.length > 1) out.push(finding(s));
  return out;
};

function finding(evidence: SourceEvent[]): Finding {
  return { analytic: 'AN1500', evidence: [...evidence], reasons: [{ name: 'group', observed: String(evidence.length), threshold: '2', points: 70, message: 'm' }], entities: { host: { ip: ['10.0.0.1'] } }, summary: 's' };
}

/** A day of events: keys recurring at irregular gaps, some within 5 minutes, some not. */
function events(n: number, seed = 7): SourceEvent[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let t = T0;
  return Array.from({ length: n }, (_, i) => {
    t += Math.floor(rand() * 150_000);
    return { index: 'idx', id: `e${String(i).padStart(4, '0')}`, time: t, doc: { k: `k${Math.floor(rand() * 4)}`, event: { action: 'x' } } };
  });
}

/** One run as run.ts does it: read [emitFrom - lookback, end + lag) in pages, feed on the grid, emit alerts whose newest evidence is in [emitFrom, end). */
function run(all: SourceEvent[], emitFrom: number, end: number, pageSize: number, lag = 0, analytic = groups): { alerts: AlertDocument[]; peak: number } {
  const window = all.filter((e) => e.time >= emitFrom - LOOKBACK && e.time < end + lag);
  const correlator = new SlidingCorrelator({ AN1500: analytic }, ctx, alertCtx, emitFrom);
  const feeder = new GridFeeder(correlator, { stepMs: STEP, emitFrom, lagMs: lag, windowMs: LOOKBACK });
  const out: AlertDocument[] = [];
  for (let i = 0; i < window.length; i += pageSize) out.push(...feeder.add(window.slice(i, i + pageSize)));
  out.push(...feeder.finish(end + lag));
  for (const a of out) {
    const newest = newestEvidence(a);
    if (newest < emitFrom || newest >= end) throw new Error(`emitted outside [emitFrom, end): ${new Date(newest).toISOString()}`);
  }
  return { alerts: out, peak: correlator.stats.peakBuffered };
}

const ids = (alerts: AlertDocument[]) => alerts.map((a) => a._id).sort();

describe('GridFeeder', () => {
  const all = events(400);
  const start = gridFloor(all[0]!.time, STEP);
  const end = gridCeil(all[all.length - 1]!.time + 1, STEP);

  describe.each([
    ['no emit lag', 0],
    ['the emit lag at the correlation window', gridCeil(LOOKBACK, STEP)],
  ])('with %s', (_name, lag) => {
    it('emits the same alerts whatever the page size', () => {
      const reference = ids(run(all, start, end, 1000, lag).alerts);
      expect(reference.length).toBeGreaterThan(10);
      for (const size of [1, 2, 7, 33, 250]) expect(ids(run(all, start, end, size, lag).alerts)).toEqual(reference);
    });

    it('emits the same alerts when the work is split into runs resuming from checkpoints, none twice', () => {
      const reference = ids(run(all, start, end, 50, lag).alerts);
      const cuts = [start, start + 37 * STEP, start + 38 * STEP, start + 200 * STEP, start + 201 * STEP, end];
      const split = cuts.slice(1).flatMap((to, i) => run(all, cuts[i]!, to, 13, lag).alerts);
      expect(ids(split)).toEqual(reference);
      expect(new Set(ids(split)).size).toBe(split.length);
    });

    it('holds about a correlation window of events (two with the lag), not the whole day', () => {
      const { peak } = run(all, start, end, 100, lag);
      expect(peak).toBeLessThan(all.length / 4);
      expect(peak).toBeGreaterThan(0);
    });
  });

  it('with the lag at the correlation window, writes each incident once with all its evidence, as correlateAll does', () => {
    const lagged = run(all, start, end, 40, gridCeil(LOOKBACK, STEP), sessions).alerts;
    expect(lagged.length).toBeGreaterThan(10);
    expect(ids(lagged)).toEqual(ids(correlateAll(all, { AN1500: sessions }, ctx, alertCtx)));
    // Without the lag the same incidents come out stage by stage: more alerts, the early ones with part of the evidence.
    expect(run(all, start, end, 40, 0, sessions).alerts.length).toBeGreaterThan(lagged.length);
  });

  it('jumps over idle stretches without advancing through them', () => {
    const advances: number[] = [];
    const correlator = { push: () => undefined, advance: (w: number) => (advances.push(w), []) };
    const feeder = new GridFeeder(correlator, { stepMs: STEP, emitFrom: T0, lagMs: 0, windowMs: 10 * STEP });
    feeder.add([{ index: 'i', id: 'a', time: T0 + 1000, doc: {} }, { index: 'i', id: 'b', time: T0 + 30 * 24 * 3_600_000, doc: {} }]);
    feeder.finish(T0 + 30 * 24 * 3_600_000 + 20 * STEP);
    // The first event is kept for 10 steps after its own, then a month is skipped.
    expect(advances.length).toBeLessThan(40);
    expect(advances[0]).toBe(T0 + STEP);
  });

  it('refuses events out of time order (the reader sorts; a bug there must not pass silently)', () => {
    const feeder = new GridFeeder(new SlidingCorrelator({}, ctx, alertCtx, T0), { stepMs: STEP, emitFrom: T0, lagMs: 0, windowMs: LOOKBACK });
    feeder.add([{ index: 'i', id: 'b', time: T0 + 10, doc: {} }]);
    expect(() => feeder.add([{ index: 'i', id: 'a', time: T0 + 5, doc: {} }])).toThrow(/out of time order/);
  });

  it('is needed: advancing to the last event of each page gives results that depend on the page size', () => {
    const naive = (pageSize: number) => {
      const correlator = new SlidingCorrelator({ AN1500: groups }, ctx, alertCtx, start);
      const out: AlertDocument[] = [];
      for (let i = 0; i < all.length; i += pageSize) {
        const page = all.slice(i, i + pageSize);
        correlator.push(page);
        out.push(...correlator.advance(page[page.length - 1]!.time));
      }
      out.push(...correlator.advance(end));
      return ids(out);
    };
    expect(naive(3)).not.toEqual(naive(100));
  });
});
