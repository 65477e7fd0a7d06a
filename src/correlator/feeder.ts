/**
 * Feeds a SlidingCorrelator on a fixed time grid, so that what it emits depends on the events only,
 * not on page sizes or on where one run stopped and the next began; and lets the emit watermark lag
 * behind the events read, so that an alert is written once, with all of its evidence.
 *
 * Grid. The correlator emits, at advance(w), the findings its analytics see in the buffer. If `w`
 * were "the last event of this page", a finding could be emitted with two events by one run and
 * with three by another (a third event arriving in the same page), giving two different alert ids.
 * So events are pushed a whole grid step at a time (multiples of `stepMs` since the epoch), and
 * advance() is called at every grid point while the buffer holds anything (an empty buffer can emit
 * nothing, so idle stretches are jumped over).
 *
 * Lag. Read position G, emit watermark G - lag: a finding is emitted only when every event within
 * the lag after its newest evidence has been pushed too. With lag = the correlator's window
 * (CorrelationWindow + clock skew), no later event can still join it, so each incident yields one
 * alert whose evidence is complete (what `correlateAll` over the whole day would emit), at the cost
 * of that much latency. With lag 0 alerts come as soon as the step closes, and an incident whose
 * evidence trickles in yields one alert per stage (the later ones with more evidence).
 *
 * Checkpoints are emit watermarks (grid points). A run resuming at checkpoint C reads from
 * C - window, and its buffer at every later grid point is the one an uninterrupted run would have had.
 */
import type { AlertDocument } from './alert';
import type { SourceEvent } from './types';

export interface Advancing {
  push(events: SourceEvent[]): void;
  advance(watermark: number): AlertDocument[];
}

export function gridFloor(time: number, stepMs: number): number {
  return Math.floor(time / stepMs) * stepMs;
}

export function gridCeil(time: number, stepMs: number): number {
  return Math.ceil(time / stepMs) * stepMs;
}

/** Same-millisecond events in a stable order, whatever the engine's tiebreaker. */
function byTimeThenId(a: SourceEvent, b: SourceEvent): number {
  return a.time - b.time || (a.index < b.index ? -1 : a.index > b.index ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export interface FeederOptions {
  stepMs: number;
  /** The first emit watermark: the run's checkpoint (a grid point). */
  emitFrom: number;
  /** How far the emit watermark trails the events pushed (a multiple of stepMs). */
  lagMs: number;
  /** What the correlator keeps behind its watermark (CorrelationWindow + clock skew). */
  windowMs: number;
}

export class GridFeeder {
  private pending: SourceEvent[] = [];
  /** The next read-grid point; its emit watermark is next - lag. */
  private next: number;
  private last = Number.NEGATIVE_INFINITY;
  private lastPushed = Number.NEGATIVE_INFINITY;
  private lastWatermark = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly correlator: Advancing,
    private readonly options: FeederOptions,
  ) {
    if (options.lagMs % options.stepMs !== 0) throw new RangeError('the emit lag must be a multiple of the grid step');
    this.next = options.emitFrom + options.lagMs;
  }

  /** Events held back for the current grid step (part of the memory bound). */
  get held(): number {
    return this.pending.length;
  }

  /** The emit watermark reached so far. */
  get watermark(): number {
    return this.lastWatermark;
  }

  /** Events in time order (the reader sorts by @timestamp); returns the alerts due so far. */
  add(events: SourceEvent[]): AlertDocument[] {
    const out: AlertDocument[] = [];
    for (const e of events) {
      if (e.time < this.last) throw new RangeError(`events out of time order: ${new Date(e.time).toISOString()} after ${new Date(this.last).toISOString()}`);
      this.last = e.time;
      while (e.time >= this.next) {
        if (this.idle()) {
          this.next = gridFloor(e.time, this.options.stepMs) + this.options.stepMs;
          break;
        }
        out.push(...this.flush(this.next));
        this.next += this.options.stepMs;
      }
      this.pending.push(e);
    }
    return out;
  }

  /** Every event before `readEnd` (a grid point) has been added: emit up to readEnd - lag. */
  finish(readEnd: number): AlertDocument[] {
    const out: AlertDocument[] = [];
    while (this.next <= readEnd && !this.idle()) {
      out.push(...this.flush(this.next));
      this.next += this.options.stepMs;
    }
    return out;
  }

  /** Nothing held back and nothing left in the correlator's buffer: advancing could emit nothing. */
  private idle(): boolean {
    return this.pending.length === 0 && (this.lastPushed === Number.NEGATIVE_INFINITY || this.lastPushed < this.lastWatermark - this.options.windowMs);
  }

  private flush(readPoint: number): AlertDocument[] {
    if (this.pending.length) {
      this.correlator.push(this.pending.sort(byTimeThenId));
      this.lastPushed = this.pending[this.pending.length - 1]!.time;
      this.pending = [];
    }
    this.lastWatermark = readPoint - this.options.lagMs;
    return this.correlator.advance(this.lastWatermark);
  }
}
