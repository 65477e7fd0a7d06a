/**
 * `cryptochannel demo`: the main job on the embedded engine, end to end (src/demo/run.ts). Prints the
 * alerts, the detection result against the generated ground truth and where the HTML report is;
 * exits 1 when an attack was missed or a benign host alerted.
 */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { generateTelemetry } from '../../generator';
import { runDemo, type DemoResult } from '../../demo/run';
import { PACKAGE_VERSION } from '../../package-info';
import { contextFor } from '../context';
import { table } from '../output';
import { parsePort } from '../parsers';

function parseEvents(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 100 || n > 10_000_000) throw new InvalidArgumentError('a whole number from 100 to 10000000');
  return n;
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1) throw new InvalidArgumentError('a whole number from 0 to 4294967295');
  return n;
}

export function renderDemo(r: DemoResult): string {
  const d = r.detection;
  const rows = r.alerts.map((a) => ({ ...a, time: a.time.slice(0, 19).replace('T', ' '), top_reasons: a.top_reasons.join(', ') }));
  const lines = [
    `engine: OpenSearch ${r.engine.version} at ${r.engine.url} (${r.engine.started ? 'started by the demo' : 'already running'})`,
    `telemetry: ${r.telemetry.events} events (seed ${r.telemetry.seed}) ${r.telemetry.start} .. ${r.telemetry.end} in ${r.telemetry.dir}`,
    ...r.tuning.filter((t) => t.changed).map((t) => `tuning: ${t.key} = ${JSON.stringify(t.value)}`),
    `ingest: ${r.ingest.read} read, ${r.ingest.indexed} indexed, ${r.ingest.deadlettered} dead-lettered, ${r.ingest.rejected} rejected (namespace ${r.namespace})`,
    `correlator: ${r.correlator.events_read} events read, ${r.correlator.findings} candidate(s), ${r.correlator.below_threshold} below threshold, ${r.correlator.alerts_written} alert(s) written in ${(r.correlator.duration_ms / 1000).toFixed(1)}s`,
    '',
    r.alerts.length ? table(rows, ['time', 'analytic', 'host', 'process', 'destination', 'score', 'top_reasons']) : 'no alerts',
    '',
    `detection: ${d.found.length} of ${d.attacks} attack(s) found, ${d.missed.length} missed, ${d.falseAlerts.length} false alert(s) (${d.benign_host_alerts} on benign hosts)`,
    ...d.missed.map((a) => `  missed: ${a.id} ${a.analytic} ${a.scenario}${a.evasive ? ' (evasive)' : ''} on ${a.hosts.join(', ')} at ${a.start}`),
    ...d.falseAlerts.map((f) => `  false alert: ${f.analytic} on ${f.hosts.join(', ')} at ${f.timestamp}${f.benignHost ? ' (benign host)' : ''}`),
    '',
    `report: ${r.report}`,
    r.engine.stopped ? `the engine on port ${r.engine.port} was stopped (--keep-running leaves it up)` : '',
    '',
    'next:',
    ...r.next_steps.map((s) => `  ${s}`),
  ];
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('the whole job on your laptop: start the embedded engine, install, generate a day of telemetry with attacks, ingest, correlate, report')
    .option('--events <n>', 'how many events to generate', parseEvents, 20_000)
    .option('--seed <n>', 'generator seed (the same seed gives the same telemetry)', parseSeed, 1)
    .option('--port <port>', 'HTTP port of the embedded engine', parsePort, 9200)
    .option('--keep-running', 'leave the engine running afterwards, to explore', false)
    .option('--out <dir>', 'where the telemetry, ground truth and report go', 'cryptochannel-demo')
    .action(async (opts: { events: number; seed: number; port: number; keepRunning: boolean; out: string }, cmd: Command) => {
      const ctx = contextFor(cmd);
      const result = await runDemo({
        home: ctx.home,
        port: opts.port,
        events: opts.events,
        seed: opts.seed,
        outDir: path.resolve(opts.out),
        keepRunning: opts.keepRunning,
        packageVersion: PACKAGE_VERSION,
        env: ctx.env,
        javaHome: ctx.env.JAVA_HOME,
        generate: generateTelemetry,
        progress: (e) => ctx.out.progress(e),
      });
      ctx.out.result(result, renderDemo);
      if (!result.detection.all_found || result.detection.benign_host_alerts > 0) process.exitCode = 1;
    });
}
