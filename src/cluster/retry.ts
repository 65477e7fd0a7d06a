import { backOff } from 'exponential-backoff';
import { isIdempotent, type ClusterRequest, type ClusterResponse, type Transport } from './client';
import type { RetryPolicy } from './connection';
import { ClusterError } from './errors';

export interface RetryEvent {
  attempt: number;
  error: ClusterError;
  request: Pick<ClusterRequest, 'method' | 'path'>;
}

/** Whether a failed call may be sent again: only transient failures, only idempotent calls. */
export function shouldRetry(error: unknown, request: Pick<ClusterRequest, 'method' | 'idempotent'>): boolean {
  return error instanceof ClusterError && error.transient && isIdempotent(request);
}

/**
 * Sends through the transport, retrying with capped, fully jittered exponential backoff
 * (exponential-backoff's `jitter: 'full'`), so that many correlators hitting a 429 spread out.
 */
export function sendWithRetries<T>(
  transport: Transport,
  request: ClusterRequest,
  policy: RetryPolicy,
  onRetry?: (event: RetryEvent) => void,
): Promise<ClusterResponse<T>> {
  const attempts = Math.max(1, policy.attempts);
  return backOff(() => transport.send<T>(request), {
    numOfAttempts: attempts,
    startingDelay: policy.startingDelayMs,
    maxDelay: policy.maxDelayMs,
    timeMultiple: 2,
    jitter: 'full',
    delayFirstAttempt: false,
    retry: (error: unknown, attemptNumber: number) => {
      // exponential-backoff asks even after the last attempt; only announce a retry that will happen.
      if (attemptNumber >= attempts || request.signal?.aborted || !shouldRetry(error, request)) return false;
      onRetry?.({ attempt: attemptNumber, error: error as ClusterError, request });
      return true;
    },
  });
}
