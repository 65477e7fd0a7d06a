/**
 * `cryptochannel correlate` and `cryptochannel alerts` as processes on the real engine, with the
 * test analytics injected through CRYPTOCHANNEL_TEST_ANALYTICS: two correlators at once, a process
 * killed with SIGKILL mid-run, SIGTERM, a scaled-out service losing a member, the engine failing
 * (503/429 after retries, unreachable), a tuning change picked up by a running service, backtest,
 * and the ECS log lines on stderr.
 */
import { randomBytes } from 'node:crypto';
import { connect, type ClusterClient } from '../../src/cluster';
import { ensureStateIndex } from '../../src/correlator/checkpoint';
import type { RunSummary } from '../../src/correlator/run';
import { runOnce } from '../../src/correlator/schedule';
import { analyticsModule, CliProcess, cleanup, ingestRaw, PathFaultProxy, runtimeConfig, storedAlerts, storedCheckpoint, storedLease, storedRuns, waitFor, zeekConn, zeekSsl } from './correlator-support';
import { runCli } from './support/cli';
import { testEngineLabel, testUrl } from './support/engine-env';

const MIN = 60_000;
const T = Math.floor((Date.now() - 2 * 3_600_000) / MIN) * MIN;
const analyticsFile = analyticsModule();
const env = (extra: Record<string, string> = {}) => ({ CRYPTOCHANNEL_TEST_ANALYTICS: analyticsFile, ...extra });
/**
 * Test runs: no ingest delay, a one-second grid and no emit lag, so that events of "now" are
 * alerted at once (the test analytics' findings are complete when their newest event is seen).
 */
const FAST = ['--delay', '0s', '--step', '1s', '--emit-lag', '0s'];

/** `count` alerting connections (port 8443) from `hosts` different clients, `gapMs` apart (a minute) from `from`. */
function alerting(count: number, from: number, tag: string, hosts = count, gapMs = MIN): string[] {
  return Array.from({ length: count }, (_, i) => zeekConn({ time: from + i * gapMs, uid: `C${tag}${i}`, orig: `10.3.${i % hosts}.${(i % 200) + 1}`, resp: '203.0.113.30', respPort: 8443 }));
}

function parse(stdout: string): RunSummary {
  return JSON.parse(stdout) as RunSummary;
}

describe(`cryptochannel correlate and alerts on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  const namespaces: string[] = [];
  const fresh = (tag: string) => {
    const n = `cctest${tag}${randomBytes(3).toString('hex')}`;
    namespaces.push(n);
    return n;
  };
  const correlate = (n: string, args: string[], extra: Record<string, string> = {}) => runCli(['--url', testUrl(), '--json', 'correlate', ...args, '--namespace', n, ...FAST], env(extra));
  const expectedIds = async (n: string) => (await runOnce(runtimeConfig(client, n), { mode: 'backtest', window: { from: T - 10 * MIN, to: Date.now() + MIN } })).alerts!.map((a) => a.id).sort();

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
    await ensureStateIndex(client);
  });
  afterAll(async () => {
    for (const n of namespaces) await cleanup(client, n, [1, 4]);
    await client.close();
  });

  it('refuses unclear requests with exit 2', async () => {
    for (const args of [[], ['--once', '--every', '1m'], ['--every', '1m', '--from', '1h', '--to', '0s'], ['--once', '--from', '1h']]) {
      const run = await runCli(['--url', testUrl(), 'correlate', ...args], env());
      expect([args.join(' '), run.code]).toEqual([args.join(' '), 2]);
    }
  });

  it('correlates, logs ECS lines on stderr, and lists the alerts with alerts --json', async () => {
    const n = fresh('cli');
    await ingestRaw(client, n, 'zeek', [...alerting(4, T, 'a'), zeekConn({ time: T + 5 * MIN, uid: 'Cweak', orig: '10.3.9.9', resp: '203.0.113.31', respPort: 9443 })]);
    const run = await correlate(n, ['--once']);
    expect(run.code).toBe(0);
    const summary = parse(run.stdout);
    expect(summary).toMatchObject({ status: 'ok', alerts_written: 4, below_threshold: 1, checkpoint_moved: true, events_by_source: { zeek: 5 } });
    const logs = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
    const end = logs.find((l) => l.event?.action === 'run-end');
    expect(end).toMatchObject({ 'log.level': 'info', 'ecs.version': expect.any(String), event: { outcome: 'success' }, cryptochannel: { run: { id: summary.run_id, alerts_written: 4 } } });
    expect(logs.some((l) => l.message.includes(analyticsFile))).toBe(true); // says that test analytics were used

    const listed = await runCli(['--url', testUrl(), '--json', 'alerts', '--namespace', n]);
    expect(listed.code).toBe(0);
    const alerts = JSON.parse(listed.stdout) as Array<Record<string, any>>;
    expect(alerts.map((a) => a.cryptochannel.alert.id).sort()).toEqual((await storedAlerts(client, n)).map((a) => a._id).sort());
    expect(alerts.map((a) => a['@timestamp'])).toEqual([...alerts.map((a) => a['@timestamp'])].sort());
    const since = await runCli(['--url', testUrl(), '--json', 'alerts', '--namespace', n, '--since', new Date(T + 2 * MIN).toISOString()]);
    expect((JSON.parse(since.stdout) as unknown[]).length).toBe(2);
    const human = await runCli(['--url', testUrl(), 'alerts', '--namespace', n, '--analytic', 'AN1500']);
    expect(human.stdout).toContain('AN1500');
    expect(human.stdout).toContain('4 alert(s)');

    // backtest: reports what a tuning would add, writes nothing, moves nothing.
    const before = await storedCheckpoint(client, n);
    const bt = await runCli(['--url', testUrl(), '--json', 'correlate', 'backtest', '--namespace', n, '--from', new Date(T - MIN).toISOString(), '--to', new Date(T + 10 * MIN).toISOString(), '--set', 'ScoreThreshold=40'], env());
    expect(bt.code).toBe(0);
    const report = parse(bt.stdout);
    expect(report.alerts!.map((a) => [a.analytic, a.score, a.exists]).sort()).toEqual([['AN1500', 50, false], ...Array.from({ length: 4 }, () => ['AN1500', 70, true])].sort());
    expect(await storedAlerts(client, n)).toHaveLength(4);
    expect(await storedCheckpoint(client, n)).toEqual(before);
  });

  it('two correlators started together write each alert once', async () => {
    const n = fresh('two');
    await ingestRaw(client, n, 'zeek', alerting(30, T, 'b'));
    const [a, b] = await Promise.all([correlate(n, ['--once']), correlate(n, ['--once'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const [sa, sb] = [parse(a.stdout), parse(b.stdout)];
    const stored = await storedAlerts(client, n);
    expect(stored.map((x) => x._id).sort()).toEqual(await expectedIds(n));
    expect(stored).toHaveLength(30);
    // One ran while the other held the lease (idle), or the second found nothing new, or it met duplicates: never a second copy.
    expect(sa.alerts_written + sb.alerts_written).toBe(30);
    expect([sa.status, sb.status].every((s) => s === 'ok' || s === 'idle')).toBe(true);
  });

  it('after a SIGKILL mid-run, the next run writes the remaining alerts and none twice', async () => {
    const n = fresh('kill');
    await ingestRaw(client, n, 'zeek', alerting(40, T, 'k'));
    const expected = await expectedIds(n);
    const victim = new CliProcess(['--url', testUrl(), '--json', 'correlate', '--once', '--namespace', n, ...FAST, '--page-size', '4', '--lease-ttl', '5s', '--log-level', 'debug'], env({ CC_TEST_SLOW_MS: '60' }));
    await waitFor('the first alerts written', async () => victim.logs().some((l) => l.event?.action === 'alerts-written'));
    victim.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const partial = (await storedAlerts(client, n)).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(40);
    expect(await storedCheckpoint(client, n)).toBeUndefined();

    // Its lease outlives it: until the TTL passes another process stands by.
    const lease = await storedLease(client, n, 0, 1);
    expect(lease!.expires_at).toBeGreaterThan(Date.now());
    const standby = await correlate(n, ['--once']);
    expect(parse(standby.stdout).status).toBe('idle');

    await new Promise((r) => setTimeout(r, Math.max(0, lease!.expires_at - Date.now()) + 200));
    const next = await correlate(n, ['--once']);
    expect(next.code).toBe(0);
    const s = parse(next.stdout);
    expect(s).toMatchObject({ status: 'ok', duplicates: partial, alerts_written: 40 - partial, checkpoint_moved: true });
    const stored = await storedAlerts(client, n);
    expect(stored.map((x) => x._id).sort()).toEqual(expected);
  });

  it('on SIGTERM abandons the run, keeps the checkpoint, hands the lease back and exits 130', async () => {
    const n = fresh('term');
    await ingestRaw(client, n, 'zeek', alerting(40, T, 't'));
    const proc = new CliProcess(['--url', testUrl(), '--json', 'correlate', '--once', '--namespace', n, ...FAST, '--page-size', '4', '--log-level', 'debug'], env({ CC_TEST_SLOW_MS: '60' }));
    await waitFor('the first alerts written', async () => proc.logs().some((l) => l.event?.action === 'alerts-written'));
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(130);
    expect(parse(proc.stdout).status).toBe('interrupted');
    expect(proc.logs().some((l) => l.event?.action === 'stop' && l.event?.reason === 'SIGTERM')).toBe(true);
    expect(await storedCheckpoint(client, n)).toBeUndefined();
    expect((await storedLease(client, n, 0, 1))?.expires_at).toBe(0);
    expect((await storedRuns(client, n)).map((r) => r.status)).toEqual(['interrupted']);
    // The lease was handed back: the next run need not wait for it.
    const next = await correlate(n, ['--once']);
    expect(parse(next.stdout)).toMatchObject({ status: 'ok', checkpoint_moved: true });
    expect((await storedAlerts(client, n)).map((x) => x._id).sort()).toEqual(await expectedIds(n));
  });

  it('scaled out: two services split the partitions; when one is killed the other takes its partitions over', async () => {
    const n = fresh('scale');
    await ingestRaw(client, n, 'zeek', alerting(24, T, 's', 24));
    const args = ['--url', testUrl(), 'correlate', '--every', '1s', '--partitions', '4', '--lease-ttl', '3s', '--namespace', n, ...FAST];
    const a = new CliProcess(args, env());
    const b = new CliProcess(args, env());
    try {
      const owners = async () => Promise.all([0, 1, 2, 3].map(async (p) => (await storedLease(client, n, p, 4))?.owner));
      // Both hold two partitions each at some point.
      await waitFor('an even split of the leases', async () => {
        const o = await owners();
        const counts = [...new Set(o)].map((x) => o.filter((y) => y === x).length);
        return o.every(Boolean) && counts.length === 2 && counts.every((c) => c === 2) && o;
      });
      // The leases are taken at the start of a run: wait for the runs to have written.
      await waitFor('the first alerts', async () => (await storedAlerts(client, n)).length === 24, 30_000);

      a.kill('SIGKILL');
      const pidOf = (owner: string | undefined) => Number(owner?.split(':')[1]);
      await waitFor('b holding all four partitions', async () => (await owners()).every((o) => pidOf(o) === b.pid));

      // New events after the takeover, from clients of every partition: b writes them all.
      const lateAt = Date.now() + 2000;
      await ingestRaw(client, n, 'zeek', alerting(12, lateAt, 'late', 12, 50).map((r) => r.replace(/10\.3\./g, '10.4.')));
      await waitFor('the late alerts', async () => (await storedAlerts(client, n)).length === 36, 30_000);
      const stored = await storedAlerts(client, n);
      expect(stored.map((x) => x._id).sort()).toEqual(await expectedIds(n));
      // Run summaries are written after a run's alerts: wait for the summary of a run past the late
      // events. A run of the killed process may have written alerts and died before its summary, so
      // the summaries can account for fewer than all 36 alerts, never for more (a duplicate is not a write).
      const written = (runs: Array<Record<string, any>>) => runs.reduce((sum, r) => sum + r.alerts_written, 0);
      const runs = await waitFor('the late alerts in the run summaries', async () => {
        const r = await storedRuns(client, n);
        return r.some((x) => Date.parse(String(x.window_end)) > lateAt) && r;
      }, 30_000);
      expect(written(runs)).toBeLessThanOrEqual(36);
      expect(runs.every((r) => r.mode === 'every' && r.status === 'ok')).toBe(true);
    } finally {
      a.kill('SIGKILL');
      b.kill('SIGTERM');
      expect((await b.exited).code).toBe(130);
    }
  });

  it('exits 1 and keeps the checkpoint when the engine keeps answering 503 or 429, or cannot be reached', async () => {
    const n = fresh('fault');
    await ingestRaw(client, n, 'zeek', alerting(12, T, 'f'));
    const proxy = await PathFaultProxy.start(testUrl());
    try {
      proxy.fail(/^POST \/_bulk/, { status: 503 });
      const bulk503 = await runCli(['--url', proxy.url, '--json', 'correlate', '--once', '--namespace', n, ...FAST], env());
      expect(bulk503.code).toBe(1);
      expect(parse(bulk503.stdout)).toMatchObject({ status: 'failed', checkpoint_moved: false });
      const retries = bulk503.stderr.split('\n').filter((l) => l.startsWith('{') && (JSON.parse(l) as Record<string, any>).event?.action === 'retry');
      expect(retries.length).toBeGreaterThanOrEqual(2);
      expect(await storedCheckpoint(client, n)).toBeUndefined();

      proxy.clear();
      proxy.fail(/^POST \/_search/, { status: 429 }, Number.POSITIVE_INFINITY, 1);
      const search429 = await runCli(['--url', proxy.url, '--json', 'correlate', '--once', '--namespace', n, ...FAST, '--page-size', '4'], env());
      expect(search429.code).toBe(1);
      expect(parse(search429.stdout).error).toMatch(/429/);
      expect(await storedCheckpoint(client, n)).toBeUndefined();
    } finally {
      await proxy.close();
    }
    const unreachable = await runCli(['--url', 'http://127.0.0.1:9', 'correlate', '--once', '--namespace', n, ...FAST], env());
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/"event":\{"action":"connect","outcome":"failure"\}/);
    expect(await storedCheckpoint(client, n)).toBeUndefined();

    const ok = await correlate(n, ['--once']);
    expect(parse(ok.stdout)).toMatchObject({ status: 'ok', checkpoint_moved: true });
    expect((await storedAlerts(client, n)).length).toBe(12);
  });

  it('uses a tuning change (tune set) from its next run, without a restart', async () => {
    const n = fresh('tune');
    const get = await runCli(['--url', testUrl(), '--json', 'tune', 'get', 'BaselineMgmtHosts']);
    const original = (JSON.parse(get.stdout) as { value: string[] }).value;
    const tuned = `c2.${n}.tunetest.example`;
    await ingestRaw(client, n, 'zeek', [zeekSsl({ time: Date.now() - 5000, uid: 'Ctune1', orig: '10.5.0.1', resp: '203.0.113.40', sni: tuned })]);
    const service = new CliProcess(['--url', testUrl(), 'correlate', '--every', '1s', '--namespace', n, ...FAST], env());
    try {
      await waitFor('the alert before tuning', async () => (await storedAlerts(client, n)).length === 1, 30_000);
      const set = await runCli(['--url', testUrl(), '--json', 'tune', 'set', 'BaselineMgmtHosts', JSON.stringify([...original, tuned])]);
      expect(set.code).toBe(0);
      const revision = (JSON.parse(set.stdout) as { revision: number }).revision;
      // The same server again, now in the baseline, and a control server that is not.
      const at = Date.now() + 2000;
      await ingestRaw(client, n, 'zeek', [zeekSsl({ time: at, uid: 'Ctune2', orig: '10.5.0.1', resp: '203.0.113.40', sni: tuned }), zeekSsl({ time: at, uid: 'Ctune3', orig: '10.5.0.2', resp: '203.0.113.41', sni: `other.${n}.tunetest.example` })]);
      const after = await waitFor('a run with the new tuning past the new events', async () => (await storedRuns(client, n)).find((r) => r.tunables_revision >= revision && Date.parse(r.window_end) > at), 30_000);
      expect(after.status).toBe('ok');
      const alerts = await storedAlerts(client, n);
      expect(alerts.map((a) => a._source.host?.ip?.[0]).sort()).toEqual(['10.5.0.1', '10.5.0.2']);
    } finally {
      service.kill('SIGTERM');
      await service.exited;
      await runCli(['--url', testUrl(), 'tune', 'set', 'BaselineMgmtHosts', JSON.stringify(original)]);
    }
  });
});
