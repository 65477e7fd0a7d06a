import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadContent, mappedFieldNames, ContentError, SOURCES } from '../../src/content';
import { createRuleSchemaValidator, formatRuleSchemaProblems, RuleSchemaUnavailableError } from '../../src/content/kibana-rule-schema';
import {
  ANALYTICS,
  loadRules,
  mappedFieldTypes,
  queryFieldNames,
  renderRule,
  renderTunableValue,
  ruleFieldNames,
  type RuleContent,
} from '../../src/content/rules';
import { computeLock, LOCK_UPDATE_COMMAND, lockProblems, readLock, ruleContentHash, serializeLock } from '../../src/content/rule-lock';

const content = loadContent();
const { roots, tunables } = content;
const rules = loadRules(roots.detectionRules);
const lock = readLock(roots.detectionRules);
const validator = createRuleSchemaValidator();
const mapped = mappedFieldNames(content.fields);
const types = mappedFieldTypes(content.fields);

/** The shared ids (COMMON brief): other content and the deployer use exactly these. */
const EXCEPTION_LIST_IDS = [
  'cryptochannel-allowed-crypto-processes',
  'cryptochannel-trusted-doh-endpoints',
  'cryptochannel-baseline-mgmt-hosts',
  'cryptochannel-trusted-certificate-authorities',
  'cryptochannel-exceptions',
];
const ML_JOB_IDS = [
  'cryptochannel_rare_crypto_library_process',
  'cryptochannel_rare_tls_fingerprint',
  'cryptochannel_high_bytes_out_ratio',
  'cryptochannel_esxi_rare_mgmt_destination',
  'cryptochannel_high_payload_entropy',
];
// Stand-ins for the ids Kibana gives the lists when the deployer creates them.
const listIds = Object.fromEntries(EXCEPTION_LIST_IDS.map((id, i) => [id, `0000000${i}-aaaa-4bbb-8ccc-${String(i).padStart(12, '0')}`]));
const render = (rule: RuleContent) => renderRule(rule, { lock, exceptionListIds: listIds, packageVersion: '9.9.9-test', tunables });
const rendered = rules.map((r) => ({ content: r, payload: render(r) }));
const base = (r: RuleContent) => path.basename(r.file);

/** Fields the templates of a rule's index patterns map (a source's own plus _shared; alerts likewise). */
function fieldsOfIndices(index: string[]): Set<string> {
  const owners = new Set<string>(['_shared']);
  for (const pattern of index) {
    const m = /^logs-cryptochannel\.([a-z0-9_]+)-\*$/.exec(pattern);
    if (m) owners.add(m[1]!);
  }
  return mappedFieldNames(content.fields.filter((f) => owners.has(f.owner)));
}

describe('detection rules: content', () => {
  it('every file in detection-rules/rules loads', () => {
    const files = readdirSync(path.join(roots.detectionRules, 'rules')).filter((n) => n.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(18);
    expect(rules.map(base).sort()).toEqual(files.sort());
  });

  it('every analytic AN1496..AN1500 has an EQL sequence rule from the normalised events', () => {
    for (const analytic of ANALYTICS) {
      const sequences = rules.filter(
        (r) => r.metadata.role === 'sequence' && r.metadata.analytics.includes(analytic) && r.rule.type === 'eql' && /^\s*sequence\b/.test(r.rule.query ?? ''),
      );
      expect({ analytic, sequences: sequences.length }).toEqual({ analytic, sequences: expect.any(Number) });
      expect(sequences.length).toBeGreaterThan(0);
    }
  });

  it('has the single-event signal rules, the five machine-learning rules and the promotion rule', () => {
    const byRole = (role: string) => rules.filter((r) => r.metadata.role === role);
    const signalQueries = byRole('signal').map((r) => r.rule.query ?? '');
    for (const fact of ['cryptochannel.tls.rsa_key_exchange', 'cryptochannel.esxi.peer_in_baseline', 'cryptochannel.unifiedlog.doh_trusted', 'cryptochannel.payload.entropy', 'cryptochannel.tls.self_signed']) {
      expect({ fact, used: signalQueries.some((q) => q.includes(fact)) }).toEqual({ fact, used: true });
    }
    expect(byRole('signal').some((r) => r.rule.type === 'new_terms' && (r.rule.new_terms_fields as string[]).includes('destination.ip'))).toBe(true);
    const jobs = byRole('machine_learning').flatMap((r) => [r.rule.machine_learning_job_id].flat());
    expect(jobs.sort()).toEqual([...ML_JOB_IDS].sort());
    const promotion = byRole('promotion');
    expect(promotion).toHaveLength(1);
    expect(promotion[0]!.rule).toMatchObject({
      type: 'query',
      index: ['logs-cryptochannel.alerts-*'],
      query: 'event.kind: "alert"',
      rule_name_override: 'rule.name',
      risk_score_mapping: [{ field: 'cryptochannel.alert.score', operator: 'equals', value: '' }],
    });
  });

  it('maps every rule to TA0011 / T1573 / T1573.002 with references', () => {
    for (const { rule } of rules) {
      const threat = rule.threat as Array<{ framework: string; tactic: { id: string; reference: string }; technique?: Array<{ id: string; reference: string; subtechnique?: Array<{ id: string; reference: string }> }> }>;
      const c2 = threat.find((t) => t.framework === 'MITRE ATT&CK' && t.tactic.id === 'TA0011');
      expect({ rule: rule.name, tactic: c2?.tactic.reference }).toEqual({ rule: rule.name, tactic: 'https://attack.mitre.org/tactics/TA0011/' });
      const t1573 = c2!.technique?.find((t) => t.id === 'T1573');
      expect(t1573?.reference).toBe('https://attack.mitre.org/techniques/T1573/');
      expect(t1573?.subtechnique).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'T1573.002', reference: 'https://attack.mitre.org/techniques/T1573/002/' })]));
      expect(rule.references).toEqual(expect.arrayContaining(['https://attack.mitre.org/techniques/T1573/002/']));
    }
  });

  it('gives every rule what an analyst needs: severity consistent with the risk score, tags, false positives, an investigation guide', () => {
    // Kibana's own bands: 0-21 low, 22-47 medium, 48-73 high, 74-100 critical.
    const band = (score: number) => (score <= 21 ? 'low' : score <= 47 ? 'medium' : score <= 73 ? 'high' : 'critical');
    for (const { rule } of rules) {
      const who = rule.name;
      expect({ who, severity: rule.severity }).toEqual({ who, severity: band(rule.risk_score as number) });
      expect({ who, author: rule.author, license: rule.license }).toEqual({ who, author: ['cryptochannel'], license: 'Apache-2.0' });
      expect(rule.tags).toEqual(expect.arrayContaining(['cryptochannel', 'Tactic: Command and Control', 'Use Case: Threat Detection']));
      expect((rule.tags as string[]).some((t) => t.startsWith('Data Source: '))).toBe(true);
      expect((rule.false_positives as string[]).length).toBeGreaterThan(0);
      const note = rule.note as string;
      expect(note).toMatch(/^## Triage and analysis/m);
      expect(note).toMatch(/^### Possible investigation steps/m);
      expect(note).toMatch(/^### False positive analysis/m);
      expect(note).toMatch(/^### Response and remediation/m);
      expect((rule.required_fields as unknown[]).length).toBeGreaterThan(0);
      expect(typeof rule.interval).toBe('string');
      expect(typeof rule.from).toBe('string');
      expect(rule.max_signals).toBeGreaterThan(0);
    }
  });

  it('queries only cryptochannel data streams, by their real names', () => {
    const streams = new Set<string>([...SOURCES, 'alerts'].map((s) => `logs-cryptochannel.${s}-*`));
    for (const { rule } of rules) {
      if (rule.type === 'machine_learning') {
        expect(rule.index).toBeUndefined();
        continue;
      }
      expect({ rule: rule.name, index: (rule.index as string[]).filter((i) => !streams.has(i)) }).toEqual({ rule: rule.name, index: [] });
    }
  });

  it('honours only the shared exception lists, and every rule the analysts\' own list', () => {
    for (const { metadata, rule } of rules) {
      expect({ rule: rule.name, unknown: metadata.exception_lists.filter((l) => !EXCEPTION_LIST_IDS.includes(l)) }).toEqual({ rule: rule.name, unknown: [] });
      expect(metadata.exception_lists).toContain('cryptochannel-exceptions');
    }
    // When the Kibana assets define the lists, every list a rule honours must be among them.
    const dir = path.join(roots.kibanaAssets, 'exception-lists');
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      const text = readdirSync(dir).map((n) => readFileSync(path.join(dir, n), 'utf8')).join('\n');
      for (const id of new Set(rules.flatMap((r) => r.metadata.exception_lists))) expect({ id, defined: text.includes(id) }).toEqual({ id, defined: true });
    }
  });

  it('machine-learning rules name one of the five jobs, with a threshold of 50-75', () => {
    const ml = rules.filter((r) => r.rule.type === 'machine_learning');
    expect(ml).toHaveLength(5);
    for (const { rule } of ml) {
      const jobs = [rule.machine_learning_job_id].flat() as string[];
      expect(jobs.length).toBe(1);
      expect(ML_JOB_IDS).toContain(jobs[0]);
      expect(rule.anomaly_threshold).toBeGreaterThanOrEqual(50);
      expect(rule.anomaly_threshold).toBeLessThanOrEqual(75);
    }
    // When the job definitions exist, each rule's job must be among them.
    const dir = path.join(roots.detectionRules, 'ml-jobs');
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      const text = readdirSync(dir).map((n) => `${n}\n${readFileSync(path.join(dir, n), 'utf8')}`).join('\n');
      for (const job of ml.flatMap((r) => [r.rule.machine_learning_job_id].flat() as string[])) expect({ job, defined: text.includes(job) }).toEqual({ job, defined: true });
    }
  });
});

describe('detection rules: fields', () => {
  it('every required field exists in the templates with the declared type', () => {
    for (const { rule } of rules) {
      for (const { name, type } of rule.required_fields as Array<{ name: string; type: string }>) {
        expect({ rule: rule.name, field: name, mapped: mapped.has(name), type: types.get(name) }).toEqual({ rule: rule.name, field: name, mapped: true, type });
      }
    }
  });

  it('every field a rule names exists in the templates of the data streams it queries', () => {
    for (const { content: r, payload } of rendered) {
      const available = r.rule.index ? fieldsOfIndices(r.rule.index as string[]) : mapped;
      const missing = ruleFieldNames(r.rule, payload.query).filter((f) => !available.has(f.name));
      expect({ rule: base(r), missing }).toEqual({ rule: base(r), missing: [] });
    }
  });

  it('every field the query names is also listed in required_fields', () => {
    for (const { content: r, payload } of rendered) {
      if (typeof payload.query !== 'string') continue;
      const required = new Set((r.rule.required_fields as Array<{ name: string }>).map((f) => f.name));
      const unlisted = queryFieldNames(payload.query, r.rule.language).filter((f) => !required.has(f) && f !== 'event.kind' && f !== '@timestamp');
      expect({ rule: base(r), unlisted }).toEqual({ rule: base(r), unlisted: [] });
    }
  });

  it('finds the fields of EQL and KQL queries, and not their values (so the field checks can fail)', () => {
    expect(
      queryFieldNames('sequence by ?host.name, process.entity_id with maxspan=1m [library where dll.name : "crypt32.dll" and not.a.field == 1] [network where cryptochannel.x.y >= 3.5]', 'eql'),
    ).toEqual(['cryptochannel.x.y', 'dll.name', 'host.name', 'not.a.field', 'process.entity_id']);
    expect(queryFieldNames('event.dataset: "cryptochannel.esxi" and process.name: ("hostd" or "vpxa") and no.such.field >= 7.2', 'kuery')).toEqual([
      'event.dataset',
      'no.such.field',
      'process.name',
    ]);
    expect(mapped.has('no.such.field')).toBe(false);
  });
});

describe('detection rules: rendering', () => {
  it('every rendered payload is valid for Kibana\'s POST /api/detection_engine/rules', () => {
    for (const { content: r, payload } of rendered) {
      const problems = validator.validate(payload);
      expect({ rule: base(r), problems: formatRuleSchemaProblems(problems) }).toEqual({ rule: base(r), problems: '' });
    }
  });

  it('adds version from the lock, the exception list references and the managed meta; renders tunables', () => {
    for (const { content: r, payload } of rendered) {
      expect(payload.version).toBe(lock[r.rule.rule_id]!.version);
      expect(payload.exceptions_list).toEqual(
        r.metadata.exception_lists.map((listId) => ({ id: listIds[listId], list_id: listId, namespace_type: 'single', type: 'detection' })),
      );
      expect(payload.meta).toMatchObject({ managed_by: 'cryptochannel', package_version: '9.9.9-test' });
      expect(payload.meta.content_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(payload)).not.toMatch(/\{\{/);
    }
    const ports = rendered.find((x) => (x.content.rule.query ?? '').includes('{{ Tunable "PortProfiles" }}'))!;
    expect(ports.payload.query).toContain(`not destination.port in (${tunables.PortProfiles.join(', ')})`);
    const entropy = rendered.find((x) => (x.content.rule.query ?? '').includes('{{ Tunable "PayloadEntropyThreshold" }}'))!;
    expect(entropy.payload.query).toContain(`cryptochannel.payload.entropy >= ${tunables.PayloadEntropyThreshold}`);
  });

  it('a tuned value changes the rendered query and its meta hash, not the locked version', () => {
    const rule = rendered.find((x) => (x.content.rule.query ?? '').includes('PayloadEntropyThreshold'))!;
    const tuned = renderRule(rule.content, { lock, exceptionListIds: listIds, packageVersion: '9.9.9-test', tunables: { ...tunables, PayloadEntropyThreshold: 7.8 } });
    expect(tuned.query).toContain('cryptochannel.payload.entropy >= 7.8');
    expect(tuned.version).toBe(rule.payload.version);
    expect(tuned.meta.content_sha256).not.toBe(rule.payload.meta.content_sha256);
  });

  it('writes tunable lists in each language\'s set syntax, quoting strings', () => {
    expect(renderTunableValue('PortProfiles', [443, 8443], 'eql')).toBe('443, 8443');
    expect(renderTunableValue('AllowedCryptoProcesses', ['a.exe', 'say "hi"\\'], 'kuery')).toBe('"a.exe" or "say \\"hi\\"\\\\"');
    expect(renderTunableValue('AllowedCryptoProcesses', ['a.exe', 'b.exe'], 'eql')).toBe('"a.exe", "b.exe"');
    expect(renderTunableValue('PayloadEntropyThreshold', 7.2, 'kuery')).toBe('7.2');
    expect(() => renderTunableValue('PortProfiles', [], 'eql')).toThrow(/empty list/);
    expect(() => renderTunableValue('CertValidationPolicy', { a: 1 }, 'eql')).toThrow(/cannot be written/);
  });

  it('refuses, naming the file: a stale lock, an exception list without id, a missing or unknown tunable', () => {
    const r = rules.find((x) => (x.rule.query ?? '').includes('{{ Tunable'))!;
    const opts = { lock, exceptionListIds: listIds, packageVersion: 'x', tunables };
    const changed = { ...r, rule: { ...r.rule, risk_score: 99 } };
    expect(() => renderRule(changed, opts)).toThrow(ContentError);
    expect(() => renderRule(changed, opts)).toThrow(new RegExp(`${base(r)}.*${LOCK_UPDATE_COMMAND}`));
    expect(() => renderRule(r, { ...opts, exceptionListIds: {} })).toThrow(/exception list 'cryptochannel-.*' has no id/);
    expect(() => renderRule(r, { ...opts, tunables: undefined })).toThrow(/no tunables were given/);
    const unknownTunable = { ...r, rule: { ...r.rule, query: `${r.rule.query} and x.y == {{ Tunable "NoSuchTunable" }}` } };
    const lockForIt = computeLock([unknownTunable], lock);
    expect(() => renderRule(unknownTunable, { ...opts, lock: lockForIt })).toThrow(/NoSuchTunable.*is not a tunable/);
    const stray = { ...r, rule: { ...r.rule, description: 'threshold {{ Tunable "PortProfiles" }}' } };
    expect(() => renderRule(stray, { ...opts, lock: computeLock([stray], lock) })).toThrow(/rule\.description: tunable placeholders are rendered only in rule\.query/);
  });
});

describe('Kibana rule schema validator', () => {
  const good = rendered.find((x) => x.content.rule.type === 'eql')!.payload;

  it('is built from Kibana\'s schema: it knows the rule types of RuleCreateProps', () => {
    expect(validator.ruleTypes.sort()).toEqual(['eql', 'esql', 'machine_learning', 'new_terms', 'query', 'saved_query', 'threat_match', 'threshold']);
  });

  it('rejects a wrong type, a missing required field, an out-of-range value and an unknown type, with the path', () => {
    const wrongType = validator.validate({ ...good, risk_score: 'high' });
    expect(wrongType).toEqual(expect.arrayContaining([{ path: '/risk_score', message: 'must be integer' }]));
    const { query: _q, ...noQuery } = good;
    expect(validator.validate(noQuery)).toEqual(expect.arrayContaining([{ path: '/', message: "must have required property 'query'" }]));
    expect(validator.validate({ ...good, risk_score: 101 })).toEqual(expect.arrayContaining([{ path: '/risk_score', message: 'must be <= 100' }]));
    expect(validator.validate({ ...good, severity: 'severe' })[0]).toMatchObject({ path: '/severity', message: expect.stringContaining('"critical"') });
    expect(validator.validate({ ...good, type: 'sigma' })[0]).toMatchObject({ path: '/type' });
    expect(validator.validate({ ...good, from: 'yesterday' })).toEqual(expect.arrayContaining([{ path: '/from', message: 'must be a valid date-math value' }]));
    expect(validator.validate({ ...good, exceptions_list: [{ id: 'x', list_id: 'y', type: 'detection', namespace_type: 'global' }] })[0]).toMatchObject({
      path: '/exceptions_list/0/namespace_type',
    });
  });

  it('reports properties Kibana would silently drop, such as a misspelt key', () => {
    expect(validator.validate({ ...good, exception_list: [] })).toEqual([{ path: '/exception_list', message: 'is not a property of a eql rule in Kibana\'s schema (dropped or refused there)' }]);
    // A machine-learning rule has no query; one that carries it is wrong too.
    const ml = rendered.find((x) => x.content.rule.type === 'machine_learning')!.payload;
    expect(validator.validate({ ...ml, query: 'a: b' })).toEqual([{ path: '/query', message: 'is not a property of a machine_learning rule in Kibana\'s schema (dropped or refused there)' }]);
  });

  it('validates update (PUT) bodies against RuleUpdateProps, which also admits the object id', () => {
    expect(validator.validateUpdate({ ...good, id: '9b5f6d2e-1c3a-4e8b-9f00-123456789abc' })).toEqual([]);
    expect(validator.validate({ ...good, id: '9b5f6d2e-1c3a-4e8b-9f00-123456789abc' })).toEqual([{ path: '/id', message: 'is not a property of a eql rule in Kibana\'s schema (dropped or refused there)' }]);
    expect(validator.validateUpdate({ ...good, id: 'not-a-uuid' })).toEqual([{ path: '/id', message: 'must be a valid uuid value' }]);
  });

  it('says clearly when the reference schema is not there', () => {
    expect(() => createRuleSchemaValidator(path.join(tmpdir(), 'no-such-reference'))).toThrow(RuleSchemaUnavailableError);
    expect(() => createRuleSchemaValidator(path.join(tmpdir(), 'no-such-reference'))).toThrow(/shared\/reference\/kibana-rule-schema/);
  });
});

describe('version lock', () => {
  it(`is in sync with the rules (after changing a rule, run ${LOCK_UPDATE_COMMAND})`, () => {
    const problems = lockProblems(rules, lock);
    if (problems.length > 0) throw new Error(`detection-rules/version.lock.json is stale; run \`${LOCK_UPDATE_COMMAND}\`:\n  ${problems.join('\n  ')}`);
    expect(serializeLock(computeLock(rules, lock))).toBe(readFileSync(path.join(roots.detectionRules, 'version.lock.json'), 'utf8'));
  });

  it('keeps the version of an unchanged rule, bumps a changed one, starts a new one at 1, drops a removed one', () => {
    const [a, b] = rules;
    const previous = computeLock([a!, b!], { [a!.rule.rule_id]: { rule_name: a!.rule.name, sha256: ruleContentHash(a!), version: 4 } });
    expect(previous[a!.rule.rule_id]!.version).toBe(4);
    expect(previous[b!.rule.rule_id]!.version).toBe(1);
    const changedB = { ...b!, rule: { ...b!.rule, description: `${b!.rule.description as string} (changed)` } };
    const next = computeLock([a!, changedB], previous);
    expect(next[a!.rule.rule_id]!.version).toBe(4);
    expect(next[b!.rule.rule_id]!.version).toBe(2);
    expect(Object.keys(computeLock([a!], next))).toEqual([a!.rule.rule_id]);
  });

  it('names the command that fixes a stale lock, for a changed, a missing and a removed rule', () => {
    const [a, b] = rules;
    const stale = lockProblems([{ ...a!, rule: { ...a!.rule, risk_score: 1 } }], lock);
    expect(stale.length).toBeGreaterThan(0);
    for (const p of stale) expect(p).toContain(LOCK_UPDATE_COMMAND);
    expect(lockProblems([a!], {})).toEqual([expect.stringMatching(new RegExp(`not in version.lock.json; run ${LOCK_UPDATE_COMMAND}`))]);
    expect(lockProblems([a!], computeLock([a!, b!]))).toEqual([expect.stringMatching(/no longer in the content/)]);
  });
});

describe('rule loading errors', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cc-rules-'));
    mkdirSync(path.join(dir, 'rules'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const good = readFileSync(rules[0]!.file, 'utf8');
  const write = (name: string, text: string) => writeFileSync(path.join(dir, 'rules', name), text);

  it('names the file and the problem', () => {
    write('bad.yaml', good.replace(/^ {2}rule_id: .*$/m, '  rule_id: not-a-uuid'));
    expect(() => loadRules(dir)).toThrow(/bad\.yaml.*rule_id must be a fixed lower-case UUID/);
    write('bad.yaml', good.replace(/^rule:\n/m, 'rule:\n  version: 3\n'));
    expect(() => loadRules(dir)).toThrow(/bad\.yaml.*rule\.version is added when the rule is rendered/);
    write('bad.yaml', good.replace(/^ {2}analytics: .*$/m, '  analytics: [AN9999]'));
    expect(() => loadRules(dir)).toThrow(/bad\.yaml.*metadata\.analytics/);
    write('bad.yaml', good.replace(/^ {2}min_stack_version: .*$/m, '  min_stack_version: 8.14'));
    expect(() => loadRules(dir)).toThrow(/bad\.yaml.*min_stack_version/);
    write('bad.yaml', `${good}extra: 1\n`);
    expect(() => loadRules(dir)).toThrow(/bad\.yaml.*unexpected top-level key 'extra'/);
  });

  it('refuses two files with the same rule_id', () => {
    write('a.yaml', good);
    write('b.yaml', good);
    expect(() => loadRules(dir)).toThrow(/b\.yaml.*also used by a\.yaml/);
  });
});
