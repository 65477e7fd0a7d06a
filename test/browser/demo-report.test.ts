/**
 * The demo's HTML report in a real browser: Debian's headless Chromium driven by playwright-core
 * opens a report of the analytics' golden alerts (their real reasons and evidence), and the charts,
 * the detection table and every alert's reasons and evidence chain must render with data, the
 * legend must filter, and the console must stay free of errors. A screenshot is kept in
 * test-results/ as an artifact.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { evaluate } from '../../src/demo/evaluate';
import { renderReport } from '../../src/demo/report';
import { alertRow, type AlertRow } from '../../src/demo/rows';
import type { AlertDoc, AttackTruth } from '../../src/demo/types';

const CHROMIUM = process.env.CRYPTOCHANNEL_CHROMIUM ?? '/usr/bin/chromium';
const FIXTURES = path.resolve(__dirname, '../fixtures/correlator');
const RESULTS = path.resolve(__dirname, '../../test-results');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Expected {
  id: string;
  analytic: string;
  score: number;
  '@timestamp': string;
  summary: string;
  reasons: unknown[];
  evidence: string[];
  host?: { name?: string; ip?: string[] };
  process?: unknown;
  destination?: unknown;
}

/** Every golden alert of every analytic, as the correlator stores alerts (src/correlator/alert.ts). */
function goldenAlerts(): Array<{ doc: AlertDoc; scenario: string }> {
  const out: Array<{ doc: AlertDoc; scenario: string }> = [];
  for (const an of readdirSync(FIXTURES).sort()) {
    for (const file of readdirSync(path.join(FIXTURES, an)).filter((f) => f.endsWith('.expected.json')).sort()) {
      for (const e of JSON.parse(readFileSync(path.join(FIXTURES, an, file), 'utf8')) as Expected[]) {
        const evidence = e.evidence.map((line) => {
          const [ref = '', action] = line.split(' ');
          const slash = ref.indexOf('/');
          return { index: ref.slice(0, slash), id: ref.slice(slash + 1), timestamp: e['@timestamp'], action, dataset: `cryptochannel.${ref.slice(20, ref.indexOf('-', 20))}` };
        });
        out.push({
          scenario: file.replace('.expected.json', ''),
          doc: { '@timestamp': e['@timestamp'], message: e.summary, host: e.host, process: e.process, destination: e.destination, cryptochannel: { alert: { id: `${e.id}-${file}`, analytic: e.analytic, score: e.score, score_threshold: 60, reasons: e.reasons, evidence } } },
        });
      }
    }
  }
  return out;
}

describe('the demo report in headless Chromium', () => {
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const problems: string[] = [];
  let rows: AlertRow[];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    const golden = goldenAlerts();
    // The ground truth: each malicious scenario's alerts are attacks; one attack nobody detected shows as missed.
    const attacks: AttackTruth[] = golden
      .filter((g) => g.scenario !== 'benign' && (g.doc.host?.name || g.doc.host?.ip))
      .map((g, i) => ({ id: `attack-${i}`, analytic: String(g.doc.cryptochannel.alert.analytic), scenario: g.scenario, evasive: g.scenario.startsWith('evasive'), hosts: [g.doc.host?.name, ...(g.doc.host?.ip ?? [])].filter(Boolean), start: g.doc['@timestamp'], end: g.doc['@timestamp'] }));
    attacks.push({ id: 'attack-unseen', analytic: 'AN1499', scenario: 'malicious', evasive: false, hosts: ['esx-nowhere.corp.local'], start: '2025-11-28T12:00:00.000Z', end: '2025-11-28T12:05:00.000Z' });
    const docs = golden.map((g) => g.doc);
    rows = docs.map(alertRow).map((r) => ({ ...r, evidence: r.evidence.map((e) => ({ ...e, description: `${e.action ?? ''} event ${e.id}` })) }));
    const html = renderReport({ generatedAt: '2025-11-29T00:00:00.000Z', period: { start: '2025-11-28T00:00:00.000Z', end: '2025-11-29T00:00:00.000Z' }, alerts: rows, evaluation: evaluate({ attacks, benign_hosts: [] }, docs), facts: [['source', 'golden alerts of test/fixtures/correlator']] });
    mkdirSync(RESULTS, { recursive: true });
    const file = path.join(RESULTS, 'demo-report.html');
    writeFileSync(file, html);

    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'cc-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    // Self-contained: nothing but the file itself is requested.
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('draws alerts over time by analytic: a bar per analytic and bucket, the counts adding up to the alerts', async () => {
    const bars = await page.$$eval('#chart-time rect.bar', (els) => els.map((e) => ({ analytic: e.getAttribute('data-analytic'), count: Number(e.getAttribute('data-count')), width: e.getBoundingClientRect().width, height: e.getBoundingClientRect().height })));
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.reduce((n, b) => n + b.count, 0)).toBe(rows.length);
    expect(bars.every((b) => b.width > 0 && b.height > 0)).toBe(true);
    expect(new Set(bars.map((b) => b.analytic))).toEqual(new Set(rows.map((r) => r.analytic)));
  });

  it('draws the score distribution: ten bands whose counts add up to the alerts, with the threshold', async () => {
    const bands = await page.$$eval('#chart-scores rect.band', (els) => els.map((e) => ({ range: e.getAttribute('data-range'), count: Number(e.getAttribute('data-count')), height: e.getBoundingClientRect().height })));
    expect(bands).toHaveLength(10);
    expect(bands.reduce((n, b) => n + b.count, 0)).toBe(rows.length);
    expect(bands.filter((b) => b.count > 0).every((b) => b.height > 0)).toBe(true);
    expect(await page.getAttribute('#score-threshold', 'data-threshold')).toBe('60');
  });

  it('shows the detection result: found attacks, the missed one', async () => {
    expect(Number(await page.textContent('#missed-count'))).toBe(1);
    expect(Number(await page.textContent('#found-count'))).toBeGreaterThan(0);
    expect(await page.$$eval('tr.attack[data-status="missed"] td', (tds) => tds.map((t) => t.textContent))).toContain('attack-unseen');
  });

  it('shows every alert with its reasons and its evidence chain, once expanded', async () => {
    expect(await page.$$eval('details.alert', (els) => els.length)).toBe(rows.length);
    expect(await page.isVisible('details.alert .evidence-item')).toBe(false);
    await page.click('#expand-all');
    const shown = await page.$$eval('details.alert', (els) => els.map((d) => ({
      open: d.hasAttribute('open'),
      reasons: d.querySelectorAll('tr.reason').length,
      evidence: [...d.querySelectorAll('.evidence-item')].filter((li) => li.getBoundingClientRect().height > 0).length,
    })));
    expect(shown.every((s) => s.open)).toBe(true);
    // The report lists alerts oldest first.
    const ordered = [...rows].sort((x, y) => x.time.localeCompare(y.time) || x.id.localeCompare(y.id));
    expect(shown.map((s) => s.reasons)).toEqual(ordered.map((r) => r.reasons.length));
    expect(shown.every((s) => s.reasons > 0)).toBe(true);
    expect(shown.every((s) => s.evidence > 0)).toBe(true);
  });

  it('filters by analytic from the legend', async () => {
    const visible = () => page.$$eval('details.alert', (els) => els.filter((d) => !d.classList.contains('hidden')).map((d) => d.getAttribute('data-analytic')));
    await page.click('.legend button[data-analytic="AN1500"]');
    expect((await visible()).includes('AN1500')).toBe(false);
    expect((await visible()).length).toBe(rows.filter((r) => r.analytic !== 'AN1500').length);
    await page.click('.legend button[data-analytic="AN1500"]');
    expect((await visible()).length).toBe(rows.length);
  });

  it('logs no console error, makes no network request, and leaves a screenshot', async () => {
    await page.screenshot({ path: path.join(RESULTS, 'demo-report.png'), fullPage: true });
    expect(existsSync(path.join(RESULTS, 'demo-report.png'))).toBe(true);
    expect(problems).toEqual([]);
  });
});
