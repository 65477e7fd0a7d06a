/**
 * Real-world input, read in place from ../shared/corpus: every sample of a source goes through the
 * source's pipeline on the real engine; where Elastic's own expected output exists, every ECS field
 * both outputs set must agree, or the difference must be listed with its reason in
 * docs/ecs-differences.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type ClusterClient } from '../../src/cluster';
import { ECS, loadContent } from '../../src/content';
import { readCaseInput } from '../../src/testing/cases';
import { corpusMessages, corpusPath, elasticExpected, flatten, SimulatedPipelines } from './support/corpus';
import { testEngineLabel, testUrl } from './support/engine-env';

const content = loadContent();
const hasSource = (s: string) => content.pipelines.some((p) => p.owner === s && p.name === 'default');

/**
 * Elastic's inputs with its expected outputs. An excerpt holds some of the documents (`docs`: their
 * 1-based positions in the input); `minCompared` guards against a comparison that checks nothing.
 */
interface ElasticCase {
  source: string;
  input: string;
  expected: string;
  docs?: number[];
  minCompared: number;
}
// Elastic-package inputs: `.json` holds {"events": [...]} documents as an agent ships them, `.log`
// raw lines (sent as {"message": line}), exactly as the golden tests read them. An expected
// document with event.original is matched to ours by it; otherwise by position.
const ELASTIC: ElasticCase[] = [
  { source: 'sysmon', input: 'elastic-integrations/windows_sysmon_operational/test-events.excerpt-eid3-record22.json', expected: 'elastic-integrations/windows_sysmon_operational/test-events.json-expected.excerpt-eid3-record22.json', minCompared: 10 },
  { source: 'sysmon', input: 'elastic-integrations/windows_sysmon_operational/test-image-loaded-failed-signature.json', expected: 'elastic-integrations/windows_sysmon_operational/test-image-loaded-failed-signature.json-expected.json', minCompared: 10 },
  { source: 'suricata', input: 'elastic-integrations/suricata_eve/test-eve-tls-empty-subject.log', expected: 'elastic-integrations/suricata_eve/test-eve-tls-empty-subject.log-expected.json', minCompared: 10 },
  { source: 'suricata', input: 'elastic-integrations/suricata_eve/test-eve-tls-empty-issuerdn.log', expected: 'elastic-integrations/suricata_eve/test-eve-tls-empty-issuerdn.log-expected.json', minCompared: 10 },
  { source: 'netflow', input: 'elastic-integrations/netflow/test-netflow-log-events.excerpt-event1.json', expected: 'elastic-integrations/netflow/test-netflow-log-events.json-expected.excerpt-doc1.json', docs: [1], minCompared: 8 },
  { source: 'auditd', input: 'elastic-integrations/auditd/test-auditd-raw.log', expected: 'elastic-integrations/auditd/test-auditd-raw.log-expected.excerpt-sockaddr.json', minCompared: 4 },
  { source: 'auditd', input: 'elastic-integrations/auditd/test-coalesced-network-events.json', expected: 'elastic-integrations/auditd/test-coalesced-network-events.json-expected.json', minCompared: 4 },
  { source: 'esxi', input: 'elastic-integrations/vsphere/test-default.log', expected: 'elastic-integrations/vsphere/test-default.log-expected.json', minCompared: 3 },
  { source: 'zeek', input: 'elastic-integrations/zeek_ssl/test-ssl.log', expected: 'elastic-integrations/zeek_ssl/test-ssl.log-expected.excerpt-doc1-doc4.json', docs: [1, 4], minCompared: 20 },
  // Elastic puts an x509.log certificate under file.x509.*, cryptochannel under tls.server.x509.*
  // (docs/ecs-differences.md), so only the event fields overlap.
  { source: 'zeek', input: 'elastic-integrations/zeek_x509/test-x509.log', expected: 'elastic-integrations/zeek_x509/test-x509.log-expected.excerpt-doc1.json', docs: [1], minCompared: 4 },
];

const NEVER_COMPARED = [/^ecs\.version$/, /^event\.(created|ingested|original|dataset|module)$/, /^data_stream\./, /^tags$/, /^input\./, /^log\./, /^agent\./, /\.geo\./, /\.as\./, /^fileset\./, /^service\.type$/];

/** `| source | `field`, `field.*` | ...` rows of docs/ecs-differences.md. */
function listedDifferences(): Array<{ source: string; pattern: RegExp }> {
  const text = readFileSync(path.resolve(__dirname, '../../docs/ecs-differences.md'), 'utf8');
  const out: Array<{ source: string; pattern: RegExp }> = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1] || cells[1] === 'source' || cells[1].startsWith('---')) continue;
    for (const match of cells[2]!.matchAll(/`([^`]+)`/g)) {
      out.push({ source: cells[1], pattern: new RegExp(`^${match[1]!.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`) });
    }
  }
  return out;
}

/** Installs the pipelines under a throw-away version for the enclosing describe, and removes them after. */
function withSimulatedPipelines(): { pipelines: SimulatedPipelines } {
  const holder = {} as { pipelines: SimulatedPipelines; client: ClusterClient };
  beforeAll(async () => {
    holder.client = await connect({ url: testUrl() });
    holder.pipelines = new SimulatedPipelines(holder.client, content);
    await holder.pipelines.install();
  });
  afterAll(async () => {
    await holder.pipelines.remove();
    await holder.client.close();
  });
  return holder;
}

describe(`corpus on ${testEngineLabel()}`, () => {
  const engine = withSimulatedPipelines();

  const elasticCases = ELASTIC.filter((c) => hasSource(c.source));
  it.each(elasticCases.map((c) => [`${c.source}: ${c.input}`, c] as const))('%s agrees with Elastic on shared ECS fields', async (_n, c) => {
    const listed = listedDifferences();
    const docs = readCaseInput(corpusPath(c.input));
    const ours = await engine.pipelines.run(c.source, docs);
    const theirs = elasticExpected(corpusPath(c.expected));
    const unlisted: string[] = [];
    let compared = 0;
    for (let i = 0; i < theirs.length; i++) {
      const original = (theirs[i]!.event as { original?: string } | undefined)?.original;
      const position = c.docs ? c.docs[i]! : original ? ours.findIndex((o) => o.event?.original === original) + 1 : i + 1;
      expect(position).toBeGreaterThan(0);
      const a = flatten(ours[position - 1]);
      const b = flatten(theirs[i]);
      for (const field of Object.keys(b)) {
        if (!(field in a) || !ECS[field] || NEVER_COMPARED.some((p) => p.test(field))) continue;
        compared++;
        // related.* are sets: order carries no meaning.
        const norm = (v: unknown) => JSON.stringify(field.startsWith('related.') && Array.isArray(v) ? [...v].sort() : v);
        if (norm(a[field]) === norm(b[field])) continue;
        if (listed.some((d) => d.source === c.source && d.pattern.test(field))) continue;
        unlisted.push(`doc ${position} ${field}: Elastic ${JSON.stringify(b[field])}, cryptochannel ${JSON.stringify(a[field])}`);
      }
    }
    expect(compared).toBeGreaterThanOrEqual(c.minCompared);
    expect(unlisted).toEqual([]);
  });
});

describe(`Zeek's own test baselines and the JA3/JA4 packages' logs on ${testEngineLabel()}`, () => {
  const engine = withSimulatedPipelines();
  const zeekDir = corpusPath('zeek');
  const files = hasSource('zeek') ? readdirSync(zeekDir).filter((f) => f.endsWith('.log') || f.endsWith('.cut')).sort() : [];
  const FIXED_TS = '1764324000.000000';

  it('has samples to run', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files)('%s: a masked time is dead-lettered with a clear message, never indexed with a made-up time', async (file) => {
    const docs = await corpusMessages(path.join(zeekDir, file));
    const out = await engine.pipelines.run('zeek', docs);
    expect(out).toHaveLength(docs.length);
    docs.forEach((doc, i) => {
      const result = out[i]!;
      if (doc.message.includes('XXXXXXXXXX.XXXXXX')) {
        expect(result.event?.kind).toBe('pipeline_error');
        expect(result.error?.message).toMatch(/masked or corrupt time|Unrecognized token 'XXXXXXXXXX'|not a Zeek ssl, x509, conn or quic log line/);
        expect(result.event?.original).toBe(doc.message);
      } else if (result.event?.kind === 'pipeline_error') {
        // Lines that are not ssl/x509/conn records (quic.log, zeek-cut output) are refused, with a reason.
        expect(result.error?.message).toEqual(expect.any(String));
        expect(result.event?.original).toBe(doc.message);
      } else {
        expect(result['@timestamp']).toEqual(expect.stringMatching(/^20\d\d-/));
      }
    });
  });

  it('with a fixed time in place of the mask, reads the certificate facts of the baselines', async () => {
    const facts = new Map<string, Array<Record<string, any>>>();
    for (const file of files) {
      const docs = await corpusMessages(path.join(zeekDir, file), (m) => m.split('"XXXXXXXXXX.XXXXXX"').join(FIXED_TS).split('XXXXXXXXXX.XXXXXX').join(FIXED_TS));
      facts.set(file, await engine.pipelines.run('zeek', docs));
    }
    const all = [...facts.values()].flat();
    const indexed = all.filter((d) => d.event?.kind === 'event');
    expect(indexed.length).toBeGreaterThan(30);
    // validate-certs: Zeek's own verdicts reach cryptochannel.tls.
    const statuses = indexed.map((d) => d.cryptochannel?.tls?.validation_status).filter(Boolean);
    expect(statuses).toEqual(expect.arrayContaining(['ok']));
    expect(statuses.some((s: string) => /self signed|unable to get local issuer/.test(s))).toBe(true);
    // The 1999 x509 baseline holds certificates long expired at the substituted time.
    expect(facts.get('zeek_scripts.base.files.x509.1999__x509.log')!.some((d) => d.cryptochannel?.tls?.cert_expired === true)).toBe(true);
    // Weak keys and RSA key exchange exist in the baselines and are recognised.
    expect(indexed.some((d) => d.cryptochannel?.tls?.rsa_key_exchange === true)).toBe(true);
    expect(indexed.some((d) => d.tls?.server?.x509?.public_key_size !== undefined)).toBe(true);
    // The JA3/JA4 packages' logs carry their fingerprints into ECS and cryptochannel.tls.ja4.
    expect(indexed.some((d) => d.tls?.client?.ja3)).toBe(true);
    expect(indexed.some((d) => d.cryptochannel?.tls?.ja4)).toBe(true);
  });
});
