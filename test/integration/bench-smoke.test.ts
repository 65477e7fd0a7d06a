/**
 * `cryptochannel bench` end to end at a small N, on the engine of its own it starts (and deletes):
 * the result has every figure, each a finite number, and the raw figures they come from. Goals are
 * reported by the bench, never asserted here; no timing is asserted either.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './support/cli';

const FIGURES = ['ingest_ratio', 'correlator_ratio', 'memory_ratio', 'latency_s', 'apply_ratio'] as const;

describe('cryptochannel bench (small N)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bench-smoke-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints and writes all five figures as finite numbers, beside the raw figures', async () => {
    const out = path.join(dir, 'results.json');
    // No --url (and none from the environment): the bench starts its own engine, as a user's first run would.
    const run = await runCli(['--json', 'bench', '--events', '400', '--live-events', '400', '--live-span', '20s', '--interval', '5s', '--out', out], { CRYPTOCHANNEL_URL: undefined });
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
    const printed = JSON.parse(run.stdout) as Record<string, unknown>;
    const written = JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual(printed);

    for (const figure of FIGURES) expect([figure, Number.isFinite(printed[figure])]).toEqual([figure, true]);
    const r = printed as {
      goals: Array<{ figure: string; pass: boolean }>;
      engine: { owned: boolean; version: string };
      machine: { cpus: number; memory_gb: number; node: string };
      ingest: { per_source: Array<{ source: string; events: number; plain_eps: number; pipeline_eps: number; ratio: number; rejected: number }> };
      correlator: { events: number; correlate_eps: number; scan_eps: number };
      memory: { n: { events: number; memory: { peak_heap_mb: number } }; ten_n: { events: number; memory: { peak_heap_mb: number } } };
      latency: { alerts: number; max_s: number; interval_s: number };
      apply: { first: { ms: number; created: number }; again: { ms: number; changed: number }; first_on_empty: boolean };
    };
    expect(r.goals.map((g) => g.figure)).toEqual([...FIGURES]);
    expect(r.engine.owned).toBe(true);
    expect(r.machine.cpus).toBeGreaterThan(0);
    expect(r.ingest.per_source.length).toBeGreaterThan(0);
    for (const s of r.ingest.per_source) {
      expect([s.source, [s.plain_eps, s.pipeline_eps, s.ratio].every(Number.isFinite), s.rejected]).toEqual([s.source, true, 0]);
    }
    expect(r.correlator.events).toBeGreaterThan(0);
    expect(r.memory.ten_n.events).toBeGreaterThan(r.memory.n.events);
    expect(r.latency.alerts).toBeGreaterThan(0);
    // On the bench's own engine the first apply meets an empty cluster, and the second changes nothing.
    expect(r.apply.first_on_empty).toBe(true);
    expect(r.apply.first.created).toBeGreaterThan(0);
    expect(r.apply.again.changed).toBe(0);
  }, 600_000);
});
