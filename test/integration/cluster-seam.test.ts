/**
 * The seam's promises, checked on the real engine: errors carry the engine's root cause and
 * painless script stack; transient failures are retried only for idempotent calls; credentials
 * never appear in an error.
 */
import {
  ClusterError,
  connect,
  deleteStoredScript,
  getPipeline,
  putPipeline,
  putStoredScript,
  simulatePipeline,
  type ClusterClient,
  type RetryEvent,
} from '../../src/cluster';
import { FaultProxy } from './support/fault-proxy';
import { testEngineLabel, testUrl, uniqueName } from './support/engine-env';

const FAST_RETRY = { attempts: 4, startingDelayMs: 10, maxDelayMs: 50 };

async function caught(promise: Promise<unknown>): Promise<ClusterError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ClusterError) return err;
    throw err;
  }
  throw new Error('expected a ClusterError, the call succeeded');
}

describe(`the cluster seam on ${testEngineLabel()}`, () => {
  let client: ClusterClient;

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
  });
  afterAll(() => client.close());

  it('detects the engine from GET /', () => {
    expect(['opensearch', 'elasticsearch']).toContain(client.flavor);
    expect(client.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(testEngineLabel()).toBe(`${client.flavor} ${client.version}`);
  });

  it('reports a painless compile error with its script stack and position', async () => {
    const id = uniqueName('cc-test-broken');
    const err = await caught(putPipeline(client, id, { processors: [{ script: { source: 'ctx.a = ;' } }] }));
    expect(await getPipeline(client, id)).toBeUndefined();
    expect(err.kind).toBe('response');
    expect(err.status).toBe(400);
    expect(err.script?.scriptStack.join('\n')).toContain('ctx.a = ;');
    expect(err.script?.position?.offset).toBe(8);
    expect(err.message).toContain('script_stack');
    expect(err.rootCause.length).toBeGreaterThan(0);
  });

  // A fact the deployer must design around: OpenSearch 2.19 stores a script without compiling it,
  // so a broken stored script only fails when a pipeline first calls it.
  it('shows whether the engine compiles stored scripts on PUT', async () => {
    const id = uniqueName('cc-test-broken-stored');
    const stored = await putStoredScript(client, id, 'ctx.a = ;').then(
      () => 'stored',
      (err: ClusterError) => err.type,
    );
    await deleteStoredScript(client, id);
    expect(stored).toBe(client.flavor === 'opensearch' ? 'stored' : 'script_exception');
  });

  it('reports a painless runtime error inside a pipeline with the deepest cause', async () => {
    const result = await simulatePipeline(client, [{ a: 'x' }], {
      pipeline: { processors: [{ script: { source: 'ctx.b = Integer.parseInt(ctx.a);' } }] },
    });
    const error = (result.docs[0] as { error?: Record<string, any> }).error;
    expect(error?.type).toBe('script_exception');
    expect(error?.caused_by?.type).toBe('number_format_exception');
  });

  it('reports a missing index as a 404 with the engine type', async () => {
    const err = await caught(client.request({ method: 'GET', path: `/${uniqueName('cc-missing')}/_search` }));
    expect(err.status).toBe(404);
    expect(err.type).toBe('index_not_found_exception');
  });

  describe('behind a fault-injecting proxy', () => {
    let proxy: FaultProxy;
    let proxied: ClusterClient;
    const retries: RetryEvent[] = [];

    beforeAll(async () => {
      proxy = await FaultProxy.start(testUrl());
      proxied = await connect({ url: proxy.url, retry: FAST_RETRY }, { onRetry: (e) => retries.push(e) });
    });
    afterAll(async () => {
      await proxied.close();
      await proxy.close();
    });
    beforeEach(() => {
      retries.length = 0;
      proxy.seen.length = 0;
    });

    it('retries 429, 503 and a reset connection on an idempotent call, then succeeds', async () => {
      proxy.inject({ status: 429 }, { status: 503 }, 'reset');
      const { body } = await proxied.request<{ status: string }>({ method: 'GET', path: '/_cluster/health' });
      expect(['green', 'yellow']).toContain(body.status);
      expect(retries.map((r) => r.error.status ?? r.error.code)).toEqual([429, 503, 'ECONNRESET']);
      expect(proxy.seen.map((s) => s.faulted)).toEqual([true, true, true, false]);
    });

    it('does not retry a POST that is not marked idempotent', async () => {
      proxy.inject({ status: 503 });
      const err = await caught(proxied.request({ method: 'POST', path: '/_bulk', ndjson: [{ create: { _index: uniqueName('cc-never') } }, { a: 1 }] }));
      expect(err.status).toBe(503);
      expect(retries).toHaveLength(0);
      expect(proxy.seen).toHaveLength(1);
    });

    it('does not retry a non-transient error', async () => {
      proxy.inject({ status: 400, body: { error: { type: 'parsing_exception', reason: 'bad' }, status: 400 } });
      const err = await caught(proxied.request({ method: 'GET', path: '/_cluster/health' }));
      expect(err.type).toBe('parsing_exception');
      expect(retries).toHaveLength(0);
    });

    it('gives up after the configured attempts with the last error', async () => {
      proxy.inject(...Array.from({ length: FAST_RETRY.attempts }, () => ({ status: 503 })));
      const err = await caught(proxied.request({ method: 'GET', path: '/_cluster/health' }));
      expect(err.status).toBe(503);
      expect(proxy.seen).toHaveLength(FAST_RETRY.attempts);
      expect(retries).toHaveLength(FAST_RETRY.attempts - 1);
      // The next call goes through: no fault was left over.
      await proxied.request({ method: 'GET', path: '/_cluster/health' });
      expect(proxy.seen.at(-1)?.faulted).toBe(false);
    });

    it('sends credentials but never shows them in an error', async () => {
      const secret = 'pw-never-printed-7f3a';
      const withAuth = await connect({ url: proxy.url, username: 'cc-user', password: secret, retry: FAST_RETRY });
      proxy.inject({ status: 401, body: { error: { type: 'security_exception', reason: 'unable to authenticate user [cc-user]' }, status: 401 } });
      const err = await caught(withAuth.request({ method: 'GET', path: '/_cluster/health' }));
      await withAuth.close();
      const expected = `Basic ${Buffer.from(`cc-user:${secret}`).toString('base64')}`;
      expect(proxy.seen.at(-1)?.authorization).toBe(expected);
      expect(err.status).toBe(401);
      for (const text of [err.message, JSON.stringify(err), String(err.stack)]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(expected.slice(6));
      }
    });

    it('moves credentials out of a URL so the printable URL has none', async () => {
      const [scheme, rest] = proxy.url.split('//');
      const withUrlAuth = await connect({ url: `${scheme}//cc-user:url-secret@${rest}` });
      expect(withUrlAuth.url).toBe(proxy.url);
      await withUrlAuth.request({ method: 'GET', path: '/' });
      expect(proxy.seen.at(-1)?.authorization).toBe(`Basic ${Buffer.from('cc-user:url-secret').toString('base64')}`);
      await withUrlAuth.close();
    });
  });
});
