/**
 * The runtime's pure parts: which hits are correlatable, which partition and namespace an alert
 * belongs to, the run log's mappings and document (held to kibana-assets/fields/runs.yml), the ECS
 * log lines, and the CLI's time syntax.
 */
import { PassThrough } from 'node:stream';
import { loadContent, loadRunsFields, SOURCES } from '../../../src/content';
import type { AlertDocument } from '../../../src/correlator/alert';
import { checkHit } from '../../../src/correlator/events';
import { intelLookup } from '../../../src/correlator/intel';
import { ecsLogger } from '../../../src/correlator/logger';
import { alertNamespace, alertPartition, alertPartitionKey, namespaceOfIndex, newestEvidence, partitionOf } from '../../../src/correlator/partition';
import { sourceTargets } from '../../../src/correlator/reader';
import { runLogValues, type RunSummary } from '../../../src/correlator/run';
import { runDocument, runsMappings } from '../../../src/correlator/runs';
import { parseTime } from '../../../src/cli/commands/correlate';

const content = loadContent();
const runsFields = loadRunsFields(content.roots.kibanaAssets);

describe('checkHit', () => {
  const base = { '@timestamp': '2026-11-28T10:00:00Z', event: { dataset: 'cryptochannel.zeek', action: 'tls_session' }, source: { ip: '10.0.0.1', port: 50000 }, destination: { ip: '203.0.113.5', port: '443' } };
  const hit = (doc: unknown, sort: unknown[] = [1764324000000, 'x']) => ({ _index: '.ds-logs-cryptochannel.zeek-default-000001', _id: 'id1', _source: doc, sort });

  it('takes the engine-parsed @timestamp from the sort value and names the source', () => {
    const checked = checkHit(hit(base));
    expect(checked).toEqual({ ok: true, source: 'zeek', event: { index: '.ds-logs-cryptochannel.zeek-default-000001', id: 'id1', time: 1764324000000, doc: base } });
  });

  it.each([
    ['no _source', undefined, '_source is not an object'],
    ['no dataset', { ...base, event: { action: 'x' } }, 'event.dataset does not name a cryptochannel source'],
    ['a foreign dataset', { ...base, event: { dataset: 'system.auth' } }, 'event.dataset does not name a cryptochannel source'],
    ['an unknown cryptochannel dataset', { ...base, event: { dataset: 'cryptochannel.bogus' } }, 'event.dataset does not name a cryptochannel source'],
    ['a numeric host.id', { ...base, host: { id: 42 } }, 'host.id is not a string'],
    ['an object entity id', { ...base, process: { entity_id: { a: 1 } } }, 'process.entity_id is not a string'],
    ['an ip that is not one', { ...base, source: { ip: 'ten.0.0.1' } }, 'source.ip is not an IP address'],
    ['a port out of range', { ...base, destination: { ip: '203.0.113.5', port: 70000 } }, 'destination.port is not a port'],
    ['host.ip with a non-address', { ...base, host: { ip: ['10.0.0.1', 'x'] } }, 'host.ip is not a list of IP addresses'],
  ])('skips %s', (_name, doc, reason) => {
    expect(checkHit(hit(doc))).toEqual({ ok: false, reason });
  });

  it('falls back to @timestamp in the document, and refuses a time it cannot read', () => {
    expect(checkHit(hit(base, [])).ok).toBe(true);
    expect(checkHit(hit({ ...base, '@timestamp': 'yesterday' }, []))).toEqual({ ok: false, reason: '@timestamp is missing or not a date' });
  });
});

const alert = (doc: Record<string, unknown>, id = 'aid'): AlertDocument => ({ _id: id, doc });

describe('partitions and namespaces', () => {
  it('hash a key into a stable partition in range', () => {
    expect(partitionOf('host-a', 1)).toBe(0);
    const counts = new Array(4).fill(0);
    for (let i = 0; i < 400; i++) counts[partitionOf(`host-${i}`, 4)]++;
    for (const c of counts) expect(c).toBeGreaterThan(60);
    expect(partitionOf('host-a', 4)).toBe(partitionOf('host-a', 4));
  });

  it('key an alert by its internal endpoint: host.id, host.name, host.ip, source.ip, else its id', () => {
    expect(alertPartitionKey(alert({ host: { id: 'H', name: 'n', ip: ['10.0.0.1'] } }))).toBe('H');
    expect(alertPartitionKey(alert({ host: { name: 'n', ip: ['10.0.0.1'] } }))).toBe('n');
    expect(alertPartitionKey(alert({ host: { ip: ['10.0.0.1'] } }))).toBe('10.0.0.1');
    expect(alertPartitionKey(alert({ source: { ip: '10.0.0.2' } }))).toBe('10.0.0.2');
    expect(alertPartitionKey(alert({}, 'the-id'))).toBe('the-id');
    expect(alertPartition(alert({ host: { id: 'H' } }), 8)).toBe(partitionOf('H', 8));
  });

  it('read the namespace from Elasticsearch and OpenSearch backing index names', () => {
    expect(namespaceOfIndex('.ds-logs-cryptochannel.zeek-prod-2026.11.28-000001')).toBe('prod');
    expect(namespaceOfIndex('.ds-logs-cryptochannel.sysmon-default-000003')).toBe('default');
    expect(namespaceOfIndex('logs-cryptochannel.zeek-lab')).toBe('lab');
    expect(namespaceOfIndex('something-else')).toBeUndefined();
  });

  it('put an alert into its evidence namespace, default when mixed', () => {
    const ev = (index: string, timestamp = '2026-11-28T10:00:00.000Z') => ({ index, id: 'x', timestamp });
    expect(alertNamespace(alert({ cryptochannel: { alert: { evidence: [ev('.ds-logs-cryptochannel.zeek-lab-000001'), ev('.ds-logs-cryptochannel.sysmon-lab-2026.11.28-000002')] } } }))).toBe('lab');
    expect(alertNamespace(alert({ cryptochannel: { alert: { evidence: [ev('.ds-logs-cryptochannel.zeek-lab-000001'), ev('.ds-logs-cryptochannel.sysmon-prod-000001')] } } }))).toBe('default');
    const newest = newestEvidence(alert({ '@timestamp': '2026-01-01T00:00:00Z', cryptochannel: { alert: { evidence: [ev('i', '2026-11-28T10:00:00.000Z'), ev('i', '2026-11-28T10:05:00.000Z')] } } }));
    expect(newest).toBe(Date.parse('2026-11-28T10:05:00.000Z'));
  });

  it('read every source stream but alerts and dead letters, narrowed to a namespace on request', () => {
    expect(sourceTargets()).toBe('logs-cryptochannel.*-*,-logs-cryptochannel.alerts-*,-logs-cryptochannel.deadletter-*');
    expect(sourceTargets('lab')).toBe('logs-cryptochannel.*-lab,-logs-cryptochannel.alerts-*,-logs-cryptochannel.deadletter-*');
  });
});

describe('threat intel lookup', () => {
  it('finds JA3s and certificate SHA1s whatever their case', () => {
    const lookup = intelLookup([
      { kind: 'ja3', value: 'ABCDEF0123456789abcdef0123456789', list: 'abusech_sslbl_ja3', reason: 'x' },
      { kind: 'cert_sha1', value: 'c4129e7d0ba638f155e02c917ab36d4809ef217c', list: 'abusech_sslbl_certificates', reason: 'y' },
    ]);
    expect(lookup.ja3('abcdef0123456789ABCDEF0123456789')?.list).toBe('abusech_sslbl_ja3');
    expect(lookup.certSha1('C4129E7D0BA638F155E02C917AB36D4809EF217C')?.reason).toBe('y');
    expect(lookup.ja3('00000000000000000000000000000000')).toBeUndefined();
  });
});

describe('the run log', () => {
  const summary: RunSummary = {
    run_id: 'r1',
    mode: 'once',
    status: 'ok',
    namespace: '*',
    partitions: { count: 4, held: [1, 3] },
    started_at: '2026-12-01T00:00:00.000Z',
    window: { start: '2026-11-30T23:00:00.000Z', end: '2026-11-30T23:42:00.000Z', read_from: '2026-11-30T22:43:00.000Z', read_to: '2026-11-30T23:59:00.000Z' },
    events_read: 9,
    events_by_source: Object.fromEntries(SOURCES.map((s) => [s, 1])),
    skipped_malformed: 1,
    malformed_reasons: { 'host.id is not a string': 1 },
    findings: 3,
    alerts_written: 2,
    duplicates: 1,
    below_threshold: 1,
    write_failures: 0,
    peak_buffered: 5,
    duration_ms: 12,
    lag_ms: 60_012,
    checkpoint_moved: true,
    tunables_revision: 3,
    intel: { ja3: 1, cert_sha1: 2 },
    error: 'none',
  };

  it('writes only fields runs.yml declares, with values of the declared types', () => {
    const values = runLogValues(summary, { packageVersion: 'test', hostName: 'h' });
    const declared = new Map(runsFields.fields.map((f) => [f.name, f.type]));
    for (const [name, value] of Object.entries(values)) {
      expect([name, declared.has(name)]).toEqual([name, true]);
      const type = declared.get(name)!;
      const ok = type === 'long' ? Number.isInteger(value) : type === 'boolean' ? typeof value === 'boolean' : type === 'date' ? Number.isFinite(Date.parse(String(value))) : typeof value === 'string' || Array.isArray(value);
      expect([name, ok]).toEqual([name, true]);
    }
    expect(values['cryptochannel.run.partitions']).toEqual(['1/4', '3/4']);
  });

  it('maps every runs.yml field, nested, and nests a document the same way', () => {
    const mappings = runsMappings(runsFields) as { dynamic: boolean; properties: Record<string, any> };
    expect(mappings.dynamic).toBe(false);
    expect(mappings.properties['@timestamp']).toEqual({ type: 'date' });
    const run = mappings.properties.cryptochannel.properties.run.properties;
    expect(run.id).toEqual({ type: 'keyword' });
    expect(run.source_events.properties.zeek).toEqual({ type: 'long' });
    expect(run.checkpoint_moved).toEqual({ type: 'boolean' });
    expect(runDocument({ '@timestamp': 't', 'cryptochannel.run.id': 'r', 'cryptochannel.run.source_events.zeek': 3, 'cryptochannel.run.error': undefined })).toEqual({ '@timestamp': 't', cryptochannel: { run: { id: 'r', source_events: { zeek: 3 } } } });
  });
});

describe('the ECS log', () => {
  it('writes one ECS JSON object per line, errors as error.*', () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const log = ecsLogger({ destination: stream, level: 'info' });
    log.debug({}, 'not at info');
    log.info({ event: { action: 'run-end' }, cryptochannel: { run: { id: 'r1' } } }, 'run r1 ok');
    log.error({ err: new Error('boom') }, 'run failed');
    expect(lines).toHaveLength(2);
    const [info, error] = lines.map((l) => JSON.parse(l));
    expect(info).toMatchObject({ 'log.level': 'info', message: 'run r1 ok', 'ecs.version': expect.any(String), 'service.name': 'cryptochannel-correlator', event: { action: 'run-end' }, cryptochannel: { run: { id: 'r1' } } });
    expect(Number.isFinite(Date.parse(info['@timestamp']))).toBe(true);
    expect(error).toMatchObject({ 'log.level': 'error', error: { type: 'Error', message: 'boom' } });
  });
});

describe('times on the command line', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it('reads ISO 8601 (UTC without a zone) and durations ago', () => {
    expect(parseTime('2026-11-28T10:00:00Z', now)).toBe(Date.parse('2026-11-28T10:00:00Z'));
    expect(parseTime('2026-11-28T10:00:00', now)).toBe(Date.parse('2026-11-28T10:00:00Z'));
    expect(parseTime('2026-11-28T12:00:00+02:00', now)).toBe(Date.parse('2026-11-28T10:00:00Z'));
    expect(parseTime('2026-11-28', now)).toBe(Date.parse('2026-11-28T00:00:00Z'));
    expect(parseTime('24h', now)).toBe(now - 86_400_000);
    expect(parseTime('90m', now)).toBe(now - 5_400_000);
    expect(() => parseTime('last tuesday', now)).toThrow(/ISO 8601/);
  });
});
