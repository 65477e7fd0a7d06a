import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { defaultRoots, loadContent, mappedFieldNames, sha256, type Tunables } from '../../src/content';
import {
  exceptionItemId,
  isIpOrCidr,
  loadExceptionListDefs,
  renderExceptionLists,
  tunablesFromExceptionItems,
  type ExceptionItemBody,
  type ExceptionItemLike,
  type ExceptionListDef,
} from '../../src/content/exception-lists';

const roots = defaultRoots();
const content = loadContent(roots);
const defaults = content.tunables;
const defs = loadExceptionListDefs(roots.kibanaAssets);
const rendered = renderExceptionLists(defs, defaults);
const allItems = rendered.flatMap((r) => r.items);
const def = (listId: string) => defs.find((d) => d.list_id === listId)!;
const itemsOf = (listId: string) => rendered.find((r) => r.list.list_id === listId)!.items;

// Kibana's request shapes for POST /api/exception_lists and POST /api/exception_lists/items, as
// published in its OpenAPI definitions (kbn-securitysolution-exceptions-common: create_exception_list,
// create_exception_list_item, model/exception_list_common, model/exception_list_item_entry), transcribed.
const nonEmpty = { type: 'string', minLength: 1, pattern: '\\S' };
const operator = { type: 'string', enum: ['excluded', 'included'] };
const osTypes = { type: 'array', items: { type: 'string', enum: ['linux', 'macos', 'windows'] } };
const entrySchemas = {
  match: { type: 'object', required: ['type', 'field', 'value', 'operator'], additionalProperties: false, properties: { type: { const: 'match' }, field: nonEmpty, value: nonEmpty, operator } },
  match_any: { type: 'object', required: ['type', 'field', 'value', 'operator'], additionalProperties: false, properties: { type: { const: 'match_any' }, field: nonEmpty, value: { type: 'array', minItems: 1, items: nonEmpty }, operator } },
  wildcard: { type: 'object', required: ['type', 'field', 'value', 'operator'], additionalProperties: false, properties: { type: { const: 'wildcard' }, field: nonEmpty, value: nonEmpty, operator } },
  exists: { type: 'object', required: ['type', 'field', 'operator'], additionalProperties: false, properties: { type: { const: 'exists' }, field: nonEmpty, operator } },
};
const listSchema = {
  type: 'object',
  required: ['name', 'description', 'type'],
  additionalProperties: false,
  properties: {
    list_id: nonEmpty,
    name: { type: 'string' },
    description: { type: 'string' },
    type: { type: 'string', enum: ['detection', 'rule_default', 'endpoint', 'endpoint_trusted_apps', 'endpoint_events', 'endpoint_host_isolation_exceptions', 'endpoint_blocklists'] },
    namespace_type: { type: 'string', enum: ['agnostic', 'single'] },
    os_types: osTypes,
    tags: { type: 'array', items: { type: 'string' } },
    meta: { type: 'object' },
    version: { type: 'integer', minimum: 1 },
  },
};
const itemSchema = {
  type: 'object',
  required: ['list_id', 'type', 'name', 'description', 'entries'],
  additionalProperties: false,
  properties: {
    item_id: nonEmpty,
    list_id: nonEmpty,
    type: { type: 'string', enum: ['simple'] },
    name: nonEmpty,
    description: { type: 'string' },
    entries: { type: 'array', items: { anyOf: Object.values(entrySchemas) } },
    namespace_type: { type: 'string', enum: ['agnostic', 'single'] },
    os_types: osTypes,
    tags: { type: 'array', items: nonEmpty },
    meta: { type: 'object' },
    expire_time: { type: 'string' },
    comments: { type: 'array', items: { type: 'object', required: ['comment'], properties: { comment: nonEmpty } } },
  },
};
const ajv = new Ajv({ allErrors: true, strict: false });
const validList = ajv.compile(listSchema);
const validItem = ajv.compile(itemSchema);

describe('exception lists: definitions', () => {
  it('defines the five shared lists, each mirroring its tunable on the agreed field', () => {
    const summary = defs.map((d) => [d.list_id, d.tunable ?? null, d.field ?? null]);
    expect(summary).toEqual([
      ['cryptochannel-allowed-crypto-processes', 'AllowedCryptoProcesses', 'process.name'],
      ['cryptochannel-baseline-mgmt-hosts', 'BaselineMgmtHosts', 'destination.domain'],
      ['cryptochannel-exceptions', null, null],
      ['cryptochannel-trusted-certificate-authorities', 'CertificateAuthorityList', 'tls.server.x509.issuer.organization'],
      ['cryptochannel-trusted-doh-endpoints', 'TrustedDoHEndpoints', 'destination.domain'],
    ]);
  });

  it('names only fields the templates map, and only tunables that are lists of strings', () => {
    const mapped = mappedFieldNames(content.fields);
    for (const d of defs) {
      for (const f of [d.field, d.ip_field].filter(Boolean)) expect([d.list_id, f, mapped.has(f!)]).toEqual([d.list_id, f, true]);
      if (d.tunable) {
        const value: unknown = defaults[d.tunable];
        expect(Array.isArray(value) && value.every((v) => typeof v === 'string')).toBe(true);
      }
    }
  });

  it('refuses a malformed definition', () => {
    const write = (name: string, text: string) => {
      const root = mkdtempSync(path.join(os.tmpdir(), 'cc-exc-'));
      mkdirSync(path.join(root, 'exception-lists'));
      writeFileSync(path.join(root, 'exception-lists', name), text);
      return root;
    };
    const base = 'list_id: cryptochannel-x\nname: x\ndescription: x\n';
    expect(() => loadExceptionListDefs(write('cryptochannel-x.yaml', `${base}tunable: TrustedDoHEndpoints\n`))).toThrow(/needs field, entry and item_name/);
    expect(() => loadExceptionListDefs(write('cryptochannel-x.yaml', `${base}field: process.name\n`))).toThrow(/belong to a list that mirrors a tunable/);
    expect(() => loadExceptionListDefs(write('cryptochannel-x.yaml', `${base}operator: excluded\n`))).toThrow(/unknown keys operator/);
    expect(() => loadExceptionListDefs(write('cryptochannel-y.yaml', base))).toThrow(/named after its list_id/);
    expect(() => loadExceptionListDefs(write('cryptochannel-x.yaml', `${base}tunable: X\nfield: f\nitem_name: i\nentry: regex\n`))).toThrow(/entry is one of/);
  });
});

describe('exception lists: rendered from the default tunables', () => {
  it('one item per distinct tunable value, none for the analysts\' own list', () => {
    for (const d of defs) {
      const values: string[] = d.tunable ? (defaults[d.tunable] as string[]) : [];
      const distinct = new Set(values.map((v) => (d.case_insensitive ? v.toLowerCase() : v)));
      expect([d.list_id, itemsOf(d.list_id).length]).toEqual([d.list_id, distinct.size]);
    }
    expect(itemsOf('cryptochannel-allowed-crypto-processes')).toHaveLength(defaults.AllowedCryptoProcesses.length);
    expect(itemsOf('cryptochannel-exceptions')).toEqual([]);
    expect(allItems.length).toBe(
      defaults.AllowedCryptoProcesses.length + defaults.TrustedDoHEndpoints.length + defaults.BaselineMgmtHosts.length + defaults.CertificateAuthorityList.length,
    );
  });

  it('allowed processes: a match on process.name per process, in the tunable\'s order', () => {
    const items = itemsOf('cryptochannel-allowed-crypto-processes');
    expect(items.map((i) => i.entries)).toEqual(defaults.AllowedCryptoProcesses.map((p) => [{ type: 'match', field: 'process.name', value: p, operator: 'included' }]));
    expect(items[0]).toMatchObject({ list_id: 'cryptochannel-allowed-crypto-processes', type: 'simple', namespace_type: 'single', name: `Allowed crypto process: ${defaults.AllowedCryptoProcesses[0]}` });
  });

  it('DoH resolvers: names on destination.domain, addresses on destination.ip', () => {
    const entries = itemsOf('cryptochannel-trusted-doh-endpoints').map((i) => i.entries[0]!);
    const ips = defaults.TrustedDoHEndpoints.filter((v) => isIP(v) !== 0);
    expect(ips.length).toBeGreaterThan(0);
    expect(entries.filter((e) => e.field === 'destination.ip').map((e) => e.value)).toEqual(ips);
    expect(entries.filter((e) => e.field === 'destination.domain').map((e) => e.value)).toEqual(defaults.TrustedDoHEndpoints.filter((v) => isIP(v) === 0));
    expect(entries.every((e) => e.type === 'match' && e.operator === 'included')).toBe(true);
  });

  it('certificate authorities: a *contains* wildcard on the issuer organisation', () => {
    const entries = itemsOf('cryptochannel-trusted-certificate-authorities').map((i) => i.entries);
    expect(entries).toEqual(defaults.CertificateAuthorityList.map((ca) => [{ type: 'wildcard', field: 'tls.server.x509.issuer.organization', value: `*${ca}*`, operator: 'included' }]));
  });

  it('item ids derive from the list and the value: unique, stable, case-folded where the tunable ignores case', () => {
    const ids = allItems.map((i) => i.item_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const item of allItems) expect(item.item_id.startsWith(`${item.list_id}-`)).toBe(true);
    expect(renderExceptionLists(defs, defaults)).toEqual(rendered);
    const processes = def('cryptochannel-allowed-crypto-processes');
    expect(exceptionItemId(processes, 'Chrome.EXE')).toBe(exceptionItemId(processes, 'chrome.exe'));
    expect(exceptionItemId(processes, 'chrome.exe')).toMatch(/^cryptochannel-allowed-crypto-processes-chrome-exe-[0-9a-f]{8}$/);
    expect(exceptionItemId(processes, 'chrome.exe')).not.toBe(exceptionItemId(processes, 'chrome-exe'));
  });

  it('bodies have the shapes of Kibana\'s create-list and create-item requests', () => {
    for (const { list, items } of renderExceptionLists(defs, defaults, { packageVersion: '1.2.3' })) {
      expect([list.list_id, validList(list), validList.errors ?? null]).toEqual([list.list_id, true, null]);
      expect(list).toMatchObject({ type: 'detection', namespace_type: 'single' });
      for (const item of items) expect([item.item_id, validItem(item), validItem.errors ?? null]).toEqual([item.item_id, true, null]);
    }
    // the transcribed schema is not a rubber stamp
    expect(validItem({ ...allItems[0], entries: [{ type: 'match', field: 'process.name', value: ['x'], operator: 'included' }] })).toBe(false);
    expect(validList({ ...rendered[0]!.list, type: 'shared' })).toBe(false);
  });

  it('carries the managed marker only when a package version is given', () => {
    expect(rendered.every((r) => r.list.meta === undefined && r.items.every((i) => i.meta === undefined))).toBe(true);
    const [first] = renderExceptionLists([def('cryptochannel-allowed-crypto-processes')], defaults, { packageVersion: '1.2.3' });
    const { meta, ...listBody } = first!.list;
    expect(meta).toEqual({ managed_by: 'cryptochannel', package_version: '1.2.3', content_sha256: sha256(listBody), tunable: 'AllowedCryptoProcesses' });
    const { meta: itemMeta, ...itemBody } = first!.items[0]!;
    expect(itemMeta).toEqual({ managed_by: 'cryptochannel', package_version: '1.2.3', content_sha256: sha256(itemBody) });
  });
});

describe('exception lists: read back into the tunables', () => {
  const mirrored = ['AllowedCryptoProcesses', 'TrustedDoHEndpoints', 'BaselineMgmtHosts', 'CertificateAuthorityList'] as const;

  it('round-trips the defaults exactly', () => {
    const back = tunablesFromExceptionItems(defs, allItems);
    expect(back.ignored).toEqual([]);
    expect(Object.keys(back.tunables).sort()).toEqual([...mirrored].sort());
    for (const t of mirrored) expect([t, back.tunables[t]]).toEqual([t, defaults[t]]);
  });

  it('round-trips values with wildcards, CIDR ranges and characters the wildcard query escapes', () => {
    const tunables: Tunables = {
      ...defaults,
      BaselineMgmtHosts: ['vcsa01.corp.local', '*.updates.corp.local', '10.20.0.0/16', '192.0.2.10', 'fd00::1'],
      CertificateAuthorityList: ['Corp Root CA', 'Odd*Name?', 'Back\\slash'],
    };
    const items = renderExceptionLists(defs, tunables).flatMap((r) => r.items);
    const baseline = items.filter((i) => i.list_id === 'cryptochannel-baseline-mgmt-hosts').map((i) => i.entries[0]);
    expect(baseline).toEqual([
      { type: 'match', field: 'destination.domain', value: 'vcsa01.corp.local', operator: 'included' },
      { type: 'wildcard', field: 'destination.domain', value: '*.updates.corp.local', operator: 'included' },
      { type: 'match', field: 'destination.ip', value: '10.20.0.0/16', operator: 'included' },
      { type: 'match', field: 'destination.ip', value: '192.0.2.10', operator: 'included' },
      { type: 'match', field: 'destination.ip', value: 'fd00::1', operator: 'included' },
    ]);
    const cas = items.filter((i) => i.list_id === 'cryptochannel-trusted-certificate-authorities').map((i) => i.entries[0]!.value);
    expect(cas).toEqual(['*Corp Root CA*', '*Odd\\*Name\\?*', '*Back\\\\slash*']);
    const back = tunablesFromExceptionItems(defs, items);
    expect(back.ignored).toEqual([]);
    expect(back.tunables.BaselineMgmtHosts).toEqual(tunables.BaselineMgmtHosts);
    expect(back.tunables.CertificateAuthorityList).toEqual(tunables.CertificateAuthorityList);
  });

  it('follows an analyst\'s edits: deletions, additions, match_any items, duplicates in another case', () => {
    const processes = allItems.filter((i) => i.list_id === 'cryptochannel-allowed-crypto-processes');
    const kept = processes.slice(1); // the analyst deleted the first one
    const added: ExceptionItemLike[] = [
      { list_id: 'cryptochannel-allowed-crypto-processes', item_id: 'a1', entries: [{ type: 'match', field: 'process.name', value: 'backup-agent.exe', operator: 'included' }] },
      { list_id: 'cryptochannel-allowed-crypto-processes', item_id: 'a2', entries: [{ type: 'match_any', field: 'process.name', value: ['vpnclient.exe', 'MSEDGE.EXE'], operator: 'included' }] },
    ];
    const back = tunablesFromExceptionItems(defs, [...kept, ...added]);
    expect(back.ignored).toEqual([]);
    expect(back.tunables.AllowedCryptoProcesses).toEqual([...defaults.AllowedCryptoProcesses.slice(1), 'backup-agent.exe', 'vpnclient.exe']);
    expect(back.tunables.AllowedCryptoProcesses).not.toContain(defaults.AllowedCryptoProcesses[0]);
  });

  it('leaves out, with a reason, what a flat allow-list cannot say', () => {
    const list = 'cryptochannel-allowed-crypto-processes';
    const m = (field: string, value: string, operator = 'included') => ({ type: 'match', field, value, operator });
    const items: ExceptionItemLike[] = [
      { list_id: list, item_id: 'and', entries: [m('process.name', 'x.exe'), m('host.name', 'h1')] },
      { list_id: list, item_id: 'not', entries: [m('process.name', 'y.exe', 'excluded')] },
      { list_id: list, item_id: 'other-field', entries: [m('process.executable', 'C:\\z.exe')] },
      { list_id: list, item_id: 'wild', entries: [{ type: 'wildcard', field: 'process.name', value: 'chrome*', operator: 'included' }] },
      { list_id: list, item_id: 'value-list', entries: [{ type: 'list', field: 'process.name', list: { id: 'l', type: 'keyword' }, operator: 'included' }] },
      { list_id: list, item_id: 'expired', expire_time: '2020-01-01T00:00:00.000Z', entries: [m('process.name', 'old.exe')] },
      { list_id: 'cryptochannel-trusted-doh-endpoints', item_id: 'not-an-ip', entries: [m('destination.ip', 'dns.example')] },
      { list_id: 'cryptochannel-trusted-certificate-authorities', item_id: 'not-contains', entries: [{ type: 'wildcard', field: 'tls.server.x509.issuer.organization', value: 'Digi*Cert', operator: 'included' }] },
      { list_id: 'someone-elses-list', item_id: 'foreign', entries: [m('process.name', 'q.exe')] },
      { list_id: 'cryptochannel-exceptions', item_id: 'own', entries: [m('host.name', 'lab-01')] },
    ];
    const back = tunablesFromExceptionItems(defs, items, { now: new Date('2025-06-01T00:00:00Z') });
    expect(back.tunables.AllowedCryptoProcesses).toEqual([]);
    expect(back.tunables.TrustedDoHEndpoints).toEqual([]);
    expect(back.ignored.map((i) => i.item_id)).toEqual(['and', 'not', 'other-field', 'wild', 'value-list', 'expired', 'not-an-ip', 'not-contains', 'foreign']);
    const reason = (id: string) => back.ignored.find((i) => i.item_id === id)!.reason;
    expect(reason('and')).toMatch(/combines 2 conditions with AND/);
    expect(reason('not')).toMatch(/operator is excluded/);
    expect(reason('other-field')).toMatch(/matches process.executable, not process.name/);
    expect(reason('wild')).toMatch(/AllowedCryptoProcesses has no wildcard syntax/);
    expect(reason('value-list')).toMatch(/type list cannot be mirrored/);
    expect(reason('expired')).toMatch(/expired/);
    expect(reason('not-an-ip')).toMatch(/dns.example is not an IP address/);
    expect(reason('not-contains')).toMatch(/is not \*text\*/);
    // without a clock the expiry is not judged, and the item counts
    expect(tunablesFromExceptionItems(defs, items.filter((i) => i.item_id === 'expired')).tunables.AllowedCryptoProcesses).toEqual(['old.exe']);
  });

  it('returns only the tunables of the lists that were read', () => {
    const items: ExceptionItemBody[] = itemsOf('cryptochannel-trusted-doh-endpoints');
    const back = tunablesFromExceptionItems(defs, items, { lists: ['cryptochannel-trusted-doh-endpoints'] });
    expect(back.tunables).toEqual({ TrustedDoHEndpoints: defaults.TrustedDoHEndpoints });
  });

  it('a match_any list renders one item and reads it back', () => {
    const anyDef: ExceptionListDef = { ...def('cryptochannel-allowed-crypto-processes'), entry: 'match_any' };
    const { items } = renderExceptionLists([anyDef], defaults)[0]!;
    expect(items).toHaveLength(1);
    expect(items[0]!.entries).toEqual([{ type: 'match_any', field: 'process.name', value: defaults.AllowedCryptoProcesses, operator: 'included' }]);
    expect(tunablesFromExceptionItems([anyDef], items).tunables.AllowedCryptoProcesses).toEqual(defaults.AllowedCryptoProcesses);
  });

  it('knows an IP or CIDR from a host name', () => {
    for (const yes of ['8.8.8.8', '10.0.0.0/8', '::1', 'fd00::/8', '2001:db8::1/128']) expect([yes, isIpOrCidr(yes)]).toEqual([yes, true]);
    for (const no of ['dns.google', '10.0.0.0/33', '10.0.0.0/x', '1.2.3', '::1/129', '10.0.0.0/8/8', '']) expect([no, isIpOrCidr(no)]).toEqual([no, false]);
  });
});
