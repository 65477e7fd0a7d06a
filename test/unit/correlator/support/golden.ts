/**
 * The golden harness of the correlator's analytics tests (AN1496-AN1500). A scenario is two files in
 * test/fixtures/correlator/<analytic>/: `<scenario>.events.ndjson`, normalised events (one
 * `{index, id, doc}` per line, what the real ingest pipelines wrote), and `<scenario>.expected.json`,
 * the alerts expected from them as a reviewer reads them. The harness runs the analytic through
 * correlateAll with a fixed alert context and compares.
 *
 * Expected files change only on purpose: CRYPTOCHANNEL_UPDATE_GOLDEN=1 npx jest <test> rewrites them
 * from the actual output; review the diff by eye before keeping it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadContent, loadThreatIntelSeed, type Tunables } from '../../../../src/content';
import type { AlertContext, AlertDocument } from '../../../../src/correlator/alert';
import { correlateAll } from '../../../../src/correlator/correlate';
import { intelHit, intelLookup } from '../../../../src/correlator/intel';
import type { AnalyticFn, AnalyticId, CorrelationContext, IntelHit, IntelLookup, SourceEvent } from '../../../../src/correlator/types';

const content = loadContent();
const defaults: Tunables = content.tunables;

/** An in-memory lookup over the seed lists the deployer loads (abuse.ch SSLBL JA3 and certificate lists). */
const intel: IntelLookup = intelLookup(loadThreatIntelSeed(content.roots.integration).documents.map((d) => intelHit(d.doc)).filter((h): h is IntelHit => h !== undefined));
const noIntel: IntelLookup = intelLookup([]);

/**
 * How each analytic's expected files were written, which the harness must follow to compare with
 * them. The endpoint analytics' files hold the whole alert (reasons with their messages, evidence as
 * `index/id action`, network.*, intel) of scenarios run with the seeded threat intel. The network
 * analytics' files hold a digest (reasons without messages, evidence ids, the community id) of
 * scenarios run without threat intel, which the tests that need it add. Making them one would mean
 * rewriting one set of expected files.
 */
const RECORDED: Record<AnalyticId, { view: 'alert' | 'digest'; intel: IntelLookup }> = {
  AN1496: { view: 'alert', intel },
  AN1497: { view: 'alert', intel },
  AN1498: { view: 'digest', intel: noIntel },
  AN1499: { view: 'digest', intel: noIntel },
  AN1500: { view: 'digest', intel: noIntel },
};

type AlertFields = Record<string, any>;
type Reason = { name: string; observed: string; threshold: string; tunable?: string; points: number; message?: string };

const alertOf = (alert: AlertDocument): AlertFields => (alert.doc as AlertFields).cryptochannel.alert;
const reasonsOf = (alert: AlertDocument): Reason[] => alertOf(alert).reasons ?? [];
const reasonNames = (alert: AlertDocument): string[] => reasonsOf(alert).map((r) => r.name);
const scoreOf = (alert: AlertDocument): number => alertOf(alert).score;
const evidenceIds = (alert: AlertDocument): string[] => (alertOf(alert).evidence as Array<{ id: string }>).map((e) => e.id);

/** What both views open with (in this order, as the files have it). */
function heading(alert: AlertDocument): Record<string, unknown> {
  const a = alertOf(alert);
  return { id: alert._id, analytic: a.analytic, score: a.score, '@timestamp': alert.doc['@timestamp'], summary: alert.doc.message };
}

/** The whole alert but the fixed run metadata. */
function alertView(alert: AlertDocument): Record<string, unknown> {
  const d = alert.doc as AlertFields;
  const a = alertOf(alert);
  return {
    ...heading(alert),
    reasons: a.reasons,
    evidence: a.evidence.map((e: { index: string; id: string; action?: string }) => `${e.index}/${e.id} ${e.action ?? ''}`.trim()),
    host: d.host,
    process: d.process,
    source: d.source,
    destination: d.destination,
    network: d.network,
    tls: d.tls ? { client: d.tls.client, server: { hash: d.tls.server?.hash, issuer: d.tls.server?.issuer, subject: d.tls.server?.subject } } : undefined,
    intel: a.intel,
  };
}

/** A digest for a reviewer: analytic, score, summary, entities, reasons with observed values and thresholds, evidence ids. */
function digestView(alert: AlertDocument): Record<string, unknown> {
  const d = alert.doc as AlertFields;
  const a = alertOf(alert);
  return {
    ...heading(alert),
    host: d.host,
    ...(d.process ? { process: d.process } : {}),
    ...(d.source ? { source: d.source } : {}),
    ...(d.destination ? { destination: d.destination } : {}),
    ...(d.network?.community_id ? { community_id: d.network.community_id } : {}),
    ...(d.tls ? { tls: d.tls } : {}),
    reasons: a.reasons.map((r: Reason) => ({ name: r.name, points: r.points, observed: r.observed, threshold: r.threshold, ...(r.tunable ? { tunable: r.tunable } : {}) })),
    evidence: evidenceIds(alert),
  };
}

/** The harness of one analytic: its scenarios, a correlation context to vary, and runs of it alone. */
export function goldenHarness(analytic: AnalyticId, fn: AnalyticFn) {
  const FIXTURES = path.join(__dirname, '../../../fixtures/correlator', analytic.toLowerCase());
  const recorded = RECORDED[analytic];
  // event.created of the alerts: in no expected file, but fixed so that whole alerts compare equal.
  const alertCtx: AlertContext = { runId: 'golden', packageVersion: 'test', scoreThreshold: defaults.ScoreThreshold, now: '2025-11-29T00:00:00.000Z' };

  /** The default tunables with `over` on top (a copy: a test cannot change another's defaults), and a threat-intel lookup. */
  function ctxWith(over: Partial<Tunables> = {}, lookup: IntelLookup = recorded.intel): CorrelationContext {
    return { tunables: { ...structuredClone(defaults), ...over }, intel: lookup };
  }

  const EVENTS = '.events.ndjson';

  /** Every scenario the analytic's fixture folder holds events for, sorted. */
  function scenarioFiles(): string[] {
    return readdirSync(FIXTURES)
      .filter((f) => f.endsWith(EVENTS))
      .map((f) => f.slice(0, -EVENTS.length))
      .sort();
  }

  function load(scenario: string): SourceEvent[] {
    const file = path.join(FIXTURES, `${scenario}${EVENTS}`);
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((line) => {
        const { index, id, doc } = JSON.parse(line) as { index: string; id: string; doc: Record<string, unknown> };
        const time = Date.parse(String(doc['@timestamp']));
        if (!Number.isFinite(time)) throw new Error(`${file}: ${id} has no @timestamp`);
        return { index, id, time, doc };
      });
  }

  /** The analytic's findings, before scoring and the threshold. */
  function findings(events: SourceEvent[], ctx: CorrelationContext = ctxWith()) {
    return fn(events, ctx);
  }

  /** The alerts the correlator writes for the analytic alone, at the context's ScoreThreshold. */
  function run(events: SourceEvent[], ctx: CorrelationContext = ctxWith()): AlertDocument[] {
    return correlateAll(events, { [analytic]: fn }, ctx, { ...alertCtx, scoreThreshold: ctx.tunables.ScoreThreshold });
  }

  /** The alert as this analytic's expected files hold it. */
  const project = recorded.view === 'alert' ? alertView : digestView;

  /** Compares with the expected file, or rewrites it when CRYPTOCHANNEL_UPDATE_GOLDEN=1. */
  function golden(scenario: string, alerts: AlertDocument[]): void {
    const file = path.join(FIXTURES, `${scenario}.expected.json`);
    // Through JSON, as the file is: undefined fields go, and what is compared is what would be written.
    const actual = JSON.parse(JSON.stringify(alerts.map(project).sort((a, b) => String(a.id).localeCompare(String(b.id)))));
    if (process.env.CRYPTOCHANNEL_UPDATE_GOLDEN === '1') writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
    if (!existsSync(file)) throw new Error(`${file} is missing: run with CRYPTOCHANNEL_UPDATE_GOLDEN=1, then review it`);
    expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  }

  return { FIXTURES, content, defaults, alertCtx, intel, noIntel, ctxWith, scenarioFiles, load, findings, run, project, golden, reasonsOf, reasonNames, scoreOf, evidenceIds };
}
