/**
 * Runs the analytics over events in time order with memory bounded by the correlation window: the
 * buffer holds only events young enough to join a later one (window + clock skew), and a finding is
 * emitted once, when the watermark passes its newest evidence. Pure over its inputs.
 */
import { buildAlert, type AlertContext, type AlertDocument } from './alert';
import { durationMs } from './fields';
import { score } from './scoring';
import type { AnalyticFn, AnalyticId, CorrelationContext, SourceEvent } from './types';

/** Endpoint and sensor clocks disagree: joins across them allow this much. */
export const CLOCK_SKEW_MS = 120_000;

export interface CorrelatorStats {
  events: number;
  findings: number;
  alerts: number;
  belowThreshold: number;
  /** Largest number of events held at once: the memory bound, measured. */
  peakBuffered: number;
}

export class SlidingCorrelator {
  private buffer: SourceEvent[] = [];
  private emitted = new Map<string, number>();
  private readonly windowMs: number;
  readonly stats: CorrelatorStats = { events: 0, findings: 0, alerts: 0, belowThreshold: 0, peakBuffered: 0 };

  constructor(
    private readonly analytics: Partial<Record<AnalyticId, AnalyticFn>>,
    private readonly ctx: CorrelationContext,
    private readonly alertCtx: AlertContext,
    /** Findings whose newest evidence is older than this were a previous run's to emit. */
    private emitFrom: number,
  ) {
    this.windowMs = durationMs(ctx.tunables.CorrelationWindow) + CLOCK_SKEW_MS;
  }

  /** Events must come in time order (the reader sorts by @timestamp). */
  push(events: SourceEvent[]): void {
    for (const e of events) this.buffer.push(e);
    this.stats.events += events.length;
    this.stats.peakBuffered = Math.max(this.stats.peakBuffered, this.buffer.length);
  }

  /**
   * Everything before `watermark` has been pushed: emit the alerts whose newest evidence lies in
   * [emitFrom, watermark), then forget what can no longer join anything newer.
   */
  advance(watermark: number): AlertDocument[] {
    const out: AlertDocument[] = [];
    const threshold = this.ctx.tunables.ScoreThreshold;
    for (const [id, fn] of Object.entries(this.analytics) as Array<[AnalyticId, AnalyticFn]>) {
      for (const finding of fn(this.buffer, this.ctx)) {
        if (finding.analytic !== id || finding.evidence.length === 0) continue;
        const newest = Math.max(...finding.evidence.map((e) => e.time));
        if (newest < this.emitFrom || newest >= watermark) continue;
        const keyed = finding.key !== undefined ? `${id}\u0000key\u0000${finding.key}` : undefined;
        if (keyed && this.emitted.has(keyed)) continue;
        const scored = score(finding, this.ctx);
        const alert = buildAlert(scored, this.alertCtx);
        if (this.emitted.has(alert._id)) continue;
        this.emitted.set(alert._id, newest);
        this.stats.findings += 1;
        if (scored.score >= threshold) {
          // Only an alert holds the key: a story first seen below the threshold may still alert when
          // a later record lifts it over, rather than be silenced by its own weaker beginning.
          if (keyed) this.emitted.set(keyed, newest);
          out.push(alert);
          this.stats.alerts += 1;
        } else {
          this.stats.belowThreshold += 1;
        }
      }
    }
    this.emitFrom = Math.max(this.emitFrom, watermark);
    const horizon = watermark - this.windowMs;
    this.buffer = this.buffer.filter((e) => e.time >= horizon);
    // An alert whose newest evidence has left the window cannot be found again: forget its id too.
    for (const [id, newest] of this.emitted) if (newest < horizon) this.emitted.delete(id);
    return out;
  }
}

/** One-shot helper for tests and backtests over an in-memory list. */
export function correlateAll(events: SourceEvent[], analytics: Partial<Record<AnalyticId, AnalyticFn>>, ctx: CorrelationContext, alertCtx: AlertContext): AlertDocument[] {
  const sorted = [...events].sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
  const c = new SlidingCorrelator(analytics, ctx, alertCtx, Number.NEGATIVE_INFINITY);
  c.push(sorted);
  return c.advance(Number.POSITIVE_INFINITY);
}
