/**
 * End to end with the real analytics, as a user runs it: raw source files → `cryptochannel ingest`
 * → `cryptochannel correlate --once` → `cryptochannel alerts --json`, one scenario per analytic and a
 * benign-only day that must raise no alert.
 *
 * The scenarios are the analytics' own raw golden inputs, test/fixtures/correlator/<an>/raw/
 * {malicious,benign}.json ({"description", "events": [{"id", "source", "raw"}]}, the format of
 * test/fixtures/correlator/an1500/normalise.cjs), so this test checks that the real pipelines and
 * the runtime reproduce, from raw files, what the golden tests expect from normalised events:
 * the same analytics with the same reasons (threat-intel reasons aside: here the real SSLBL seed
 * is loaded, there a fake lookup). Every alert's evidence must resolve to stored events.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ANALYTICS } from '../../src/correlator/types';
import { useTestEngine, writeRawFiles, type RawScenarioEvent } from './correlator-support';
import { runCli } from './support/cli';
import { testEngineLabel, testUrl } from './support/engine-env';

const FIXTURES = path.resolve(__dirname, '../fixtures/correlator');
/** The vCenter of the ESXi benign day (test/fixtures/correlator/an1499/raw/benign.json). */
const VCENTER = 'vcsa01.corp.local';
const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-e2e-'));

interface RawScenario {
  description: string;
  events: RawScenarioEvent[];
}

interface Expected {
  analytic: string;
  reasons: Array<{ name: string }>;
}

function scenario(analytic: string, name: string): RawScenario | undefined {
  const file = path.join(FIXTURES, analytic.toLowerCase(), 'raw', `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RawScenario) : undefined;
}

const reasonNames = (reasons: Array<{ name: string }>) => reasons.map((r) => r.name).filter((n) => !n.startsWith('threat_intel')).sort();

describe(`raw files → ingest → correlate → alerts with the real analytics on ${testEngineLabel()}`, () => {
  const engine = useTestEngine();

  async function ingestAndCorrelate(events: RawScenario['events'], tag: string): Promise<{ namespace: string; alerts: Array<Record<string, any>>; summary: Record<string, any> }> {
    const namespace = engine.namespace(`ccteste2e${tag}`);
    for (const { source, path: file, count } of writeRawFiles(dir, events, namespace)) {
      const ingest = await runCli(['--url', testUrl(), '--json', 'ingest', '--source', source, '--namespace', namespace, file]);
      expect([source, ingest.code, ingest.stderr.includes('error:')]).toEqual([source, 0, false]);
      expect([source, JSON.parse(ingest.stdout)]).toMatchObject([source, { read: count, indexed: count, deadlettered: 0, rejected: 0 }]);
    }
    const correlate = await runCli(['--url', testUrl(), '--json', 'correlate', '--once', '--namespace', namespace]);
    expect(correlate.code).toBe(0);
    const summary = JSON.parse(correlate.stdout) as Record<string, any>;
    expect(summary).toMatchObject({ status: 'ok', skipped_malformed: 0, write_failures: 0 });
    expect(summary.events_read).toBe(events.length);
    const listed = await runCli(['--url', testUrl(), '--json', 'alerts', '--namespace', namespace]);
    expect(listed.code).toBe(0);
    return { namespace, alerts: JSON.parse(listed.stdout) as Array<Record<string, any>>, summary };
  }

  it.each([...ANALYTICS])('%s: the malicious scenario raises the alerts the golden test expects', async (analytic) => {
    const raw = scenario(analytic, 'malicious');
    if (!raw) throw new Error(`no raw scenario at test/fixtures/correlator/${analytic.toLowerCase()}/raw/malicious.json: the ${analytic} golden tests must keep their raw inputs there`);
    const { alerts, summary } = await ingestAndCorrelate(raw.events, analytic.toLowerCase());
    const mine = alerts.filter((a) => a.cryptochannel.alert.analytic === analytic);
    expect(mine.length).toBeGreaterThan(0);
    expect(summary.alerts_written).toBe(alerts.length);

    const expectedFile = path.join(FIXTURES, analytic.toLowerCase(), 'malicious.expected.json');
    if (existsSync(expectedFile)) {
      const expected = (JSON.parse(readFileSync(expectedFile, 'utf8')) as Expected[]).filter((e) => e.analytic === analytic);
      expect(mine.map((a) => reasonNames(a.cryptochannel.alert.reasons)).sort()).toEqual(expected.map((e) => reasonNames(e.reasons)).sort());
    }
    for (const a of mine) {
      expect(a.cryptochannel.alert.score).toBeGreaterThanOrEqual(a.cryptochannel.alert.score_threshold);
      expect(a.event.kind).toBe('alert');
      expect(a.threat.technique.subtechnique.id).toEqual(['T1573.002']);
      // Every piece of evidence is a stored event of this scenario.
      const evidence = a.cryptochannel.alert.evidence as Array<{ index: string; id: string }>;
      const found = await engine.client.request<{ docs: Array<{ found: boolean }> }>({ method: 'POST', path: '/_mget', body: { docs: evidence.map((e) => ({ _index: e.index, _id: e.id })) }, idempotent: true });
      expect(found.body.docs.every((d) => d.found)).toBe(true);
    }
  });

  it('a benign-only day (every analytic’s benign look-alikes together) raises no alert', async () => {
    const present = ANALYTICS.map((a) => ({ analytic: a, raw: scenario(a, 'benign') }));
    expect(present.filter((p) => !p.raw).map((p) => p.analytic)).toEqual([]);
    const events = present.flatMap((p) => p.raw!.events.map((e) => ({ ...e, id: `${p.analytic}-${e.id}` })));
    // design.md: hostd talking to its vCenter is benign once the vCenter is in BaselineMgmtHosts. The
    // day's vCenter is added first, with tune set, as its operator would (and taken out afterwards).
    const get = await runCli(['--url', testUrl(), '--json', 'tune', 'get', 'BaselineMgmtHosts']);
    const baseline = (JSON.parse(get.stdout) as { value: string[] }).value;
    const tuned = await runCli(['--url', testUrl(), 'tune', 'set', 'BaselineMgmtHosts', JSON.stringify([...new Set([...baseline, VCENTER])])]);
    expect(tuned.code).toBe(0);
    try {
      const { alerts, summary } = await ingestAndCorrelate(events, 'benign');
      expect(alerts.map((a) => `${a.cryptochannel.alert.analytic}: ${a.message}`)).toEqual([]);
      expect(summary.alerts_written).toBe(0);
    } finally {
      await runCli(['--url', testUrl(), 'tune', 'set', 'BaselineMgmtHosts', JSON.stringify(baseline)]);
    }
  });
});
