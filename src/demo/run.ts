/**
 * `cryptochannel demo` end to end: the embedded engine (started, or reused when this tool already
 * runs one on the port), the content installed, a day of generated telemetry, the ground truth's
 * tuning, ingest, one correlator run over the period, the alerts against the ground truth, and the
 * HTML report. The engine is stopped at the end (even on failure) unless keepRunning, and only when
 * the demo started it (an engine it found running is left as it was).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from '../cluster';
import { ensureInstalled } from '../apply/deploy';
import { loadContent } from '../content';
import { startEngine, stopEngine, type ProgressListener } from '../engine';
import type { RunSummary } from '../correlator/run';
import { evaluate, type Evaluation } from './evaluate';
import { renderReport } from './report';
import type { AlertRow } from './rows';
import { applyTuning, correlateWindow, ingestFiles, readAlerts, resetNamespace, type FileIngest, type TuningChange } from './steps';
import type { Generate, GroundTruth } from './types';

export const DEMO_NAMESPACE = 'demo';

export interface DemoOptions {
  home: string;
  port: number;
  events: number;
  seed: number;
  outDir: string;
  keepRunning: boolean;
  packageVersion: string;
  env: Record<string, string | undefined>;
  javaHome?: string;
  heap?: string;
  startTimeoutMs?: number;
  generate: Generate;
  progress: ProgressListener;
  now?: () => Date;
}

export interface DemoResult {
  engine: { url: string; port: number; version: string; started: boolean; stopped: boolean; log: string };
  install: { created: number; updated: number; unchanged: number };
  namespace: string;
  telemetry: { dir: string; events: number; seed: number; start: string; end: string; attacks: number; ground_truth: string };
  tuning: TuningChange[];
  ingest: { files: FileIngest[]; read: number; indexed: number; deadlettered: number; rejected: number };
  correlator: Pick<RunSummary, 'run_id' | 'status' | 'window' | 'events_read' | 'findings' | 'alerts_written' | 'below_threshold' | 'duration_ms'>;
  alerts: AlertRow[];
  detection: Evaluation & { attacks: number; all_found: boolean; benign_host_alerts: number };
  report: string;
  next_steps: string[];
}

/** What to do after the demo: the same commands against a real cluster and Kibana. */
export function nextSteps(url: string, keepRunning: boolean, port: number): string[] {
  return [
    ...(keepRunning
      ? [
        `the engine is still running at ${url}: cryptochannel --url ${url} alerts --namespace ${DEMO_NAMESPACE}`,
        `stop it with: cryptochannel engine stop --port ${port}`,
      ]
      : []),
    'on your own cluster: export CRYPTOCHANNEL_URL=https://your-cluster:9200 CRYPTOCHANNEL_API_KEY=... (or --url/--api-key, --username/--password, --ca)',
    'then: cryptochannel check && cryptochannel plan && cryptochannel apply --yes',
    'with Kibana (rules, exception lists, dashboards): add --kibana-url https://your-kibana:5601 (env CRYPTOCHANNEL_KIBANA_URL) to plan/apply',
    'send your sources: cryptochannel ingest --source <sysmon|capi2|auditd|tetragon|unifiedlog|esxi|zeek|suricata|netflow> FILE...',
    'run the correlator as a service: cryptochannel correlate --every 60s; list alerts: cryptochannel alerts --since 24h',
  ];
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const now = o.now ?? (() => new Date());
  const progress = o.progress;
  const engine = await startEngine({ home: o.home, flavor: 'opensearch', port: o.port, heap: o.heap ?? '1g', timeoutMs: o.startTimeoutMs ?? 180_000, javaHome: o.javaHome, env: o.env, progress });
  const started = !engine.alreadyRunning;
  try {
    const client = await connect({ url: engine.url });
    try {
      const content = loadContent();
      progress({ phase: 'apply', message: 'installing cryptochannel content (templates, pipelines, scripts, tunables, threat intel)', elapsedMs: 0 });
      const ctx = { client, content, packageVersion: o.packageVersion, now: now().toISOString() };
      const installed = await ensureInstalled(ctx);
      await resetNamespace(client, DEMO_NAMESPACE);

      const dataDir = path.join(o.outDir, 'telemetry');
      await mkdir(dataDir, { recursive: true });
      progress({ phase: 'generate', message: `generating ${o.events} events (seed ${o.seed}) into ${dataDir}`, elapsedMs: 0 });
      let lastShown = 0;
      const generated = await o.generate({
        events: o.events,
        seed: o.seed,
        days: 1,
        outDir: dataDir,
        onProgress: (written) => {
          if (written - lastShown < Math.max(1000, o.events / 20)) return;
          lastShown = written;
          progress({ phase: 'generate', message: `generated ${written} of ${o.events} events`, elapsedMs: 0 });
        },
      });
      const truth = JSON.parse(await readFile(generated.groundTruthPath, 'utf8')) as GroundTruth;
      const tuning = await applyTuning(ctx, truth.tuning);

      const ingest = await ingestFiles(client, generated.files, DEMO_NAMESPACE, (file, c) => progress({ phase: 'ingest', message: `ingesting ${path.basename(file)}: ${c.read} read, ${c.indexed} indexed`, elapsedMs: 0 }));
      const totals = { read: 0, indexed: 0, deadlettered: 0, rejected: 0 };
      for (const f of ingest.files) for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += f[k];

      progress({ phase: 'correlate', message: `correlating ${truth.start} .. ${truth.end}`, elapsedMs: 0 });
      // The whole period, plus a minute so that the last events' alerts are emitted too.
      const summary = await correlateWindow(client, content, { namespace: DEMO_NAMESPACE, from: Date.parse(truth.start), to: Date.parse(truth.end) + 60_000, packageVersion: o.packageVersion });
      const { docs, rows } = await readAlerts(client, DEMO_NAMESPACE);
      const evaluation = evaluate(truth, docs);

      const reportPath = path.resolve(o.outDir, 'report.html');
      await writeFile(
        reportPath,
        renderReport({
          generatedAt: now().toISOString(),
          period: { start: truth.start, end: truth.end },
          alerts: rows,
          evaluation,
          facts: [
            ['engine', `OpenSearch ${engine.version} at ${engine.url}`],
            ['telemetry', `${truth.events} events, seed ${truth.seed}, ${generated.files.length} source file(s), ${truth.attacks.length} attack(s)`],
            ['ingest', `${totals.indexed} indexed, ${totals.deadlettered} dead-lettered, ${totals.rejected} rejected`],
            ['correlator', `run ${summary.run_id}: ${summary.events_read} events read, ${summary.findings} candidate(s), ${summary.alerts_written} alert(s) written`],
          ],
        }),
      );
      const keep = o.keepRunning || !started;
      return {
        engine: { url: engine.url, port: engine.port, version: engine.version, started, stopped: started && !o.keepRunning, log: engine.log },
        install: {
          created: installed.results.filter((r) => r.status === 'done' && r.action === 'create').length,
          updated: installed.results.filter((r) => r.status === 'done' && r.action !== 'create').length,
          unchanged: installed.results.filter((r) => r.status === 'unchanged').length,
        },
        namespace: DEMO_NAMESPACE,
        telemetry: { dir: dataDir, events: truth.events, seed: truth.seed, start: truth.start, end: truth.end, attacks: truth.attacks.length, ground_truth: generated.groundTruthPath },
        tuning,
        ingest: { files: ingest.files, ...totals },
        correlator: { run_id: summary.run_id, status: summary.status, window: summary.window, events_read: summary.events_read, findings: summary.findings, alerts_written: summary.alerts_written, below_threshold: summary.below_threshold, duration_ms: summary.duration_ms },
        alerts: rows,
        detection: {
          ...evaluation,
          attacks: truth.attacks.length,
          all_found: evaluation.missed.length === 0,
          benign_host_alerts: evaluation.falseAlerts.filter((f) => f.benignHost).length,
        },
        report: reportPath,
        next_steps: nextSteps(engine.url, keep, engine.port),
      };
    } finally {
      await client.close();
    }
  } finally {
    if (started && !o.keepRunning) {
      await stopEngine(o.home, o.port, false, progress);
    }
  }
}
