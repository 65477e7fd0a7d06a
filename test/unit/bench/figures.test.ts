import { goals } from '../../../src/bench/goals';
import { overallIngest, rate, warmupCount, type SourceIngest } from '../../../src/bench/ingest';
import { alertLatency, median } from '../../../src/bench/latency';

const row = (source: string, events: number, plainMs: number, pipelineMs: number): SourceIngest => ({
  source,
  events,
  warmup: 0,
  plain_eps: rate(events, plainMs),
  pipeline_eps: rate(events, pipelineMs),
  ratio: rate(events, pipelineMs) / rate(events, plainMs),
  plain_ms: plainMs,
  pipeline_ms: pipelineMs,
  indexed: events,
  deadlettered: 0,
  rejected: 0,
});

describe('rate', () => {
  it('is events per second, and 0 rather than NaN or Infinity for nothing', () => {
    expect(rate(500, 250)).toBe(2000);
    expect(rate(0, 0)).toBe(0);
    expect(Number.isFinite(rate(10, 0))).toBe(true);
  });
});

describe('overallIngest', () => {
  it('weighs the sources by their events: total events over total time, each way', () => {
    const all = overallIngest([row('zeek', 1000, 1000, 2000), row('sysmon', 3000, 1000, 1000)]);
    expect(all.events).toBe(4000);
    expect(all.plain_eps).toBe(2000);
    expect(all.pipeline_eps).toBeCloseTo(4000 / 3);
    expect(all.ratio).toBeCloseTo(2 / 3);
  });

  it('gives 0, not NaN, when nothing was sent', () => {
    expect(overallIngest([])).toEqual({ events: 0, plain_eps: 0, pipeline_eps: 0, ratio: 0 });
  });
});

describe('goals', () => {
  const figures = { ingest_ratio: 0.7, correlator_ratio: 0.69, memory_ratio: 1.2, latency_s: 15, apply_ratio: 0.5 };

  it('says pass or miss for each of the five figures, bounds included', () => {
    const result = Object.fromEntries(goals(figures, 10).map((g) => [g.figure, g.pass]));
    expect(result).toEqual({ ingest_ratio: true, correlator_ratio: false, memory_ratio: true, latency_s: true, apply_ratio: false });
  });

  it('ties the latency goal to the interval', () => {
    expect(goals({ ...figures, latency_s: 16 }, 10).find((g) => g.figure === 'latency_s')).toMatchObject({ pass: false, goal: '<= 15 (interval + 5 s)' });
    expect(goals({ ...figures, latency_s: 16 }, 60).find((g) => g.figure === 'latency_s')!.pass).toBe(true);
  });

  it('counts a figure that could not be measured as a miss', () => {
    expect(goals({ ...figures, latency_s: Number.NaN }, 10).find((g) => g.figure === 'latency_s')!.pass).toBe(false);
  });
});

describe('alertLatency', () => {
  const doc = (runId: string, evidence: string[], created = '2026-01-01T10:00:30.000Z') => ({
    event: { created },
    cryptochannel: { alert: { analytic: 'AN1498', run_id: runId, evidence: evidence.map((timestamp) => ({ timestamp })) } },
  });
  const t = (iso: string) => Date.parse(iso);

  it('runs from the newest evidence to the end of the run that wrote the alert', () => {
    const ends = new Map([['r1', t('2026-01-01T10:00:42.000Z')]]);
    const l = alertLatency(doc('r1', ['2026-01-01T10:00:05.000Z', '2026-01-01T10:00:30.000Z']), 0, ends)!;
    expect(l).toEqual({ analytic: 'AN1498', written: '2026-01-01T10:00:42.000Z', newest_evidence: '2026-01-01T10:00:30.000Z', latency_s: 12 });
  });

  it('counts from the bulk load when the evidence was indexed after its own time', () => {
    const ends = new Map([['r1', t('2026-01-01T10:00:42.000Z')]]);
    expect(alertLatency(doc('r1', ['2026-01-01T10:00:05.000Z']), t('2026-01-01T10:00:40.000Z'), ends)!.latency_s).toBe(2);
  });

  it("falls back to event.created for a run it did not see, and skips an alert without evidence times", () => {
    expect(alertLatency(doc('other', ['2026-01-01T10:00:20.000Z']), 0)!.latency_s).toBe(10);
    expect(alertLatency(doc('r1', []), 0)).toBeUndefined();
  });
});

describe('warmupCount', () => {
  it('sends a fifth of a source first, untimed, at most 200 records', () => {
    expect([warmupCount(0), warmupCount(4), warmupCount(500), warmupCount(100_000)]).toEqual([0, 0, 100, 200]);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBe(0);
  });
});
