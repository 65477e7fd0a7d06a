/** The bench result as text: the five figures against their goals, then where they come from. */
import { table } from '../cli/output';
import type { BenchResult } from './run';

export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function renderBench(r: BenchResult): string {
  const why: Record<string, string> = {
    ingest_ratio: `pipelines ${fmt(r.ingest.overall.pipeline_eps, 0)} ev/s ÷ plain index ${fmt(r.ingest.overall.plain_eps, 0)} ev/s`,
    correlator_ratio: `correlate ${fmt(r.correlator.correlate_eps, 0)} ev/s ÷ bare PIT scan ${fmt(r.correlator.scan_eps, 0)} ev/s`,
    memory_ratio: `peak live heap ${fmt(r.memory.ten_n.memory.peak_live_heap_mb, 1)} MB at ${r.memory.ten_n.events} ev ÷ ${fmt(r.memory.n.memory.peak_live_heap_mb, 1)} MB at ${r.memory.n.events} ev (buffered ${r.memory.ten_n.peak_buffered} ÷ ${r.memory.n.peak_buffered})`,
    latency_s: `slowest of ${r.latency.alerts} alert(s), median ${fmt(r.latency.median_s, 1)} s, every ${r.latency.interval_s}s`,
    apply_ratio: `no-change apply ${fmt(r.apply.again.ms / 1000, 2)} s ÷ first apply ${fmt(r.apply.first.ms / 1000, 2)} s${r.apply.first_on_empty ? '' : ' (first apply was not on an empty cluster)'}`,
  };
  const lines = [
    `cryptochannel bench: ${r.events} events (seed ${r.seed}) on ${r.engine.flavor} ${r.engine.version} at ${r.engine.url}${r.engine.owned ? ' (started by the bench)' : ''}`,
    `machine: ${r.machine.cpus} CPU(s) ${r.machine.cpu_model}, ${r.machine.memory_gb} GB, ${r.machine.platform}, node ${r.machine.node}`,
    '',
    table(
      r.goals.map((g) => ({ figure: g.figure, value: fmt(g.value), goal: g.goal, result: g.pass ? 'pass' : 'miss', from: why[g.figure] })),
      ['figure', 'value', 'goal', 'result', 'from'],
    ),
    '',
    table(
      r.ingest.per_source.map((s) => ({ source: s.source, events: s.events, plain_eps: fmt(s.plain_eps, 0), pipeline_eps: fmt(s.pipeline_eps, 0), ratio: fmt(s.ratio), deadlettered: s.deadlettered, rejected: s.rejected })),
      ['source', 'events', 'plain_eps', 'pipeline_eps', 'ratio', 'deadlettered', 'rejected'],
    ),
    '',
    `took ${fmt(r.duration_s, 0)} s`,
  ];
  return lines.join('\n');
}
