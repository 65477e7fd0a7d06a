/**
 * The golden harness of the endpoint analytics' tests: scenario files of normalised events, the
 * alerts expected from them, a threat-intel lookup over the shipped seed lists, and the projection a
 * reviewer reads. Expected files change only on purpose: CRYPTOCHANNEL_UPDATE_GOLDEN=1 rewrites them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadContent, loadThreatIntelSeed, type Tunables } from '../../../../src/content';
import type { AlertContext, AlertDocument } from '../../../../src/correlator/alert';
import { correlateAll } from '../../../../src/correlator/correlate';
import { intelHit, intelLookup } from '../../../../src/correlator/intel';
import type { AnalyticFn, AnalyticId, CorrelationContext, IntelHit, IntelLookup, SourceEvent } from '../../../../src/correlator/types';

export function goldenHarness(analytic: AnalyticId, fn: AnalyticFn) {
  const FIXTURES = path.join(__dirname, '../../../fixtures/correlator', analytic.toLowerCase());
  const UPDATE = process.env.CRYPTOCHANNEL_UPDATE_GOLDEN === '1';
  const content = loadContent();
  const defaults = content.tunables;
  const alertCtx: AlertContext = { runId: 'golden', packageVersion: 'test', scoreThreshold: defaults.ScoreThreshold, now: '2025-12-01T00:00:00.000Z' };

  /** A threat-intel lookup over the seed lists the deployer loads (abuse.ch SSLBL JA3 and certificate lists). */
  const intel = intelLookup(loadThreatIntelSeed(content.roots.integration).documents.map((d) => intelHit(d.doc)).filter((h): h is IntelHit => h !== undefined));
  const noIntel: IntelLookup = intelLookup([]);

  function ctxWith(over: Partial<Tunables> = {}, lookup: IntelLookup = intel): CorrelationContext {
    return { tunables: { ...defaults, ...over }, intel: lookup };
  }

  function load(scenario: string): SourceEvent[] {
    return readFileSync(path.join(FIXTURES, `${scenario}.events.ndjson`), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { index: string; id: string; doc: Record<string, unknown> })
      .map((x) => ({ index: x.index, id: x.id, time: Date.parse(String(x.doc['@timestamp'])), doc: x.doc }));
  }

  function run(events: SourceEvent[], ctx = ctxWith()): AlertDocument[] {
    return correlateAll(events, { [analytic]: fn }, ctx, { ...alertCtx, scoreThreshold: ctx.tunables.ScoreThreshold });
  }

  /** What a reviewer checks in an alert: everything but the fixed run metadata. */
  function project(alert: AlertDocument): Record<string, unknown> {
    const d = alert.doc as Record<string, any>;
    const a = d.cryptochannel.alert;
    return {
      id: alert._id,
      analytic: a.analytic,
      score: a.score,
      '@timestamp': d['@timestamp'],
      summary: d.message,
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

  function golden(scenario: string, alerts: AlertDocument[]): void {
    const file = path.join(FIXTURES, `${scenario}.expected.json`);
    const actual = JSON.parse(JSON.stringify(alerts.map(project)));
    if (UPDATE) writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
    if (!existsSync(file)) throw new Error(`${file} is missing: run with CRYPTOCHANNEL_UPDATE_GOLDEN=1, then review it`);
    expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  }

  const reasonsOf = (alert: AlertDocument) => (alert.doc.cryptochannel as any).alert.reasons as Array<{ name: string; observed: string; threshold: string; tunable?: string; points: number }>;
  const names = (alert: AlertDocument) => reasonsOf(alert).map((r) => r.name);
  const scoreOf = (alert: AlertDocument) => (alert.doc.cryptochannel as any).alert.score as number;
  const evidenceIds = (alert: AlertDocument) => ((alert.doc.cryptochannel as any).alert.evidence as Array<{ id: string }>).map((e) => e.id);

  return { FIXTURES, content, defaults, alertCtx, intel, noIntel, ctxWith, load, run, project, golden, reasonsOf, names, scoreOf, evidenceIds };
}
