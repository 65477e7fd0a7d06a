import { ClusterError } from '../cluster/errors';
import { ConfigError } from '../config/settings';
import { EngineError } from '../engine/errors';
import { ContentError } from '../content/files';
import type { Output } from './output';

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Prints an error with everything that helps (root cause, script stack, log tail) and returns the exit code. */
export function reportError(err: unknown, out: Output): number {
  if (err instanceof ContentError) {
    out.error(`content: ${err.message}`);
    return EXIT.failure;
  }
  if (err instanceof UsageError || err instanceof ConfigError) {
    out.error(err.message);
    return EXIT.usage;
  }
  if (err instanceof EngineError) {
    const details: string[] = [...(err.details.output ?? [])];
    if (err.details.logTail?.length) details.push(`last ${err.details.logTail.length} lines of ${err.details.logPath}:`, ...err.details.logTail.map((l) => `  ${l}`));
    else if (err.details.logPath) details.push(`log: ${err.details.logPath}`);
    if (err.details.hint) details.push(`hint: ${err.details.hint}`);
    out.error(err.message, details);
    return EXIT.failure;
  }
  if (err instanceof ClusterError) {
    const details = err.rootCause.map((c) => `root cause: ${c.type}: ${c.reason}`);
    out.error(err.message, details);
    return EXIT.failure;
  }
  // Plain errors are expected failures with a message for the user; a stack only helps for bugs.
  const isBug = err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError;
  out.error(err instanceof Error ? (isBug ? (err.stack ?? err.message) : err.message) : String(err));
  return EXIT.failure;
}
