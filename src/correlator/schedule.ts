/**
 * Running the correlator: once, or every interval until stopped. Runs never overlap: one process
 * runs them one after the other (a run longer than the interval delays the next one), and
 * processes share a scope only through leases. Stopping (the signal) abandons the current run
 * without moving its checkpoints and hands the leases back so that another process takes over at
 * once instead of after the lease TTL.
 */
import { Leases } from './lease';
import { scopeOf } from './checkpoint';
import { RunFailed, runCorrelation, type RunRequest, type RunSummary, type RuntimeConfig } from './run';

export function leasesFor(cfg: RuntimeConfig): Leases {
  return new Leases(cfg.client, { scope: scopeOf(cfg.namespace), partitions: cfg.partitions, owner: cfg.owner, ttlMs: cfg.leaseTtlMs, now: cfg.now, index: cfg.stateIndex });
}

/** Hands leases back on the way out; bounded, because the engine may be the reason we are leaving. */
async function releaseQuietly(cfg: RuntimeConfig, leases: Leases): Promise<void> {
  await leases.release(AbortSignal.timeout(10_000)).catch((err: unknown) => {
    cfg.log.warn({ event: { action: 'lease-release-failed' }, err }, 'could not hand the leases back: other correlators take them over when they expire');
  });
}

/** One run over the leased partitions (or over an explicit window, which needs no lease). */
export async function runOnce(cfg: RuntimeConfig, request: Omit<RunRequest, 'leases'>): Promise<RunSummary> {
  if (request.window) return runCorrelation(cfg, request);
  const leases = leasesFor(cfg);
  try {
    return await runCorrelation(cfg, { ...request, leases });
  } finally {
    await releaseQuietly(cfg, leases);
  }
}

export interface EveryOptions {
  intervalMs: number;
  signal: AbortSignal;
  onRun?: (summary: RunSummary) => void;
  /** Stop after this many runs (tests); forever when absent. */
  maxRuns?: number;
}

export interface EveryResult {
  runs: number;
  failed: number;
  interrupted: boolean;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Runs every `intervalMs` until the signal. A failed run (engine unreachable, 429/503 after the
 * retries) is logged and recorded, its checkpoint stays, and the next tick tries again: a service
 * rides out an engine restart instead of dying with it.
 */
export async function runEvery(cfg: RuntimeConfig, options: EveryOptions): Promise<EveryResult> {
  const leases = leasesFor(cfg);
  const result: EveryResult = { runs: 0, failed: 0, interrupted: false };
  try {
    while (!options.signal.aborted && (options.maxRuns === undefined || result.runs < options.maxRuns)) {
      const tick = cfg.now();
      try {
        // Not `onRun?.(await run())`: an optional call does not evaluate its argument when there is no callback.
        const summary = await runCorrelation(cfg, { mode: 'every', leases, signal: options.signal });
        options.onRun?.(summary);
      } catch (err) {
        if (!(err instanceof RunFailed)) throw err;
        if (options.signal.aborted) break;
        result.failed++;
        options.onRun?.(err.summary);
      }
      result.runs++;
      if (options.maxRuns !== undefined && result.runs >= options.maxRuns) break;
      await sleep(tick + options.intervalMs - cfg.now(), options.signal);
    }
  } finally {
    result.interrupted = options.signal.aborted;
    await releaseQuietly(cfg, leases);
  }
  return result;
}
