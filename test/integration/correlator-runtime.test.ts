/**
 * The correlator runtime on the real engine, driven through its exported functions with test
 * analytics (correlator-support.ts) and an injected clock: events go in through the real Zeek
 * pipeline; the runs read them with a point in time and search_after, write alerts with `create`,
 * and move checkpoints only after the writes. Faults come from a proxy that fails chosen paths.
 */
import { randomBytes } from 'node:crypto';
import { connect, type ClusterClient } from '../../src/cluster';
import { ensureStateIndex } from '../../src/correlator/checkpoint';
import { Leases } from '../../src/correlator/lease';
import { RunFailed, type RunSummary } from '../../src/correlator/run';
import { runOnce } from '../../src/correlator/schedule';
import { cleanup, content, ingestRaw, PathFaultProxy, runtimeConfig, storedAlerts, storedCheckpoint, storedRuns, writeAroundPipeline, zeekConn, zeekSsl } from './correlator-support';
import { testEngineLabel, testUrl } from './support/engine-env';

const MIN = 60_000;
const FAST_RETRY = { attempts: 3, startingDelayMs: 10, maxDelayMs: 40 };
const T = Math.floor((Date.now() - 3 * 3_600_000) / MIN) * MIN;
const ns = (tag: string) => `cctest${tag}${randomBytes(3).toString('hex')}`;

/** 5 alerts on 8443, 2 below threshold on 9443, a group of 3 on 7443 around T+61m, 1 plain flow. */
function dataset(): string[] {
  const records: string[] = [];
  for (let i = 0; i < 5; i++) records.push(zeekConn({ time: T + i * 10 * MIN, uid: `Calert${i}`, orig: `10.1.0.${i + 1}`, resp: '203.0.113.10', respPort: 8443 }));
  for (let i = 0; i < 2; i++) records.push(zeekConn({ time: T + 5 * MIN + i * MIN, uid: `Cweak${i}`, orig: '10.1.1.1', resp: '203.0.113.11', respPort: 9443 }));
  for (let i = 0; i < 3; i++) records.push(zeekConn({ time: T + 60 * MIN + i * 40_000, uid: `Cgroup${i}`, orig: '10.1.2.1', resp: '198.51.100.7', respPort: 7443 }));
  records.push(zeekConn({ time: T + 20 * MIN, uid: 'Cplain', orig: '10.1.3.1', resp: '203.0.113.12', respPort: 443 }));
  return records;
}

async function failed(promise: Promise<unknown>): Promise<RunSummary> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RunFailed) return err.summary;
    throw err;
  }
  throw new Error('expected the run to fail');
}

describe(`the correlator runtime on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const namespaces: string[] = [];
  const fresh = (tag: string) => {
    const n = ns(tag);
    namespaces.push(n);
    return n;
  };

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
    await ensureStateIndex(client);
  });
  afterAll(async () => {
    for (const n of namespaces) await cleanup(client, n, [1, 2, 4]);
    await client.close();
  });

  it('writes in several resumed runs exactly what one run over the whole window would, each alert once', async () => {
    const n = fresh('split');
    await ingestRaw(client, n, 'zeek', dataset());
    const backtest = await runOnce(runtimeConfig(client, n), { mode: 'backtest', window: { from: T - MIN, to: Date.now() } });
    const expected = backtest.alerts!.map((a) => a.id).sort();
    // 5 on port 8443 and the 7443 group (emitted when its second, then its third, event closed a step).
    expect(backtest.alerts!.filter((a) => a.analytic === 'AN1500')).toHaveLength(5);
    expect(backtest.alerts!.filter((a) => a.analytic === 'AN1497').length).toBeGreaterThanOrEqual(1);
    expect(backtest.alerts!.every((a) => !a.exists)).toBe(true);
    expect(backtest.below_threshold).toBe(2);
    expect(await storedAlerts(client, n)).toHaveLength(0); // a backtest writes nothing

    // Three runs whose windows end at T+35m, in the middle of the 7443 group, and now.
    const ends = [T + 35 * MIN + 123, T + 60 * MIN + 50_000, Date.now()];
    const summaries: RunSummary[] = [];
    for (const end of ends) summaries.push(await runOnce(runtimeConfig(client, n, { now: () => end }), { mode: 'once' }));
    for (const [i, s] of summaries.entries()) {
      expect(s.status).toBe('ok');
      expect(s.checkpoint_moved).toBe(true);
      expect(s.window!.end).toBe(new Date(Math.floor(ends[i]! / 1000) * 1000).toISOString());
    }
    expect(summaries[1]!.window!.start).toBe(summaries[0]!.window!.end);
    // The second run re-read the first window's tail (the lookback) but emitted none of its alerts again.
    expect(Date.parse(summaries[1]!.window!.read_from)).toBeLessThan(Date.parse(summaries[0]!.window!.end));
    const stored = await storedAlerts(client, n);
    expect(stored.map((a) => a._id).sort()).toEqual(expected);
    expect(summaries.reduce((sum, s) => sum + s.alerts_written, 0)).toBe(expected.length);
    expect(summaries.reduce((sum, s) => sum + s.duplicates, 0)).toBe(0);
    expect((await storedCheckpoint(client, n))?.checkpoint).toBe(summaries[2]!.window!.end);
    const runIds = new Set(summaries.map((s) => s.run_id));
    expect(stored.every((a) => runIds.has(a._source.cryptochannel.alert.run_id))).toBe(true);

    // The run log holds each run, with what it read per source.
    const runs = await storedRuns(client, n);
    expect(runs.map((r) => r.id).sort()).toEqual(summaries.map((s) => s.run_id).sort());
    expect(runs.every((r) => r.status === 'ok' && r.mode === 'once' && r.checkpoint_moved === true)).toBe(true);
    expect(runs.reduce((sum, r) => sum + r.alerts_written, 0)).toBe(expected.length);
    expect(runs[0]!.source_events.zeek).toBeGreaterThan(0);

    // A rerun from the checkpoint finds nothing new; a rerun of the whole window finds only duplicates.
    const again = await runOnce(runtimeConfig(client, n), { mode: 'once' });
    expect(again.alerts_written).toBe(0);
    const window = await runOnce(runtimeConfig(client, n), { mode: 'once', window: { from: T - MIN, to: Date.now() } });
    expect(window).toMatchObject({ status: 'ok', alerts_written: 0, duplicates: expected.length, checkpoint_moved: false });
    expect(await storedAlerts(client, n)).toHaveLength(expected.length);
    const backtestAfter = await runOnce(runtimeConfig(client, n), { mode: 'backtest', window: { from: T - MIN, to: Date.now() } });
    expect(backtestAfter.alerts!.every((a) => a.exists)).toBe(true);
  });

  it('leaves the checkpoint alone when the writes fail after retries, and writes everything on the next run', async () => {
    const n = fresh('faults');
    await ingestRaw(client, n, 'zeek', dataset());
    const proxy = await PathFaultProxy.start(testUrl());
    const proxied = await connect({ url: proxy.url, retry: FAST_RETRY });
    try {
      proxy.fail(/^POST \/_bulk/, { status: 503 });
      const first = await failed(runOnce(runtimeConfig(proxied, n), { mode: 'once' }));
      expect(first.status).toBe('failed');
      expect(first.error).toMatch(/503/);
      expect(first.checkpoint_moved).toBe(false);
      expect(proxy.faulted.filter((f) => f.startsWith('POST /_bulk'))).toHaveLength(FAST_RETRY.attempts);
      expect(await storedCheckpoint(client, n)).toBeUndefined();
      expect(await storedAlerts(client, n)).toHaveLength(0);

      // 429 on the second page of the point-in-time search: some alerts are in, the checkpoint is not.
      proxy.clear();
      proxy.fail(/^POST \/_search/, { status: 429 }, Number.POSITIVE_INFINITY, 1);
      const second = await failed(runOnce(runtimeConfig(proxied, n, { pageSize: 6 }), { mode: 'once' }));
      expect(second.status).toBe('failed');
      expect(await storedCheckpoint(client, n)).toBeUndefined();
      const partial = (await storedAlerts(client, n)).length;
      expect(partial).toBeGreaterThan(0);
      expect(second.alerts_written).toBe(partial);

      proxy.clear();
      const third = await runOnce(runtimeConfig(proxied, n), { mode: 'once' });
      expect(third.status).toBe('ok');
      expect(third.duplicates).toBe(partial);
      expect((await storedCheckpoint(client, n))?.checkpoint).toBe(third.window!.end);
      const stored = await storedAlerts(client, n);
      expect(new Set(stored.map((a) => a._id)).size).toBe(stored.length);
      expect(stored).toHaveLength(partial + third.alerts_written);

      const runs = await storedRuns(client, n);
      expect(runs.map((r) => r.status).sort()).toEqual(['failed', 'failed', 'ok']);
      expect(runs.find((r) => r.status === 'failed')!.error).toMatch(/503|429/);
    } finally {
      await proxied.close();
      await proxy.close();
    }
  });

  it('skips and counts malformed events without failing the run', async () => {
    const n = fresh('malformed');
    await ingestRaw(client, n, 'zeek', dataset());
    const at = new Date(T + 30 * MIN).toISOString();
    await writeAroundPipeline(client, n, 'zeek', [
      { '@timestamp': at, message: 'no dataset at all' },
      { '@timestamp': at, event: { dataset: 'cryptochannel.zeek', action: 'network_flow' }, host: { id: 42 } },
      { '@timestamp': at, event: { dataset: 'cryptochannel.zeek', action: 'network_flow' }, destination: { ip: '203.0.113.10', port: 8443 }, source: { ip: '10.9.9.9', port: 99999 } },
    ]);
    const s = await runOnce(runtimeConfig(client, n), { mode: 'once' });
    expect(s.status).toBe('ok');
    expect(s.skipped_malformed).toBe(3);
    expect(s.malformed_reasons).toEqual({ 'event.dataset does not name a cryptochannel source': 1, 'host.id is not a string': 1, 'source.port is not a port': 1 });
    expect(s.events_read).toBe(dataset().length);
    expect((await storedAlerts(client, n)).filter((a) => a._source.cryptochannel.alert.analytic === 'AN1500')).toHaveLength(5);
    expect((await storedRuns(client, n))[0]!.skipped_malformed).toBe(3);
  });

  it('reads past an index in its pattern that missed our template, and fails the run, checkpoint kept, when a shard fails', async () => {
    const n = fresh('shards');
    await ingestRaw(client, n, 'zeek', dataset());
    // A plain index with no mapping, as a write made while our templates were missing leaves behind:
    // a template that wins for its name alone, removed at once.
    const stray = `logs-cryptochannel.stray-${n}`;
    const broken = `logs-cryptochannel.broken-${n}`;
    const template = `cctest-stray-${n}`;
    await client.request({ method: 'PUT', path: `/_index_template/${template}`, body: { index_patterns: [stray], priority: 2000, template: { mappings: { dynamic: false } } } });
    try {
      await client.request({ method: 'PUT', path: `/${stray}/_doc/1`, query: { refresh: 'true', pipeline: '_none' }, body: { message: 'a raw line nobody parsed' } });
      // The first run ends 20 minutes ago, so that a later event still falls in the next runs' window.
      const firstEnd = Date.now() - 20 * MIN;
      const first = await runOnce(runtimeConfig(client, n, { now: () => firstEnd }), { mode: 'once' });
      expect(first).toMatchObject({ status: 'ok', events_read: dataset().length, checkpoint_moved: true });
      expect((await storedAlerts(client, n)).filter((a) => a._source.cryptochannel.alert.analytic === 'AN1500')).toHaveLength(5);
      const checkpoint = (await storedCheckpoint(client, n))?.checkpoint;

      // An index whose @timestamp is a keyword: its shard fails the time-range search while the
      // others answer. A run that read on would move the checkpoint past what it never saw.
      await client.request({ method: 'PUT', path: `/_index_template/${template}`, body: { index_patterns: [stray, broken], priority: 2000, template: { mappings: { properties: { '@timestamp': { type: 'keyword' } } } } } });
      await client.request({ method: 'PUT', path: `/${broken}/_doc/1`, query: { refresh: 'true', pipeline: '_none' }, body: { '@timestamp': 'yesterday' } });
      await client.request({ method: 'DELETE', path: `/_index_template/${template}` });
      await ingestRaw(client, n, 'zeek', [zeekConn({ time: Date.now() - 10 * MIN, uid: 'Clate', orig: '10.1.4.1', resp: '203.0.113.13', respPort: 8443 })]);
      const second = await failed(runOnce(runtimeConfig(client, n), { mode: 'once' }));
      expect(second.status).toBe('failed');
      expect(second.error).toContain(`shard(s) failed on ${broken}`);
      expect(second.checkpoint_moved).toBe(false);
      expect((await storedCheckpoint(client, n))?.checkpoint).toBe(checkpoint);

      // With the broken index gone, the next run picks up from the same checkpoint.
      await client.request({ method: 'DELETE', path: `/${broken}` });
      const third = await runOnce(runtimeConfig(client, n), { mode: 'once' });
      expect(third).toMatchObject({ status: 'ok', checkpoint_moved: true });
      expect(third.window!.start).toBe(checkpoint);
      expect((await storedAlerts(client, n)).filter((a) => a._source.cryptochannel.alert.analytic === 'AN1500')).toHaveLength(6);
    } finally {
      await client.request({ method: 'DELETE', path: `/_index_template/${template}`, ignore: [404] });
      await client.request({ method: 'DELETE', path: `/${stray},${broken}`, query: { ignore_unavailable: true } });
    }
  });

  it("lays the analysts' Kibana allow-lists over the live tunables at the start of a run", async () => {
    const n = fresh('allowlists');
    await ingestRaw(client, n, 'zeek', [zeekSsl({ time: T + 5 * MIN, uid: 'Callow1', orig: '10.3.0.1', resp: '203.0.113.77', sni: 'mgmt.tunetest.example' })]);
    const window = { from: T, to: T + 60 * MIN };
    const plain = await runOnce(runtimeConfig(client, n), { mode: 'backtest', window });
    expect((plain.alerts ?? []).filter((a) => a.analytic === 'AN1499')).toHaveLength(1);
    const listed = await runOnce(runtimeConfig(client, n, { allowLists: async () => ({ BaselineMgmtHosts: [...content.tunables.BaselineMgmtHosts, 'mgmt.tunetest.example'] }) }), { mode: 'backtest', window });
    expect((listed.alerts ?? []).filter((a) => a.analytic === 'AN1499')).toHaveLength(0);
  });

  it('holds about one correlation window of events in memory, not everything it reads', async () => {
    const n = fresh('memory');
    const records = Array.from({ length: 240 }, (_, i) => zeekConn({ time: T - 60 * MIN + i * MIN, uid: `Cmem${i}`, orig: '10.2.0.1', resp: '203.0.113.20', respPort: 443 }));
    await ingestRaw(client, n, 'zeek', records);
    const s = await runOnce(runtimeConfig(client, n, { pageSize: 25 }), { mode: 'once' });
    expect(s.events_read).toBe(240);
    // CorrelationWindow 15m + 2m skew at one event a minute, plus the step being filled.
    expect(s.peak_buffered).toBeLessThanOrEqual(20);
    expect(s.peak_buffered).toBeGreaterThanOrEqual(15);
    // With the default emit lag (alerts wait one more window for late joins) about twice that.
    const lagged = await runOnce(runtimeConfig(client, n, { pageSize: 25, emitLagMs: undefined }), { mode: 'backtest', window: { from: T - 60 * MIN, to: T + 180 * MIN } });
    expect(lagged.events_read).toBe(240);
    expect(lagged.peak_buffered).toBeLessThanOrEqual(2 * 17 + 3);
    expect(lagged.peak_buffered).toBeGreaterThanOrEqual(30);
  });

  it('shares partitions through leases: a fair share each, and all of them once a holder stops renewing', async () => {
    const scope = fresh('lease');
    let now = Date.now();
    const clock = () => now;
    const ttlMs = 10_000;
    const a = new Leases(client, { scope, partitions: 4, owner: 'proc-a', ttlMs, now: clock });
    const b = new Leases(client, { scope, partitions: 4, owner: 'proc-b', ttlMs, now: clock });
    expect(await a.balance()).toEqual([0, 1, 2, 3]); // alone: all of them
    expect(await b.balance()).toEqual([]); // all leased and live
    expect(await a.balance()).toHaveLength(2); // two members now: hands two back
    const bHolds = await b.balance();
    expect(bHolds).toHaveLength(2);
    expect([...a.partitions, ...bHolds].sort()).toEqual([0, 1, 2, 3]);
    expect(await a.renew()).toEqual([]);

    // a dies (stops renewing): after the TTL b takes everything, and a, if it comes back, has lost it all.
    now += ttlMs + 1;
    expect(await b.balance()).toEqual([0, 1, 2, 3]);
    expect((await b.state()).every((l) => l.owner === 'proc-b')).toBe(true);
    const aHeld = a.partitions;
    expect(aHeld).toHaveLength(2);
    expect(await a.renew()).toEqual(aHeld);
    expect(a.partitions).toEqual([]);

    // A graceful stop hands everything back at once.
    await b.release();
    expect((await b.state()).every((l) => l.owner === undefined && l.expiresAt === 0)).toBe(true);
    expect(await a.balance()).toEqual([0, 1, 2, 3]);
    await a.release();
  });

  it('writes each alert once when two runs of different partitions overlap in time', async () => {
    const n = fresh('parts');
    await ingestRaw(client, n, 'zeek', dataset());
    const cfg = (owner: string) => runtimeConfig(client, n, { owner, partitions: 2 });
    const backtest = await runOnce(runtimeConfig(client, n), { mode: 'backtest', window: { from: T - MIN, to: Date.now() } });
    const [x, y] = await Promise.all([runOnce(cfg('proc-x'), { mode: 'once' }), runOnce(cfg('proc-y'), { mode: 'once' })]);
    const stored = await storedAlerts(client, n);
    expect(stored.map((a) => a._id).sort()).toEqual(backtest.alerts!.map((a) => a.id).sort());
    expect(x.alerts_written + y.alerts_written + x.duplicates + y.duplicates).toBeGreaterThanOrEqual(stored.length);
    expect(x.alerts_written + y.alerts_written).toBe(stored.length);
    // Whatever the interleaving, both partitions' checkpoints end up at a window end.
    for (const p of [0, 1]) expect((await storedCheckpoint(client, n, p, 2))?.checkpoint).toBeDefined();
  });
});
