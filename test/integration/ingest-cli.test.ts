/**
 * `cryptochannel ingest` as a user runs it, on the real engine: corpus files in place, counts that
 * add up, events searchable with their derived facts, hostile input that is dead-lettered or
 * indexed but never lost, stdin and JSON arrays.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, search, type ClusterClient } from '../../src/cluster';
import { loadContent, SOURCES } from '../../src/content';
import { runCli } from './support/cli';
import { corpusPath } from './support/corpus';
import { testEngineLabel, testUrl } from './support/engine-env';

const content = loadContent();
const sources = SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s && p.name === 'default'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-ingest-'));

interface Report {
  read: number;
  indexed: number;
  deadlettered: number;
  rejected: number;
  files: Array<{ format: string; read: number }>;
  assets: { created: number; updated: number; unchanged: number };
}

describe(`cryptochannel ingest on ${testEngineLabel()}`, () => {
  const namespace = `cctest${randomBytes(4).toString('hex')}`;
  let client: ClusterClient;
  const ingest = async (source: string, files: string[], input?: string, extra: string[] = []) => {
    const run = await runCli(['--url', testUrl(), '--json', 'ingest', '--source', source, '--namespace', namespace, ...extra, ...files], {}, input);
    return { ...run, report: run.stdout ? (JSON.parse(run.stdout) as Report) : undefined };
  };

  beforeAll(async () => {
    client = await connect({ url: testUrl() });
  });
  afterAll(async () => {
    await client.request({ method: 'DELETE', path: `/_data_stream/logs-cryptochannel.*-${namespace}`, ignore: [404] });
    await client.close();
  });

  it('ingests Zeek TSV corpus files in place; counts add up; events carry their derived facts', async () => {
    const files = ['zeek/foxio-ja4_zeek_tls-handshake_ssl.log', 'zeek/salesforce-ja3_curl_test1_ssl.log', 'zeek/zeek_scripts.base.protocols.ssl.basic__x509.log'].map((f) => corpusPath(f));
    const { code, report, stderr } = await ingest('zeek', files);
    expect(stderr).not.toContain('error:');
    expect(code).toBe(0);
    expect(report!.files.map((f) => f.format)).toEqual(['zeek-tsv', 'zeek-tsv', 'zeek-tsv']);
    expect(report!.read).toBe(report!.indexed + report!.deadlettered);
    expect(report!.rejected).toBe(0);
    expect(report!.indexed).toBe(21);
    expect(report!.deadlettered).toBe(2); // the x509 baseline's masked times

    const hits = await search<Record<string, any>>(client, `logs-cryptochannel.zeek-${namespace}`, { size: 100, query: { exists: { field: 'cryptochannel.tls.ja4' } } });
    expect(hits.hits.hits.length).toBeGreaterThan(10);
    const doc = hits.hits.hits[0]!._source!;
    expect(doc.event.dataset).toBe('cryptochannel.zeek');
    expect(doc.network.community_id).toMatch(/^1:/);
    expect(typeof doc.cryptochannel.tls.sni_missing).toBe('boolean');
    const dead = await search<Record<string, any>>(client, `logs-cryptochannel.deadletter-${namespace}`, { size: 10 });
    expect(dead.hits.hits.map((h) => h._source!.error.message)).toEqual([expect.stringContaining('masked or corrupt time'), expect.stringContaining('masked or corrupt time')]);
  });

  // Every corpus sample that belongs to a source, read in place. Elastic's samples are its own
  // pipelines' inputs (raw lines, Elastic Agent documents) or its outputs (sample_event.json):
  // cryptochannel must account for each record, indexed or dead-lettered, never rejected.
  const CORPUS: Array<[string, string]> = [
    ['sysmon', 'elastic-integrations/windows_sysmon_operational/test-events.excerpt-eid3-record22.json'],
    ['sysmon', 'elastic-integrations/windows_sysmon_operational/test-image-loaded-failed-signature.json'],
    ['suricata', 'elastic-integrations/suricata_eve/test-eve-tls-empty-subject.log'],
    ['suricata', 'elastic-integrations/suricata_eve/test-eve-tls-empty-issuerdn.log'],
    ['netflow', 'elastic-integrations/netflow/test-netflow-log-events.excerpt-event1.json'],
    ['auditd', 'elastic-integrations/auditd/test-auditd-raw.log'],
    ['auditd', 'elastic-integrations/auditd/test-coalesced-network-events.json'],
    ['auditd', 'elastic-integrations/auditd_manager/sample_event.json'],
    ['unifiedlog', 'elastic-integrations/unifiedlogs/sample_event.json'],
    ['esxi', 'elastic-integrations/vsphere/test-default.log'],
    ['esxi', 'elastic-integrations/vsphere/test-format-common.excerpt.log'],
    ['zeek', 'elastic-integrations/zeek_ssl/test-ssl.log'],
    ['zeek', 'elastic-integrations/zeek_x509/test-x509.log'],
    ...readdirSync(corpusPath('zeek')).map((f): [string, string] => ['zeek', `zeek/${f}`]),
  ];

  it.each(CORPUS)('%s: ingests %s in place; counts add up and match the streams', async (source, file) => {
    const ns = `cccorpus${randomBytes(4).toString('hex')}`;
    const run = await runCli(['--url', testUrl(), '--json', 'ingest', '--source', source, '--namespace', ns, corpusPath(file)]);
    try {
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as Report;
      expect(report.read).toBeGreaterThan(0);
      expect(report.rejected).toBe(0);
      expect(report.indexed + report.deadlettered).toBe(report.read);
      const count = async (stream: string) => (await client.request<{ count: number }>({ method: 'GET', path: `/${stream}/_count`, ignore: [404] })).body.count ?? 0;
      expect(await count(`logs-cryptochannel.${source}-${ns}`)).toBe(report.indexed);
      expect(await count(`logs-cryptochannel.deadletter-${ns}`)).toBe(report.deadlettered);
      if (report.indexed > 0) {
        const hits = await search<Record<string, any>>(client, `logs-cryptochannel.${source}-${ns}`, { size: 1000 });
        for (const hit of hits.hits.hits) {
          expect(hit._source!.event.dataset).toBe(`cryptochannel.${source}`);
          expect(hit._source!.ecs.version).toMatch(/^9\./);
        }
      }
    } finally {
      await client.request({ method: 'DELETE', path: `/_data_stream/logs-cryptochannel.*-${ns}`, ignore: [404] });
    }
  });

  it('changes no installed asset on a second run', async () => {
    const { report } = await ingest('zeek', [corpusPath('zeek/salesforce-ja3_chrome_test1_ssl.log')]);
    expect(report!.assets.created + report!.assets.updated).toBe(0);
    expect(report!.assets.unchanged).toBeGreaterThan(5);
  });

  it('reads standard input and JSON arrays', async () => {
    const line = '{"_path":"ssl","ts":1764324000.5,"uid":"Cstdin","id.orig_h":"10.0.0.1","id.orig_p":1234,"id.resp_h":"198.51.100.1","id.resp_p":443,"server_name":"stdin.example"}';
    const viaStdin = await ingest('zeek', ['-'], `${line}\n`);
    expect(viaStdin.report).toMatchObject({ read: 1, indexed: 1, rejected: 0 });
    const arrayFile = path.join(dir, 'array.json');
    writeFileSync(arrayFile, JSON.stringify([JSON.parse(line), JSON.parse(line.replace('Cstdin', 'Carray'))], null, 2));
    const viaArray = await ingest('zeek', [arrayFile]);
    expect(viaArray.report).toMatchObject({ read: 2, indexed: 2, rejected: 0 });
    expect(viaArray.report!.files[0]!.format).toBe('json-array');
  });

  it('fails with exit 1 when an input cannot be read', async () => {
    const run = await runCli(['--url', testUrl(), 'ingest', '--source', 'zeek', path.join(dir, 'missing.log')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot read');
  });

  // Hostile input for every source: each record is indexed or dead-lettered, none rejected or lost.
  it.each(sources)('%s: hostile input is never lost', async (source) => {
    const file = path.join(dir, `hostile-${source}.log`);
    const huge = 'A'.repeat(1024 * 1024);
    const records = [
      '{"truncated": ',
      huge,
      JSON.stringify({ field: huge, ts: 1764324000, EventID: 3, event_type: 'tls', timestamp: '2025-11-28T10:00:00Z' }),
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]).toString('latin1'),
      '["an", "array"]',
      '42',
      'null',
      '{}',
      '<13>Nov 28 10:00:00 host prog: plain text',
      'type=UNKNOWN msg=audit(garbage): x',
      JSON.stringify({ event: 'not an object', message: 'x', '@timestamp': '2025-11-28T10:00:00Z' }),
      JSON.stringify({ source: { ip: '999.1.1.1' }, destination: { ip: 'not-an-ip' }, message: 'x' }),
    ];
    writeFileSync(file, `${records.join('\n')}\n`);
    const { code, report } = await ingest(source, [file]);
    expect(report).toBeDefined();
    expect(report!.read).toBe(records.length);
    expect(report!.rejected).toBe(0);
    expect(report!.indexed + report!.deadlettered).toBe(records.length);
    expect(code).toBe(0);
  });
});
