/**
 * The demo's steps on the real engine with the analytics' raw golden scenarios (the generator's
 * templates come from the same files): raw files → ingestFiles → correlateWindow → readAlerts →
 * evaluate against a ground truth → the HTML report. The ground truth of a scenario is what its
 * golden test expects (<an>/malicious.expected.json: the analytic, host and time of each alert).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setLiveTunable } from '../../src/apply/tune';
import { loadContent } from '../../src/content';
import { ANALYTICS } from '../../src/correlator/types';
import { evaluate } from '../../src/demo/evaluate';
import { renderReport } from '../../src/demo/report';
import { applyTuning, correlateWindow, ingestFiles, readAlerts } from '../../src/demo/steps';
import type { AttackTruth } from '../../src/demo/types';
import { useTestEngine, writeRawFiles, type RawScenarioEvent } from './correlator-support';
import { testEngineLabel } from './support/engine-env';

const FIXTURES = path.resolve(__dirname, '../fixtures/correlator');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-demo-'));
const content = loadContent();

interface RawScenario {
  events: RawScenarioEvent[];
}
interface Expected {
  id: string;
  analytic: string;
  '@timestamp': string;
  host?: { name?: string; ip?: string[] };
}

function load<T>(analytic: string, file: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, analytic.toLowerCase(), file), 'utf8')) as T;
}

/** The expected alerts of a scenario as attacks: the host the alert names, the time of its first evidence. */
function truthOf(analytic: string, expected: Expected[]): AttackTruth[] {
  return expected.map((e, i) => ({
    id: `${analytic}-${i}`,
    analytic: e.analytic,
    scenario: 'malicious',
    evasive: false,
    hosts: [e.host?.name, ...(e.host?.ip ?? [])].filter((h): h is string => !!h),
    start: e['@timestamp'],
    end: e['@timestamp'],
  }));
}

describe(`demo steps on ${testEngineLabel()}`, () => {
  const engine = useTestEngine();

  async function run(analytic: string, scenario: RawScenario) {
    const namespace = engine.namespace(`cctestdemo${analytic.toLowerCase()}`);
    const ingest = await ingestFiles(engine.client, writeRawFiles(dir, scenario.events, namespace), namespace);
    expect(ingest.files.reduce((n, f) => n + f.indexed, 0)).toBe(scenario.events.length);
    expect(ingest.rejections).toEqual([]);
    const summary = await correlateWindow(engine.client, content, { namespace, from: Date.parse('2025-01-01T00:00:00Z'), to: Date.parse('2026-12-31T00:00:00Z'), packageVersion: 'test' });
    expect(summary).toMatchObject({ status: 'ok', skipped_malformed: 0, write_failures: 0, events_read: scenario.events.length });
    return { namespace, summary, ...(await readAlerts(engine.client, namespace)) };
  }

  it.each([...ANALYTICS])('%s: every expected alert is found, nothing else alerts but AN1500 on the same session, and the report shows each alert with its evidence', async (analytic) => {
    const { docs, rows } = await run(analytic, load<RawScenario>(analytic, 'raw/malicious.json'));
    const attacks = truthOf(analytic, load<Expected[]>(analytic, 'malicious.expected.json'));
    const result = evaluate({ attacks, benign_hosts: [] }, docs);
    expect(result.missed.map((a) => a.id)).toEqual([]);
    expect(result.found.length).toBe(attacks.length);
    // The golden test runs its own analytic only; on the real run the network analytic (AN1500) may
    // also flag the same session of an endpoint scenario. Anything else is a false alert.
    const attackHosts = new Set(attacks.flatMap((a) => a.hosts.map((h) => h.toLowerCase())));
    expect(result.falseAlerts.filter((f) => !(f.analytic === 'AN1500' && f.hosts.some((h) => attackHosts.has(h))))).toEqual([]);
    // And a ground truth that names that session for AN1500 too has no false alert left.
    const companions = result.falseAlerts.map((f, i) => ({ id: `${analytic}-net-${i}`, analytic: 'AN1500', scenario: 'malicious', evasive: false, hosts: f.hosts, start: f.timestamp, end: f.timestamp }));
    expect(evaluate({ attacks: [...attacks, ...companions], benign_hosts: [] }, docs).falseAlerts).toEqual([]);

    // Each alert's evidence chain resolved to stored events, described in a line.
    for (const r of rows) {
      expect(r.evidence.length).toBeGreaterThan(0);
      expect(r.evidence.every((e) => typeof e.description === 'string' && e.description.length > 0)).toBe(true);
      expect(r.top_reasons.length).toBeGreaterThan(0);
    }
    const html = renderReport({ generatedAt: new Date().toISOString(), alerts: rows, evaluation: result });
    expect(html.match(/<details class="alert"/g)?.length).toBe(rows.length);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    mkdirSync('test-results', { recursive: true });
    writeFileSync(path.join('test-results', `demo-report-${analytic.toLowerCase()}.html`), html);
  });

  it('the ground truth’s tuning extends the live list (then the list is put back)', async () => {
    const ctx = { client: engine.client, content, packageVersion: 'test', now: new Date().toISOString() };
    const host = `vcsa-${randomBytes(3).toString('hex')}.demo.test`;
    const [change] = await applyTuning(ctx, { BaselineMgmtHosts: [host] });
    try {
      expect(change).toMatchObject({ key: 'BaselineMgmtHosts', changed: true });
      expect(change!.value).toEqual([...(change!.previous as string[]), host]);
      // Asking again changes nothing.
      const [again] = await applyTuning(ctx, { BaselineMgmtHosts: [host] });
      expect(again!.changed).toBe(false);
    } finally {
      await setLiveTunable(ctx, 'BaselineMgmtHosts', change!.previous, 'jest');
    }
  });
});
