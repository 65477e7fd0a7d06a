import { ClusterError, fromResponse, requireAllShards } from '../../../src/cluster/errors';

// The body OpenSearch 2.19 returned for PUT _ingest/pipeline with `ctx.a = ;` (recorded from the
// real engine in test/integration/cluster-seam.test.ts), trimmed to the fields that matter.
const PAINLESS_COMPILE_ERROR = {
  error: {
    root_cause: [{ type: 'script_exception', reason: 'compile error', script_stack: ['ctx.a = ;', '        ^---- HERE'], script: 'ctx.a = ;', lang: 'painless', position: { offset: 8, start: 0, end: 9 } }],
    type: 'script_exception',
    reason: 'compile error',
    script_stack: ['ctx.a = ;', '        ^---- HERE'],
    script: 'ctx.a = ;',
    lang: 'painless',
    position: { offset: 8, start: 0, end: 9 },
    caused_by: { type: 'illegal_argument_exception', reason: "invalid sequence of tokens near [';'].", caused_by: { type: 'no_viable_alt_exception', reason: null } },
  },
  status: 400,
};

describe('fromResponse', () => {
  it('keeps status, type, reason, root cause, the deepest cause and the painless script stack', () => {
    const err = fromResponse(400, PAINLESS_COMPILE_ERROR, 'PUT', '/_ingest/pipeline/x');
    expect(err).toBeInstanceOf(ClusterError);
    expect(err).toMatchObject({ kind: 'response', status: 400, type: 'script_exception', reason: 'compile error', method: 'PUT', path: '/_ingest/pipeline/x' });
    expect(err.rootCause).toEqual([{ type: 'script_exception', reason: 'compile error' }]);
    expect(err.script).toEqual({ scriptStack: ['ctx.a = ;', '        ^---- HERE'], script: 'ctx.a = ;', lang: 'painless', position: { offset: 8, start: 0, end: 9 } });
    expect(err.message).toContain("caused by illegal_argument_exception: invalid sequence of tokens near [';']");
    expect(err.message).toContain('^---- HERE');
  });

  it('finds a script stack that sits only on a nested cause', () => {
    const body = { error: { type: 'illegal_argument_exception', reason: 'x', caused_by: { type: 'script_exception', reason: 'runtime error', script_stack: ['a.b()'], position: { offset: 1, start: 0, end: 5 } } } };
    expect(fromResponse(400, body).script?.scriptStack).toEqual(['a.b()']);
  });

  it('copes with a string error and with a body that is not JSON', () => {
    expect(fromResponse(405, { error: 'Incorrect HTTP method', status: 405 }).reason).toBe('Incorrect HTTP method');
    const err = fromResponse(502, '<html>bad gateway</html>', 'GET', '/');
    expect(err.message).toBe('GET / failed with 502');
    expect(err.transient).toBe(true);
  });

  it('serialises without anything but its own fields', () => {
    const json = JSON.parse(JSON.stringify(fromResponse(404, { error: { type: 'index_not_found_exception', reason: 'no such index [x]' } })));
    expect(Object.keys(json).sort()).toEqual(['kind', 'message', 'reason', 'status', 'type']);
  });
});

describe('ClusterError.transient', () => {
  it.each([
    [429, true],
    [502, true],
    [503, true],
    [504, true],
    [500, false],
    [400, false],
    [404, false],
    [409, false],
  ])('status %i → %s', (status, expected) => {
    expect(new ClusterError({ kind: 'response', message: '', status }).transient).toBe(expected);
  });

  it('treats connection failures and timeouts as transient', () => {
    expect(new ClusterError({ kind: 'connection', message: '', code: 'ECONNRESET' }).transient).toBe(true);
    expect(new ClusterError({ kind: 'timeout', message: '' }).transient).toBe(true);
    expect(new ClusterError({ kind: 'unsupported', message: '' }).transient).toBe(false);
  });
});

describe('requireAllShards', () => {
  const request = { method: 'POST', path: '/logs-cryptochannel.*-default/_search' };

  it('passes a search every shard answered', () => {
    expect(() => requireAllShards({ total: 3, failed: 0 }, request)).not.toThrow();
    expect(() => requireAllShards(undefined, request)).not.toThrow();
  });

  it('throws a ClusterError naming the failed shards, the first index and its reason', () => {
    const shards = {
      total: 3,
      failed: 2,
      failures: [
        { index: 'logs-cryptochannel.broken-default', shard: 0, reason: { type: 'illegal_argument_exception', reason: 'Field [@timestamp] of type [keyword] does not support custom formats' } },
        { index: 'logs-cryptochannel.other-default', shard: 0, reason: { type: 'query_shard_exception', reason: 'No mapping found' } },
      ],
    };
    let caught: unknown;
    try {
      requireAllShards(shards, request);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ClusterError);
    const error = caught as ClusterError;
    expect(error.message).toBe(
      'POST /logs-cryptochannel.*-default/_search: 2 of 3 shard(s) failed on logs-cryptochannel.broken-default: illegal_argument_exception: Field [@timestamp] of type [keyword] does not support custom formats',
    );
    expect(error.type).toBe('partial_search_failure');
    expect(error.transient).toBe(false);
    expect(error.rootCause.map((c) => c.type)).toEqual(['illegal_argument_exception', 'query_shard_exception']);
  });
});
