import { isIdempotent } from '../../../src/cluster/client';
import { ClusterError } from '../../../src/cluster/errors';
import { sendWithRetries, shouldRetry } from '../../../src/cluster/retry';
import type { ClusterRequest, Transport } from '../../../src/cluster/client';

const e503 = new ClusterError({ kind: 'response', message: '503', status: 503 });
const e400 = new ClusterError({ kind: 'response', message: '400', status: 400 });

describe('which calls are retried', () => {
  it('defaults idempotency from the method; POST only when the caller says so', () => {
    expect(isIdempotent({ method: 'GET' })).toBe(true);
    expect(isIdempotent({ method: 'PUT' })).toBe(true);
    expect(isIdempotent({ method: 'DELETE' })).toBe(true);
    expect(isIdempotent({ method: 'POST' })).toBe(false);
    expect(isIdempotent({ method: 'POST', idempotent: true })).toBe(true);
    expect(isIdempotent({ method: 'PUT', idempotent: false })).toBe(false);
  });

  it('retries transient errors of idempotent calls only', () => {
    expect(shouldRetry(e503, { method: 'GET' })).toBe(true);
    expect(shouldRetry(e503, { method: 'POST' })).toBe(false);
    expect(shouldRetry(e400, { method: 'GET' })).toBe(false);
    expect(shouldRetry(new Error('not ours'), { method: 'GET' })).toBe(false);
  });
});

/** A scripted transport: the loop's own bookkeeping, with no network (the real engine tests cover HTTP). */
function scripted(outcomes: Array<ClusterError | 'ok'>): Transport & { calls: number } {
  return {
    calls: 0,
    async send<T>() {
      const outcome = outcomes[this.calls++];
      if (outcome === undefined || outcome === 'ok') return { status: 200, body: {} as T };
      throw outcome;
    },
    async close() {},
  };
}

describe('sendWithRetries', () => {
  const policy = { attempts: 3, startingDelayMs: 1, maxDelayMs: 2 };
  const get: ClusterRequest = { method: 'GET', path: '/' };

  it('stops at the first success and reports each retry once', async () => {
    const transport = scripted([e503, e503, 'ok']);
    const seen: number[] = [];
    await sendWithRetries(transport, get, policy, (e) => seen.push(e.attempt));
    expect(transport.calls).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  it('rethrows the last error after the last attempt without announcing a retry that never comes', async () => {
    const transport = scripted([e503, e503, e503, 'ok']);
    const seen: number[] = [];
    await expect(sendWithRetries(transport, get, policy, (e) => seen.push(e.attempt))).rejects.toBe(e503);
    expect(transport.calls).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  it('does not retry an aborted request', async () => {
    const controller = new AbortController();
    controller.abort();
    const transport = scripted([e503, 'ok']);
    await expect(sendWithRetries(transport, { ...get, signal: controller.signal }, policy)).rejects.toBe(e503);
    expect(transport.calls).toBe(1);
  });
});
