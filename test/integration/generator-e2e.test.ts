/**
 * The generator end to end, as the demo runs it: `cryptochannel generate` a small day → every file
 * through `cryptochannel ingest` (nothing rejected or dead-lettered) → `correlate backtest` over the
 * period with the ground truth's tuning added to the live one → every attack found, no alert that is
 * not an attack's (so none on a benign host). The matching is the shared contract's
 * (src/demo/evaluate.ts): same analytic, an alert host name/ip among the attack's hosts, and the
 * alert's time within [start − 2m, end + 15m].
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect, type ClusterClient } from '../../src/cluster';
import type { GeneratedTelemetry, GroundTruth, GroundTruthAttack } from '../../src/generator';
import { cleanup } from './correlator-support';
import { runCli } from './support/cli';
import { testEngineLabel, testUrl } from './support/engine-env';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-gen-e2e-'));
const namespace = `cctestgen${randomBytes(3).toString('hex')}`;

interface BacktestAlert {
  analytic: string;
  timestamp: string;
  host?: { name?: string | string[]; hostname?: string; ip?: string | string[] };
  summary: string;
}

function alertHosts(a: BacktestAlert): string[] {
  const h = a.host ?? {};
  return [h.name, h.hostname, h.ip].flat().filter((x): x is string => typeof x === 'string');
}

function matches(alert: BacktestAlert, attack: GroundTruthAttack): boolean {
  const t = Date.parse(alert.timestamp);
  return (
    alert.analytic === attack.analytic &&
    alertHosts(alert).some((h) => attack.hosts.includes(h)) &&
    t >= Date.parse(attack.start) - 2 * 60_000 &&
    t <= Date.parse(attack.end) + 15 * 60_000
  );
}

describe(`cryptochannel generate → ingest → correlate backtest on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  beforeAll(async () => {
    client = await connect({ url: testUrl() });
  });
  afterAll(async () => {
    await cleanup(client, namespace);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a generated day: every file ingests cleanly, every attack is found and nothing else alerts', async () => {
    const gen = await runCli(['--json', 'generate', '--events', '2000', '--seed', '42', '--start', '2025-12-01T00:00:00Z', '--out', dir]);
    expect([gen.code, gen.stderr.includes('error:')]).toEqual([0, false]);
    const generated = JSON.parse(gen.stdout) as GeneratedTelemetry;
    expect(generated.files.reduce((n, f) => n + f.events, 0)).toBe(2000);

    for (const file of generated.files) {
      const ingest = await runCli(['--url', testUrl(), '--json', 'ingest', '--source', file.source, '--namespace', namespace, file.path]);
      expect([file.source, ingest.code]).toEqual([file.source, 0]);
      expect([file.source, JSON.parse(ingest.stdout)]).toMatchObject([file.source, { read: file.events, indexed: file.events, deadlettered: 0, rejected: 0 }]);
    }

    const truth = JSON.parse(readFileSync(generated.groundTruthPath, 'utf8')) as GroundTruth;
    const live = await runCli(['--url', testUrl(), '--json', 'tune', 'get', 'BaselineMgmtHosts']);
    const baseline = (JSON.parse(live.stdout) as { value: string[] }).value;
    const tuned = JSON.stringify([...new Set([...baseline, ...truth.tuning.BaselineMgmtHosts])]);
    const from = new Date(Date.parse(truth.start) - 3_600_000).toISOString();
    const to = new Date(Date.parse(truth.end) + 3_600_000).toISOString();
    const bt = await runCli(['--url', testUrl(), '--json', 'correlate', 'backtest', '--from', from, '--to', to, '--namespace', namespace, '--set', `BaselineMgmtHosts=${tuned}`, '--log-level', 'warn']);
    expect(bt.code).toBe(0);
    const summary = JSON.parse(bt.stdout) as { status: string; events_read: number; skipped_malformed: number; alerts: BacktestAlert[] };
    expect(summary).toMatchObject({ status: 'ok', events_read: 2000, skipped_malformed: 0 });

    const found = new Set<string>();
    const falseAlerts: string[] = [];
    for (const alert of summary.alerts) {
      const attack = truth.attacks.find((a) => matches(alert, a));
      if (attack) found.add(attack.id);
      else falseAlerts.push(`${alert.analytic} ${alertHosts(alert).join(',')} ${alert.timestamp}: ${alert.summary}`);
    }
    expect(truth.attacks.filter((a) => !found.has(a.id)).map((a) => `${a.id} ${a.analytic}/${a.scenario}`)).toEqual([]);
    expect(falseAlerts).toEqual([]);
    const benign = new Set(truth.benign_hosts);
    expect(summary.alerts.filter((a) => alertHosts(a).some((h) => benign.has(h)))).toEqual([]);
  });
});
