import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContentError, defaultRoots, loadContent, mappedFieldNames, sha256 } from '../../src/content';
import {
  buildSavedObjects,
  checkSavedObjects,
  dataViewFieldResolver,
  fieldsUsed,
  fromNdjson,
  kqlFields,
  loadRunsFields,
  loadSavedObjects,
  MANAGED_TAG_ID,
  toNdjson,
  type KibanaSavedObject,
} from '../../src/content/kibana-assets';

const roots = defaultRoots();
const content = loadContent(roots);
const runs = loadRunsFields(roots.kibanaAssets);
const fieldsFor = dataViewFieldResolver(content.fields, runs);
const loaded = loadSavedObjects(roots.kibanaAssets);
const built = buildSavedObjects(loaded, '0.0.0-test');

/** A deep copy of the built set with one object changed, for the negative checks. */
function mutate(id: string, change: (o: KibanaSavedObject) => void): KibanaSavedObject[] {
  const copy = structuredClone(built.objects);
  const target = copy.find((o) => o.id === id);
  if (!target) throw new Error(`no object ${id}`);
  change(target);
  return copy;
}

function lensState(o: KibanaSavedObject): any {
  return o.attributes.state as any;
}

describe('Kibana saved objects: load and build', () => {
  it('loads the data views, dashboards, Lens objects, saved searches and the managed tag', () => {
    const byType = (t: string) => loaded.filter((o) => o.type === t).map((o) => o.id);
    expect(byType('index-pattern').sort()).toEqual(['cryptochannel-alerts', 'cryptochannel-events', 'cryptochannel-runs']);
    expect(byType('tag')).toEqual([MANAGED_TAG_ID]);
    expect(byType('dashboard').sort()).toEqual([
      'cryptochannel-dashboard-alerts',
      'cryptochannel-dashboard-certificates',
      'cryptochannel-dashboard-correlator-runs',
      'cryptochannel-dashboard-crypto-libraries',
      'cryptochannel-dashboard-esxi-egress',
      'cryptochannel-dashboard-traffic-asymmetry',
    ]);
    expect(byType('search')).toEqual(expect.arrayContaining(['cryptochannel-search-deadletter', 'cryptochannel-search-alerts-by-score']));
    expect(byType('lens').length).toBeGreaterThanOrEqual(12);
    const titles = Object.fromEntries(loaded.filter((o) => o.type === 'index-pattern').map((o) => [o.id, o.attributes.title]));
    expect(titles).toEqual({ 'cryptochannel-events': 'logs-cryptochannel.*', 'cryptochannel-alerts': 'logs-cryptochannel.alerts-*', 'cryptochannel-runs': 'cryptochannel-runs*' });
  });

  it('the shipped objects pass every check', () => {
    expect(checkSavedObjects(built.objects, fieldsFor)).toEqual([]);
  });

  it('stringifies what Kibana stores as JSON strings, and only that', () => {
    for (const o of built.objects) {
      const source = loaded.find((l) => l.id === o.id)!;
      if (o.type === 'dashboard') {
        expect(typeof o.attributes.panelsJSON).toBe('string');
        expect(typeof o.attributes.optionsJSON).toBe('string');
        const panels = JSON.parse(o.attributes.panelsJSON as string);
        // the builder adds the panel version; everything else is the authored panel
        expect(panels.map(({ version: _v, ...p }: any) => p)).toEqual(source.attributes.panelsJSON);
        expect(panels.every((p: any) => typeof p.version === 'string')).toBe(true);
        expect(JSON.parse(o.attributes.optionsJSON as string)).toEqual(source.attributes.optionsJSON);
      }
      if (o.type === 'dashboard' || o.type === 'search') {
        const meta = o.attributes.kibanaSavedObjectMeta as any;
        expect(typeof meta.searchSourceJSON).toBe('string');
        expect(JSON.parse(meta.searchSourceJSON)).toEqual((source.attributes.kibanaSavedObjectMeta as any).searchSourceJSON);
      }
      if (o.type === 'lens') expect(o.attributes.state).toEqual(source.attributes.state);
      expect(o.coreMigrationVersion).toMatch(/^8\.\d+\.\d+$/);
      if (o.type !== 'tag') expect(o.typeMigrationVersion).toMatch(/^\d+\.\d+\.\d+$/);
    }
    // the content itself stays free of versions and JSON strings
    for (const o of loaded) expect(JSON.stringify(o.attributes)).not.toMatch(/MigrationVersion/);
  });

  it('tags every taggable object with the managed tag, and not data views', () => {
    for (const o of built.objects) {
      const tagged = o.references.some((r) => r.type === 'tag' && r.id === MANAGED_TAG_ID && r.name === `tag-ref-${MANAGED_TAG_ID}`);
      expect([o.id, tagged]).toEqual([o.id, ['dashboard', 'lens', 'search'].includes(o.type)]);
    }
  });

  it('round-trips through NDJSON, one object per line, dependencies first', () => {
    const ndjson = toNdjson(built.objects);
    const lines = ndjson.trimEnd().split('\n');
    expect(lines).toHaveLength(built.objects.length);
    for (const line of lines) expect(Object.keys(JSON.parse(line))).toEqual(expect.arrayContaining(['type', 'id', 'attributes', 'references', 'coreMigrationVersion']));
    expect(fromNdjson(ndjson)).toEqual(built.objects);
    const position = new Map(built.objects.map((o, i) => [o.id, i]));
    for (const o of built.objects) for (const r of o.references) expect([o.id, r.id, position.get(r.id)! < position.get(o.id)!]).toEqual([o.id, r.id, true]);
  });

  it('the manifest hashes each built object, independently of the package version', () => {
    expect(built.manifest.tag_id).toBe(MANAGED_TAG_ID);
    expect(built.manifest.objects.map((m) => m.id)).toEqual(built.objects.map((o) => o.id));
    for (const [i, m] of built.manifest.objects.entries()) {
      expect(m).toMatchObject({ managed_by: 'cryptochannel', package_version: '0.0.0-test', content_sha256: sha256(built.objects[i]) });
    }
    const other = buildSavedObjects(loaded, '9.9.9');
    expect(other.manifest.objects.map((m) => m.content_sha256)).toEqual(built.manifest.objects.map((m) => m.content_sha256));
    const changed = structuredClone(loaded);
    changed.find((o) => o.type === 'lens')!.attributes.title = 'changed';
    const rehashed = buildSavedObjects(changed, '0.0.0-test').manifest.objects;
    expect(rehashed.filter((m, i) => m.content_sha256 !== built.manifest.objects[i]!.content_sha256)).toHaveLength(1);
  });
});

describe('Kibana saved objects: fields', () => {
  const mapped = mappedFieldNames(content.fields);
  const used = fieldsUsed(built.objects);

  it('every field a visualisation, saved search or data view uses exists in the templates (or runs.yml)', () => {
    const runNames = new Set(runs.fields.map((f) => f.name));
    expect([...used.keys()].sort()).toEqual(['cryptochannel-alerts', 'cryptochannel-events', 'cryptochannel-runs']);
    for (const [view, fields] of used) {
      const known = view === 'cryptochannel-runs' ? runNames : mapped;
      expect([view, [...fields].filter((f) => !known.has(f))]).toEqual([view, []]);
    }
    // the panels are about the facts the pipelines derive: a sample of what must be used
    const events = used.get('cryptochannel-events')!;
    for (const f of ['cryptochannel.tls.self_signed', 'cryptochannel.tls.issuer_trusted', 'cryptochannel.tls.weak_key', 'cryptochannel.tls.cert_expired', 'cryptochannel.network.bytes_out_in_ratio', 'cryptochannel.esxi.peer_in_baseline', 'cryptochannel.sysmon.crypto_library', 'dll.name']) {
      expect(events).toContain(f);
    }
    expect(used.get('cryptochannel-alerts')).toContain('cryptochannel.alert.analytic');
  });

  // The correlator writes exactly these (test/unit/correlator/runtime-pure.test.ts holds it to the
  // file); here: the ones the run dashboards and searches stand on are there, each declared once.
  it('declares the run-log fields the correlator writes', () => {
    expect(runs.index).toBe('cryptochannel-runs');
    const names = runs.fields.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining([
      '@timestamp',
      'cryptochannel.run.id',
      'cryptochannel.run.mode',
      'cryptochannel.run.status',
      'cryptochannel.run.window_start',
      'cryptochannel.run.window_end',
      'cryptochannel.run.duration_ms',
      'cryptochannel.run.events_read',
      'cryptochannel.run.candidates',
      'cryptochannel.run.alerts_written',
      'cryptochannel.run.below_threshold',
      'cryptochannel.run.error',
      'cryptochannel.run.correlator_version',
      'cryptochannel.run.host',
    ]));
    for (const f of used.get('cryptochannel-runs')!) expect(runs.fields.map((r) => r.name)).toContain(f);
  });

  it('resolves each data view to the fields of the streams it matches', () => {
    const alerts = fieldsFor('logs-cryptochannel.alerts-*')!;
    const events = fieldsFor('logs-cryptochannel.*')!;
    expect(alerts.get('cryptochannel.alert.score')).toBe('long');
    expect(alerts.has('cryptochannel.sysmon.crypto_library')).toBe(false);
    expect(events.get('cryptochannel.sysmon.crypto_library')).toBe('boolean');
    expect(events.get('destination.ip')).toBe('ip');
    expect(events.get('process.name.text')).toBe('match_only_text');
    expect([...events.keys()].sort()).toEqual([...mapped].sort());
    expect(fieldsFor('cryptochannel-runs*')!.get('cryptochannel.run.duration_ms')).toBe('long');
    expect(fieldsFor('logs-other.*')).toBeUndefined();
  });

  it('reads the field names of KQL queries, not of quoted values', () => {
    expect(kqlFields('event.kind : "a:b" and not x.y >= 3 or (z : ("hostd" or "vpxa")) and @timestamp < now')).toEqual(['event.kind', 'x.y', 'z', '@timestamp']);
    expect(kqlFields('')).toEqual([]);
    expect(kqlFields('"host.name : x"')).toEqual([]);
  });
});

describe('Kibana saved objects: the checks catch broken content', () => {
  const firstLens = built.objects.find((o) => o.type === 'lens' && o.attributes.visualizationType === 'lnsXY')!.id;
  const firstDashboard = built.objects.find((o) => o.type === 'dashboard')!;

  it('a reference to a missing data view', () => {
    const broken = mutate(firstLens, (o) => {
      o.references[0]!.id = 'cryptochannel-no-such-view';
    });
    expect(checkSavedObjects(broken, fieldsFor)).toEqual([expect.stringContaining(`lens/${firstLens}: reference indexpattern-datasource-layer-layer1 points at index-pattern/cryptochannel-no-such-view`)]);
  });

  it('a dashboard panel whose object is gone', () => {
    const panelRef = firstDashboard.references.find((r) => r.type === 'lens')!;
    const broken = structuredClone(built.objects).filter((o) => o.id !== panelRef.id);
    const problems = checkSavedObjects(broken, fieldsFor);
    expect(problems).toContainEqual(expect.stringContaining(`dashboard/${firstDashboard.id}: reference ${panelRef.name} points at lens/${panelRef.id}, which is not in the set`));
  });

  it('a reference whose type is wrong, and a panel without its reference', () => {
    const wrongType = mutate(firstDashboard.id, (o) => {
      o.references.find((r) => r.type === 'lens')!.type = 'search';
    });
    expect(checkSavedObjects(wrongType, fieldsFor).join('\n')).toMatch(/says search\/.* but that object is a lens/);
    const missing = mutate(firstDashboard.id, (o) => {
      o.references = o.references.filter((r) => r.name !== 'p1:panel_p1');
    });
    expect(checkSavedObjects(missing, fieldsFor)).toContainEqual(`dashboard/${firstDashboard.id} panel p1: no reference named p1:panel_p1`);
  });

  it('overlapping or off-grid panels', () => {
    const broken = mutate(firstDashboard.id, (o) => {
      const panels = JSON.parse(o.attributes.panelsJSON as string);
      panels[1].gridData = { ...panels[0].gridData, i: panels[1].panelIndex };
      panels[0].gridData.w = 60;
      o.attributes.panelsJSON = JSON.stringify(panels);
    });
    const problems = checkSavedObjects(broken, fieldsFor).join('\n');
    expect(problems).toMatch(/panel p1: gridData must fit the 48-column grid/);
    expect(problems).toMatch(/panel p2: overlaps panel p1/);
  });

  it('a Lens column on a field no template maps, or of the wrong type', () => {
    const unknown = mutate(firstLens, (o) => {
      const columns = lensState(o).datasourceStates.formBased.layers.layer1.columns;
      const terms = Object.values(columns).find((c: any) => c.operationType === 'terms') as any;
      terms.sourceField = 'cryptochannel.no_such_field';
    });
    expect(checkSavedObjects(unknown, fieldsFor).join('\n')).toMatch(/field cryptochannel\.no_such_field is not mapped/);
    const wrongType = mutate('cryptochannel-lens-alerts-top-hosts', (o) => {
      lensState(o).datasourceStates.formBased.layers.layer1.columns['col-max-score'].sourceField = 'host.name';
    });
    expect(checkSavedObjects(wrongType, fieldsFor).join('\n')).toMatch(/field host\.name \(keyword\) cannot be used there/);
  });

  it('a field that exists only in another data view', () => {
    const broken = mutate('cryptochannel-lens-alerts-over-time', (o) => {
      lensState(o).query.query = 'cryptochannel.sysmon.crypto_library : true';
    });
    expect(checkSavedObjects(broken, fieldsFor).join('\n')).toMatch(/query: field cryptochannel\.sysmon\.crypto_library is not mapped/);
  });

  it('a visualisation naming a column its layer lacks', () => {
    const broken = mutate(firstLens, (o) => {
      lensState(o).visualization.layers[0].accessors = ['col-gone'];
    });
    expect(checkSavedObjects(broken, fieldsFor).join('\n')).toMatch(/names column col-gone, which layer layer1 does not have/);
  });

  it('a saved search column, sort field or query field that is not mapped', () => {
    const broken = mutate('cryptochannel-search-alerts-by-score', (o) => {
      (o.attributes.columns as string[]).push('cryptochannel.alert.nope');
      (o.attributes.sort as string[][]).push(['cryptochannel.run.status', 'desc']);
    });
    const problems = checkSavedObjects(broken, fieldsFor).join('\n');
    expect(problems).toMatch(/columns: field cryptochannel\.alert\.nope is not mapped/);
    expect(problems).toMatch(/sort: field cryptochannel\.run\.status is not mapped/);
  });

  it('a data view that matches no stream, and an object without the managed tag', () => {
    const view = mutate('cryptochannel-runs', (o) => {
      o.attributes.title = 'runs-*';
    });
    expect(checkSavedObjects(view, fieldsFor)).toContainEqual('index-pattern/cryptochannel-runs: runs-* matches no cryptochannel stream or index');
    const untagged = mutate(firstLens, (o) => {
      o.references = o.references.filter((r) => r.type !== 'tag');
    });
    expect(checkSavedObjects(untagged, fieldsFor)).toEqual([`lens/${firstLens}: does not carry the ${MANAGED_TAG_ID} tag`]);
  });
});

describe('Kibana saved objects: loading refuses malformed content', () => {
  function tree(files: Record<string, string>): string {
    const root = mkdtempSync(path.join(os.tmpdir(), 'cc-kibana-'));
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    return root;
  }

  it('a JSON string where YAML is expected, a type outside its folder, an unknown folder, a foreign id', () => {
    expect(() => loadSavedObjects(tree({ 'dashboard/cryptochannel-d.yaml': 'type: dashboard\nid: cryptochannel-d\nattributes:\n  title: d\n  panelsJSON: "[]"\n' }))).toThrow(/author panelsJSON as YAML/);
    expect(() => loadSavedObjects(tree({ 'lens/cryptochannel-x.yaml': 'type: search\nid: cryptochannel-x\nattributes: {}\n' }))).toThrow(ContentError);
    expect(() => loadSavedObjects(tree({ 'visualization/cryptochannel-v.yaml': 'type: visualization\n' }))).toThrow(/unknown folder/);
    expect(() => loadSavedObjects(tree({ 'search/other-s.yaml': 'type: search\nid: other-s\nattributes: {}\n' }))).toThrow(/id must start with 'cryptochannel-'/);
    expect(() => loadSavedObjects(tree({ 'search/cryptochannel-s.yaml': 'type: search\nid: cryptochannel-s\nattributes: {}\ntypeMigrationVersion: 8.0.0\n' }))).toThrow(/unknown keys typeMigrationVersion/);
  });
});
