/**
 * Shared by the correlator's integration tests: raw Zeek records sent through the real pipeline,
 * documents written around it (malformed on purpose), raw golden scenarios written as files, a
 * test analytics module whose findings the tests control, a proxy that fails chosen paths, the
 * CLI as a child process, a describe block's engine client and namespaces, and cleanup of a test
 * namespace's state.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { bulk, connect, encodePath, refresh, type ClusterClient } from '../../src/cluster';
import { dataStreamName, loadContent, loadRunsFields } from '../../src/content';
import { checkpointId, STATE_INDEX } from '../../src/correlator/checkpoint';
import { leaseId } from '../../src/correlator/lease';
import { silentLog } from '../../src/correlator/logger';
import type { RuntimeConfig } from '../../src/correlator/run';
import type { AnalyticFn, AnalyticId, Finding, SourceEvent } from '../../src/correlator/types';
import { CLI } from './support/cli';
import { testUrl } from './support/engine-env';

export const content = loadContent();
export const runsFields = loadRunsFields(content.roots.kibanaAssets);

/** A Zeek conn record (JSON, as Zeek writes it): the pipeline makes a network_flow event with a community id. */
export function zeekConn(o: { time: number; uid: string; orig: string; resp: string; respPort: number; origPort?: number }): string {
  return JSON.stringify({
    _path: 'conn',
    ts: o.time / 1000,
    uid: o.uid,
    'id.orig_h': o.orig,
    'id.orig_p': o.origPort ?? 40000 + (Number.parseInt(o.uid.replace(/\D/g, '') || '0', 10) % 20000),
    'id.resp_h': o.resp,
    'id.resp_p': o.respPort,
    proto: 'tcp',
    service: 'ssl',
    duration: 1.5,
    orig_bytes: 1200,
    resp_bytes: 5400,
    conn_state: 'SF',
    history: 'ShADadFf',
    orig_pkts: 12,
    resp_pkts: 14,
  });
}

/** A Zeek ssl record: the pipeline copies the SNI to destination.domain. */
export function zeekSsl(o: { time: number; uid: string; orig: string; resp: string; sni: string; respPort?: number }): string {
  return JSON.stringify({ _path: 'ssl', ts: o.time / 1000, uid: o.uid, 'id.orig_h': o.orig, 'id.orig_p': 45000, 'id.resp_h': o.resp, 'id.resp_p': o.respPort ?? 443, version: 'TLSv13', cipher: 'TLS_AES_128_GCM_SHA256', server_name: o.sni, established: true });
}

/** Raw records into a source stream through its real pipeline (as `cryptochannel ingest` sends them), refreshed. */
export async function ingestRaw(client: ClusterClient, namespace: string, source: string, records: string[]): Promise<void> {
  const index = dataStreamName(source, namespace);
  const answer = await bulk(client, records.map((message) => ({ action: { create: { _index: index } }, document: { message } })));
  const bad = answer.items.filter((i) => (i.create?.status ?? 500) >= 300 || i.create?._index?.includes('deadletter'));
  if (bad.length) throw new Error(`ingest of test records failed: ${JSON.stringify(bad[0])}`);
  await refresh(client, index);
}

/** Documents written around the pipeline (`pipeline=_none`): how malformed events get into a source stream. */
export async function writeAroundPipeline(client: ClusterClient, namespace: string, source: string, docs: Array<Record<string, unknown>>): Promise<void> {
  const index = dataStreamName(source, namespace);
  const answer = await bulk(client, docs.map((document) => ({ action: { create: { _index: index } }, document })), { pipeline: '_none' });
  if (answer.errors) throw new Error(`writing test documents failed: ${JSON.stringify(answer.items.find((i) => i.create?.error))}`);
  await refresh(client, index);
}

/** An event of a raw golden scenario (test/fixtures/correlator/<an>/raw/*.json). */
export interface RawScenarioEvent {
  id: string;
  source: string;
  raw: unknown;
  meta?: unknown;
}

/**
 * A raw scenario as files in dir, one per source and one record per line, as a shipper would have
 * written them (what `cryptochannel ingest` and the demo's ingestFiles read). Shipper metadata
 * (meta) has no place in such a file, so a scenario that needs it is refused, not sent without it.
 */
export function writeRawFiles(dir: string, events: RawScenarioEvent[], tag: string): Array<{ source: string; path: string; count: number }> {
  const bySource = new Map<string, string[]>();
  for (const e of events) {
    if (e.meta) throw new Error(`${e.id}: shipper metadata (meta) cannot be sent with cryptochannel ingest; an end-to-end scenario must not need it`);
    const line = typeof e.raw === 'string' ? e.raw : JSON.stringify(e.raw);
    bySource.set(e.source, [...(bySource.get(e.source) ?? []), line]);
  }
  return [...bySource].map(([source, lines]) => {
    const file = path.join(dir, `${tag}-${source}.log`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return { source, path: file, count: lines.length };
  });
}

/**
 * The test analytics (TypeScript, for in-process runs; `analyticsModuleSource` is the same logic as
 * CommonJS for the CLI): on Zeek conn events,
 * - AN1500 alerts (70 points) on each connection to port 8443, and scores 50 (below the default
 *   ScoreThreshold 60) on port 9443;
 * - AN1497 groups connections to port 7443 of one server within 5 minutes of the group's first
 *   (a join across events, and across runs through the lookback);
 * on Zeek ssl events,
 * - AN1499 alerts on an SNI under tunetest.example that is not in BaselineMgmtHosts (the live tunable).
 * host = the client address, so partitions split alerts by client.
 */
export const TEST_ANALYTICS = String.raw`
const SLOW_MS = Number(process.env.CC_TEST_SLOW_MS || 0);
function busy() { const until = Date.now() + SLOW_MS; while (Date.now() < until) { /* a slow analytic, so a test can kill a run midway */ } }
function str(e, p) { let n = e.doc; for (const k of p.split('.')) { if (n == null || typeof n !== 'object') return undefined; n = n[k]; } return n; }
function finding(analytic, evidence, points, name) {
  const first = evidence[0];
  return { analytic, evidence: evidence.slice(), reasons: [{ name, observed: String(str(first, 'destination.port')), threshold: 'test', points, message: name }],
    entities: { host: { ip: [str(first, 'source.ip')] }, source: { ip: str(first, 'source.ip') }, destination: { ip: str(first, 'destination.ip'), port: str(first, 'destination.port'), domain: str(first, 'destination.domain') } },
    summary: analytic + ' test finding ' + name };
}
const conn = (e) => str(e, 'event.dataset') === 'cryptochannel.zeek' && str(e, 'event.action') === 'network_flow';
exports.analytics = {
  AN1500: (events) => { if (SLOW_MS) busy(); const out = [];
    for (const e of events) { if (!conn(e)) continue; const port = str(e, 'destination.port');
      if (port === 8443) out.push(finding('AN1500', [e], 70, 'test_port_8443'));
      if (port === 9443) out.push(finding('AN1500', [e], 50, 'test_port_9443')); }
    return out; },
  AN1497: (events) => { const out = []; const open = new Map();
    for (const e of events) { if (!conn(e) || str(e, 'destination.port') !== 7443) continue; const k = str(e, 'destination.ip'); const g = open.get(k);
      if (g && e.time - g[0].time <= 300000) g.push(e); else { if (g && g.length > 1) out.push(finding('AN1497', g, 75, 'test_group')); open.set(k, [e]); } }
    for (const g of open.values()) if (g.length > 1) out.push(finding('AN1497', g, 75, 'test_group'));
    return out; },
  AN1499: (events, ctx) => events.filter((e) => str(e, 'event.dataset') === 'cryptochannel.zeek' && /\.tunetest\.example$/.test(str(e, 'destination.domain') || '') && !ctx.tunables.BaselineMgmtHosts.includes(str(e, 'destination.domain')))
    .map((e) => finding('AN1499', [e], 80, 'test_outside_baseline')),
};
`;

/** The test analytics as a module file for the CLI (CRYPTOCHANNEL_TEST_ANALYTICS). */
export function analyticsModule(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-analytics-'));
  const file = path.join(dir, 'test-analytics.cjs');
  writeFileSync(file, TEST_ANALYTICS);
  return file;
}

/** The same analytics in this process. */
export function testAnalytics(): Partial<Record<AnalyticId, AnalyticFn>> {
  const loaded = { exports: {} as { analytics: Partial<Record<AnalyticId, AnalyticFn>> } };
  new Function('exports', 'process', TEST_ANALYTICS)(loaded.exports, { env: {} });
  return loaded.exports.analytics;
}

export type { Finding, SourceEvent };

/** A runtime configuration for in-process runs of a test namespace. */
export function runtimeConfig(client: ClusterClient, namespace: string, over: Partial<RuntimeConfig> = {}): RuntimeConfig {
  return {
    client,
    content,
    runsFields,
    analytics: testAnalytics(),
    packageVersion: 'test',
    hostName: 'jest',
    owner: `jest-${process.pid}`,
    namespace,
    partitions: 1,
    leaseTtlMs: 30_000,
    delayMs: 0,
    stepMs: 1000,
    // The test analytics' findings are complete when their newest event is seen: no need to wait for more.
    emitLagMs: 0,
    pageSize: 50,
    log: silentLog,
    now: Date.now,
    ...over,
  };
}

export interface StoredCheckpoint {
  checkpoint: string;
  run_id: string;
}

export async function storedCheckpoint(client: ClusterClient, namespace: string, partition = 0, partitions = 1): Promise<StoredCheckpoint | undefined> {
  const res = await client.request<{ found?: boolean; _source?: StoredCheckpoint }>({ method: 'GET', path: encodePath(STATE_INDEX, '_doc', checkpointId(namespace, partition, partitions)), ignore: [404] });
  return res.body.found ? res.body._source : undefined;
}

export async function storedLease(client: ClusterClient, namespace: string, partition: number, partitions: number): Promise<{ owner: string; expires_at: number } | undefined> {
  const res = await client.request<{ found?: boolean; _source?: { owner: string; expires_at: number } }>({ method: 'GET', path: encodePath(STATE_INDEX, '_doc', leaseId(namespace, partition, partitions)), ignore: [404] });
  return res.body.found ? res.body._source : undefined;
}

export interface AlertSource {
  '@timestamp': string;
  host?: { ip?: string[] };
  cryptochannel: { alert: { id: string; analytic: string; score: number; run_id: string; evidence: Array<{ id: string }> } };
}

export async function storedAlerts(client: ClusterClient, namespace: string): Promise<Array<{ _id: string; _source: AlertSource }>> {
  await refresh(client, dataStreamName('alerts', namespace)).catch(() => undefined);
  const res = await client.request<{ hits: { hits: Array<{ _id: string; _source: AlertSource }> } }>({
    method: 'POST',
    path: `/${dataStreamName('alerts', namespace)}/_search`,
    query: { ignore_unavailable: true, allow_no_indices: true },
    body: { size: 1000, sort: [{ '@timestamp': 'asc' }] },
    // Polled while the correlator creates the stream: a shard not yet started answers 503, which the
    // seam retries for idempotent calls.
    idempotent: true,
  });
  return res.body.hits.hits;
}

export async function storedRuns(client: ClusterClient, namespace: string): Promise<Array<Record<string, any>>> {
  await refresh(client, runsFields.index).catch(() => undefined);
  const res = await client.request<{ hits: { hits: Array<{ _source: { cryptochannel: { run: Record<string, any> } } }> } }>({
    method: 'POST',
    path: `/${runsFields.index}/_search`,
    query: { ignore_unavailable: true, allow_no_indices: true },
    body: { size: 1000, query: { term: { 'cryptochannel.run.namespace': namespace } }, sort: [{ '@timestamp': 'asc' }] },
    idempotent: true,
  });
  return res.body.hits.hits.map((h) => h._source.cryptochannel.run);
}

/** Removes a test namespace's streams, state documents and run log entries. */
export async function cleanup(client: ClusterClient, namespace: string, partitionCounts: number[] = [1]): Promise<void> {
  await client.request({ method: 'DELETE', path: `/_data_stream/logs-cryptochannel.*-${namespace}`, ignore: [404] });
  for (const n of partitionCounts) {
    const ids = [`correlator-members:${namespace}:${n}`, ...Array.from({ length: n }, (_, p) => [checkpointId(namespace, p, n), leaseId(namespace, p, n)]).flat()];
    for (const id of ids) await client.request({ method: 'DELETE', path: encodePath(STATE_INDEX, '_doc', id), ignore: [404] });
  }
  await client.request({ method: 'POST', path: `/${runsFields.index}/_delete_by_query`, query: { refresh: 'true', ignore_unavailable: true }, body: { query: { term: { 'cryptochannel.run.namespace': namespace } } }, idempotent: true, ignore: [404] });
}

/**
 * The engine for the tests of the describe block it is called in: connected before them; after
 * them, every namespace they took cleaned up and the client closed. `client` is there once the
 * block's beforeAll has run; `namespace(prefix)` is a fresh one (prefix + random hex), cleaned up.
 */
export function useTestEngine(): { readonly client: ClusterClient; namespace(prefix: string): string } {
  let client: ClusterClient | undefined;
  const namespaces: string[] = [];
  beforeAll(async () => {
    client = await connect({ url: testUrl() });
  });
  afterAll(async () => {
    if (!client) return; // the connect failed: beforeAll's error is the one to read
    for (const n of namespaces) await cleanup(client, n);
    await client.close();
  });
  return {
    get client(): ClusterClient {
      if (!client) throw new Error('useTestEngine: no client before beforeAll has connected');
      return client;
    },
    namespace(prefix: string): string {
      const namespace = `${prefix}${randomBytes(3).toString('hex')}`;
      namespaces.push(namespace);
      return namespace;
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The CLI as a long-running child: its output so far, ECS log lines parsed, and its exit. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(args: string[], env: Record<string, string | undefined> = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin.end();
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The ECS log lines written so far. */
  logs(): Array<Record<string, any>> {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Forwards to the engine but fails requests whose path matches, as many times as asked (Infinity: for good). */
export class PathFaultProxy {
  private readonly server: http.Server;
  private rules: Array<{ match: RegExp; fault: { status: number } | 'reset'; remaining: number; skip: number }> = [];
  readonly faulted: string[] = [];

  private constructor(private readonly target: URL) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  static async start(targetUrl: string): Promise<PathFaultProxy> {
    const proxy = new PathFaultProxy(new URL(targetUrl));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests matching `match` fail with `fault`, after the first `skip` of them went through. */
  fail(match: RegExp, fault: { status: number } | 'reset', times = Number.POSITIVE_INFINITY, skip = 0): void {
    this.rules.push({ match, fault, remaining: times, skip });
  }

  clear(): void {
    this.rules = [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const line = `${req.method} ${req.url}`;
    const rule = this.rules.find((r) => r.match.test(line) && r.remaining > 0 && r.skip-- <= 0);
    if (rule) {
      rule.remaining--;
      this.faulted.push(line);
      if (rule.fault === 'reset') {
        req.socket.destroy();
        return;
      }
      req.resume();
      res.writeHead(rule.fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'injected', reason: `injected ${rule.fault.status}` }, status: rule.fault.status }));
      return;
    }
    const upstream = http.request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  }
}
