/**
 * Every EQL query must parse with Elastic's own EQL parser (the `eql` package from PyPI, in the
 * project's .venv/, set up by scripts/ensure-eql.cjs), run the way Elastic's detection-rules
 * repository runs it: Elasticsearch syntax, missing functions tolerated, the stack's features on.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadContent, mappedFieldNames, type Tunables } from '../../src/content';
import { loadExceptionListDefs, renderExceptionLists, type ExceptionEntry } from '../../src/content/exception-lists';
import { loadRules, renderRule, type RuleContent } from '../../src/content/rules';
import { readLock } from '../../src/content/rule-lock';

const ROOT = path.resolve(__dirname, '../..');
const PYTHON = process.platform === 'win32' ? path.join(ROOT, '.venv', 'Scripts', 'python.exe') : path.join(ROOT, '.venv', 'bin', 'python');
const CHECK = path.join(ROOT, 'scripts', 'eql_check.py');

interface CheckInput {
  id: string;
  query: string;
  min_stack_version?: string;
}
interface CheckResult {
  id: string;
  ok: boolean;
  error?: string;
  fields?: string[];
  matches?: string[];
}

function eqlCheck(items: Array<CheckInput & { events?: Doc[] }>, evaluate = false): { status: number | null; results: CheckResult[] } {
  const run = spawnSync(PYTHON, evaluate ? [CHECK, '--evaluate'] : [CHECK], { input: JSON.stringify(items), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  if (run.status === 2 || !run.stdout) throw new Error(`eql_check.py failed (${run.status}): ${run.stderr}`);
  return { status: run.status, results: JSON.parse(run.stdout) as CheckResult[] };
}

const content = loadContent();
const rules = loadRules(content.roots.detectionRules);
const lock = readLock(content.roots.detectionRules);
const eqlRules = rules.filter((r) => r.rule.language === 'eql');

// The rendered query is what Kibana receives: tunable placeholders written in.
function renderedQuery(rule: RuleContent): string {
  const exceptionListIds = Object.fromEntries(rule.metadata.exception_lists.map((id) => [id, `id-of-${id}`]));
  return renderRule(rule, { lock, exceptionListIds, packageVersion: 'test', tunables: content.tunables }).query!;
}

beforeAll(() => {
  // Idempotent and quick when .venv already has the pinned eql; creates it on a fresh machine.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'ensure-eql.cjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
});

describe('EQL queries', () => {
  it('there are EQL rules to check', () => {
    expect(eqlRules.length).toBeGreaterThanOrEqual(5);
  });

  it('every EQL rule parses with Elastic\'s eql parser (Elasticsearch syntax, the rule\'s min_stack_version)', () => {
    const { status, results } = eqlCheck(
      eqlRules.map((r) => ({ id: path.basename(r.file), query: renderedQuery(r), min_stack_version: r.metadata.min_stack_version })),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(status).toBe(0);
    expect(results.map((r) => r.id)).toEqual(eqlRules.map((r) => path.basename(r.file)));
  });

  it('every field the parser finds in an EQL query exists in the templates', () => {
    const mapped = mappedFieldNames(content.fields);
    const { results } = eqlCheck(eqlRules.map((r) => ({ id: path.basename(r.file), query: renderedQuery(r) })));
    for (const result of results) {
      expect(result.fields!.length).toBeGreaterThan(0);
      expect({ rule: result.id, unknown: result.fields!.filter((f) => !mapped.has(f)) }).toEqual({ rule: result.id, unknown: [] });
    }
  });

  it('reports a broken query as an error, and the others in the batch as ok', () => {
    const { status, results } = eqlCheck([
      { id: 'truncated', query: 'sequence by host.name with maxspan=1m [library where true] [network where' },
      // Single quotes are Endgame EQL; Elasticsearch's syntax only has double-quoted strings.
      { id: 'endgame-only', query: "process where process.name = 'x'" },
      { id: 'fine', query: 'network where destination.port in (443, 8443) and process.name : ("a*", "b")' },
      { id: 'negation-needs-8.9', query: 'sequence with maxspan=1m [process where true] ![network where true] [file where true]', min_stack_version: '8.8.0' },
    ]);
    expect(status).toBe(1);
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      ['truncated', false],
      ['endgame-only', false],
      ['fine', true],
      ['negation-needs-8.9', false],
    ]);
    expect(results[0]!.error).toMatch(/line:1/);
  });
});

// ---------------------------------------------------------------------------------------------
// Behaviour on the pipelines' golden outputs: the suspicious scenarios fire, the benign look-alikes
// (a browser loading crypt32.dll, curl or openssl with a valid chain, hostd talking to its update
// server) stay quiet once the exception lists that mirror the tunables are applied, as Kibana does.

type Doc = Record<string, any>;

function valuesAt(doc: Doc, field: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of field.split('.')) {
    current = current.flatMap((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? [(v as Doc)[part]] : [])).flat().filter((v) => v !== undefined);
  }
  return current;
}

function entryMatches(doc: Doc, entry: ExceptionEntry): boolean {
  const values = valuesAt(doc, entry.field).map(String);
  let hit: boolean;
  if (entry.type === 'match') hit = values.includes(entry.value);
  else if (entry.type === 'match_any') hit = values.some((v) => entry.value.includes(v));
  else {
    const glob = new RegExp(`^${entry.value.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    hit = values.some((v) => glob.test(v));
  }
  return entry.operator === 'included' ? hit : !hit;
}

/** Kibana drops an event when every entry of some item of a list the rule honours matches it. */
function exceptedBy(rule: RuleContent, tunables: Tunables): (doc: Doc) => boolean {
  const lists = renderExceptionLists(loadExceptionListDefs(content.roots.kibanaAssets), tunables).filter((l) => rule.metadata.exception_lists.includes(l.list.list_id));
  const items = lists.flatMap((l) => l.items);
  return (doc) => items.some((item) => item.entries.every((e) => entryMatches(doc, e)));
}

function goldenDocs(source: string): Doc[] {
  const dir = path.join(content.roots.pipelines, source, '_dev', 'test', 'pipeline');
  return readdirSync(dir)
    .filter((n) => n.endsWith('-expected.json'))
    .sort()
    .flatMap((file) =>
      ((JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { expected?: Doc[] }).expected ?? [])
        .map((doc, i): Doc => ({ ...doc, _id: `${source}/${file}#${i}` }))
        .filter((doc) => doc.event?.kind !== 'pipeline_error' && typeof doc['@timestamp'] === 'string' && !doc['@timestamp'].startsWith('<')),
    );
}

function sourcesOf(rule: RuleContent): string[] {
  return (rule.rule.index as string[]).map((i) => /^logs-cryptochannel\.([a-z0-9_]+)-\*$/.exec(i)![1]!);
}

/** Runs each named rule over the golden events of its sources (minus excepted ones); returns the matched documents. */
function runOnGoldens(files: string[], tunables: Tunables = content.tunables, extra: Record<string, Doc[]> = {}): Record<string, Doc[]> {
  const chosen = files.map((f) => {
    const rule = eqlRules.find((r) => path.basename(r.file) === f);
    if (!rule) throw new Error(`no EQL rule ${f}`);
    return rule;
  });
  const items = chosen.map((rule) => {
    const excepted = exceptedBy(rule, tunables);
    const events = [...sourcesOf(rule).flatMap(goldenDocs), ...(extra[path.basename(rule.file)] ?? [])].filter((d) => !excepted(d));
    const exceptionListIds = Object.fromEntries(rule.metadata.exception_lists.map((id) => [id, `id-of-${id}`]));
    return { id: path.basename(rule.file), query: renderRule(rule, { lock, exceptionListIds, packageVersion: 'test', tunables }).query!, events };
  });
  const byId = new Map(items.flatMap((i) => i.events.map((d) => [d._id as string, d] as const)));
  const { results } = eqlCheck(items, true);
  return Object.fromEntries(results.map((r) => {
    if (!r.ok) throw new Error(`${r.id}: ${r.error}`);
    return [r.id, r.matches!.map((id) => byId.get(id)!)];
  }));
}

const names = (docs: Doc[]) => [...new Set(docs.map((d) => d.process?.name as string))].sort();
const lower = (list: string[]) => list.map((x) => x.toLowerCase());

describe('EQL rules on the golden scenarios', () => {
  let hits: Record<string, Doc[]> = {};
  beforeAll(() => {
    hits = runOnGoldens([
    'an1496_unexpected_crypto_process_then_egress.yaml',
    'an1496_crypto_process_egress_then_certificate_chain_error.yaml',
    'an1497_linux_script_or_hidden_binary_tls_egress.yaml',
    'an1497_linux_tls_library_then_egress_nonstandard_port.yaml',
    'an1498_macos_public_key_api_then_tls_failure.yaml',
    'an1499_esxi_mgmt_tls_session_outside_baseline.yaml',
    ]);
  });
  const allowed = lower(content.tunables.AllowedCryptoProcesses);

  it('AN1496: igfxsvc.exe loading TLS libraries and calling out fires; allowed browsers and services stay quiet', () => {
    for (const file of ['an1496_unexpected_crypto_process_then_egress.yaml', 'an1496_crypto_process_egress_then_certificate_chain_error.yaml']) {
      expect(names(hits[file]!)).toContain('igfxsvc.exe');
      expect(names(hits[file]!).filter((n) => allowed.includes(n.toLowerCase()))).toEqual([]);
    }
    // The chain rule also needs the CAPI2 verdict: its sequence ends with a certificate event.
    expect(hits['an1496_crypto_process_egress_then_certificate_chain_error.yaml']!.some((d) => d.event.dataset === 'cryptochannel.capi2')).toBe(true);
  });

  it('AN1497: a script in /tmp and a binary in a hidden directory fire; openssl, curl and services stay quiet', () => {
    const focused = names(hits['an1497_linux_script_or_hidden_binary_tls_egress.yaml']!);
    expect(focused).toEqual(expect.arrayContaining(['python3', 'pg_stat']));
    for (const benign of ['openssl', 'curl', 'node', 'chronyd', 'agentd']) expect(focused).not.toContain(benign);
    // The broad rule only looks at ports outside PortProfiles: nothing on 443/8443 may fire.
    for (const doc of hits['an1497_linux_tls_library_then_egress_nonstandard_port.yaml']!) {
      if (doc.event.category.includes('network')) expect(content.tunables.PortProfiles).not.toContain(doc.destination.port);
    }
  });

  it('AN1498: an app calling SecKey routines whose TLS trust then fails fires; Safari and Firefox stay quiet', () => {
    const macos = names(hits['an1498_macos_public_key_api_then_tls_failure.yaml']!);
    expect(macos).toContain('softwareupdated');
    for (const benign of ['Safari', 'firefox', 'mDNSResponder']) expect(macos).not.toContain(benign);
  });

  it('AN1499: hostd connecting to an unknown peer and failing the handshake fires; the update servers in the baseline never do', () => {
    const esxi = hits['an1499_esxi_mgmt_tls_session_outside_baseline.yaml']!;
    expect(esxi.some((d) => d.process.name === 'hostd' && d.cryptochannel.esxi.peer_address === '198.51.100.44' && d.event.action === 'tls_handshake_failed')).toBe(true);
    const peers = esxi.map((d) => d.cryptochannel.esxi.peer_address as string);
    for (const baseline of content.tunables.BaselineMgmtHosts) expect(peers).not.toContain(baseline);
  });

  it('AN1499: adding the vCenter to BaselineMgmtHosts (its exception list, from Kibana) silences it', () => {
    const file = 'an1499_esxi_mgmt_tls_session_outside_baseline.yaml';
    expect(hits[file]!.some((d) => d.cryptochannel.esxi.peer_address === 'vcsa01.corp.local')).toBe(true);
    const tuned = runOnGoldens([file], { ...content.tunables, BaselineMgmtHosts: [...content.tunables.BaselineMgmtHosts, 'vcsa01.corp.local'] });
    expect(tuned[file]!.some((d) => d.cryptochannel.esxi.peer_address === 'vcsa01.corp.local')).toBe(false);
    expect(tuned[file]!.some((d) => d.cryptochannel.esxi.peer_address === '198.51.100.44')).toBe(true);
  });

  it('AN1500: a self-signed handshake followed by a client-heavy flow to the same server fires, within the span and above the ratio only', () => {
    const file = 'an1500_invalid_certificate_then_client_heavy_flow.yaml';
    const tls = goldenDocs('zeek').find((d) => d.event.action === 'tls_session' && d.cryptochannel?.tls?.self_signed === true && d.cryptochannel?.network?.destination_internal === false)!;
    const template = goldenDocs('netflow').find((d) => d.event.action === 'netflow_flow')!;
    const flow = (id: string, minutesLater: number, ratio: number): Doc => ({
      ...template,
      _id: id,
      '@timestamp': new Date(Date.parse(tls['@timestamp']) + minutesLater * 60_000).toISOString(),
      source: { ...template.source, ip: tls.source.ip },
      destination: { ...template.destination, ip: tls.destination.ip, port: tls.destination.port },
      cryptochannel: { ...template.cryptochannel, network: { ...template.cryptochannel.network, bytes_out_in_ratio: ratio } },
    });
    const ratio = content.tunables.TrafficAsymmetryRatio;
    const run = (extra: Doc[]) => runOnGoldens([file], content.tunables, { [file]: extra })[file]!.map((d) => d._id as string);
    expect(run([flow('heavy', 5, ratio + 1)])).toEqual(expect.arrayContaining([tls._id, 'heavy']));
    expect(run([flow('balanced', 5, ratio / 4)])).not.toContain('balanced');
    expect(run([flow('too-late', 45, ratio + 1)])).not.toContain('too-late');
  });
});
