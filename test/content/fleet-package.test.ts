/**
 * The Fleet package (`cryptochannel build --fleet`): valid for Elastic's own package-spec validator,
 * and one content with `apply`: the same pipelines, field mappings, rules, ML jobs and saved objects,
 * compared payload by payload after undoing only the differences Fleet's installer dictates (its
 * pipeline naming, inline scripts for stored ones, its own @custom call, no `_meta` of ours).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ECS, loadContent, loadDetectionContent, mlJobMeta, PRODUCT, SHARED, SOURCES } from '../../src/content';
import { buildFleetPackage, FLEET_PACKAGE_NAME, fleetPackageProblems, type FleetPackage } from '../../src/fleet/package';
import { checkPackage, packageSpecBinary } from '../../src/fleet/spec-check';
import { fleetPipelines } from '../../src/fleet/pipelines';
import { writeFleetPackage } from '../../src/fleet/write';
import { engineAssets, kibanaAssets, mlAssets } from '../../src/plan/desired';
import type { DesiredAsset } from '../../src/plan/types';
import { fleetPipelineBody } from '../support/fleet-install';

const VERSION = '0.1.0';
const content = loadContent();
const detection = loadDetectionContent(content.roots);
const pkg: FleetPackage = buildFleetPackage(content, detection, { packageVersion: VERSION });
const file = (p: string) => {
  const f = pkg.files.find((x) => x.path === p);
  if (!f) throw new Error(`the package has no ${p}`);
  return f.content;
};
const filesUnder = (prefix: string) => pkg.files.filter((f) => f.path.startsWith(prefix));

const applyEs = engineAssets(content, { flavor: 'elasticsearch', packageVersion: VERSION, now: '2026-01-01T00:00:00Z' });
const ofKind = (assets: DesiredAsset[], kind: string) => assets.filter((a) => a.kind === kind);

type Json = Record<string, unknown>;

/** apply's ES pipeline as Fleet would hold it: stored scripts inline, shared names per data stream, no @custom call, no _meta. */
function applyAsFleet(body: Json, source: string, scripts: Map<string, string>): Json {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.filter((v) => !(v && typeof v === 'object' && (v as Json).pipeline && ((v as Json).pipeline as Json).tag === 'custom')).map(walk);
    if (typeof value === 'string') return value.replace(new RegExp(`^logs-${PRODUCT}-${VERSION.replace(/\./g, '\\.')}-`), `logs-${PRODUCT}.${source}-${VERSION}-`);
    if (!value || typeof value !== 'object') return value;
    const out: Json = {};
    for (const [k, v] of Object.entries(value as Json)) {
      if (k === 'script' && v && typeof v === 'object' && typeof (v as Json).id === 'string' && scripts.has((v as Json).id as string)) {
        const { id, ...rest } = v as Json;
        out[k] = { lang: 'painless', source: scripts.get(id as string), ...(walk(rest) as Json) };
      } else out[k] = walk(v);
    }
    return out;
  };
  const { _meta, ...rest } = body;
  return walk(rest) as Json;
}

/** Flattens a mapping's properties into name → type (multi-fields as name.sub). */
function flatTypes(properties: Json, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, def] of Object.entries(properties)) {
    const full = `${prefix}${name}`;
    const d = def as Json;
    if (typeof d.type === 'string') out[full] = d.type;
    for (const [sub, subDef] of Object.entries((d.fields as Json | undefined) ?? {})) out[`${full}.${sub}`] = (subDef as Json).type as string;
    if (d.properties) Object.assign(out, flatTypes(d.properties as Json, `${full}.`));
  }
  return out;
}

function packageFieldTypes(source: string, files = ['ecs.yml', 'fields.yml']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of files) {
    for (const field of parse(file(`data_stream/${source}/fields/${f}`)) as Array<{ name: string; type: string; multi_fields?: Array<{ name: string; type: string }> }>) {
      out[field.name] = field.type;
      for (const m of field.multi_fields ?? []) out[`${field.name}.${m.name}`] = m.type;
    }
  }
  return out;
}

const sources = SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s && p.name === 'default'));

describe('the Fleet package', () => {
  it("passes Elastic's package-spec validator, as a folder and as the zip Fleet takes", async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'cc-fleet-'));
    const written = writeFleetPackage(pkg, out);
    const binary = packageSpecBinary(process.env.CRYPTOCHANNEL_HOME ?? path.join(os.homedir(), '.cache', 'cryptochannel'));
    for (const target of [written.dir, written.zip]) {
      const result = await checkPackage(target, binary);
      expect({ target, errors: result.errors }).toEqual({ target, errors: [] });
      expect(result.ok).toBe(true);
    }
    expect(path.basename(written.zip)).toBe(`${FLEET_PACKAGE_NAME}-${VERSION}.zip`);
  });

  it('excludes only the package-spec checks its validation.yml gives a reason for', () => {
    const validation = file('validation.yml');
    const codes = (parse(validation) as { errors: { exclude_checks: string[] } }).errors.exclude_checks;
    expect(codes).toEqual(['SVR00004']);
    for (const code of codes) expect(validation).toMatch(new RegExp(`^# ${code}: .{40,}`, 'm'));
  });

  it('names itself and its version the way Fleet and the changelog expect', () => {
    const manifest = parse(file('manifest.yml')) as Json;
    expect(manifest).toMatchObject({ name: 'cryptochannel', version: VERSION, type: 'integration' });
    expect((parse(file('changelog.yml')) as Array<{ version: string }>)[0]!.version).toBe(VERSION);
    expect(() => buildFleetPackage(content, detection, { packageVersion: '9.9.9' })).toThrow(/changelog/);
    expect(fleetPackageProblems(content, detection, { packageVersion: '9.9.9' }).problems).toEqual([expect.stringMatching(/^Fleet package: .*changelog\.yml.*add an entry for this version/)]);
    expect(fleetPackageProblems(content, detection, { packageVersion: VERSION })).toEqual({ files: pkg.files.length, problems: [] });
  });

  it('has one data stream per source and the dead-letter stream', () => {
    const streams = [...new Set(filesUnder('data_stream/').map((f) => f.path.split('/')[1]))].sort();
    expect(streams).toEqual([...sources, 'deadletter'].sort());
  });

  describe.each(sources)('%s: the same pipelines as apply', (source) => {
    const scripts = new Map(ofKind(applyEs, 'stored_script').map((s) => [s.name, (s.body as { script: { source: string } }).script.source]));
    const applyPipelines = new Map(ofKind(applyEs, 'pipeline').map((p) => [p.name, p.body as Json]));
    const fleetFiles = filesUnder(`data_stream/${source}/elasticsearch/ingest_pipeline/`);

    it.each(fleetFiles.map((f) => [path.basename(f.path, '.yml'), f.content]))('%s', (name, text) => {
      expect(text.startsWith('---\n')).toBe(true);
      const fleet = fleetPipelineBody(text, source, VERSION);
      const own = applyPipelines.get(name === 'default' ? `logs-${PRODUCT}.${source}-${VERSION}` : `logs-${PRODUCT}.${source}-${VERSION}-${name}`);
      const shared = applyPipelines.get(`logs-${PRODUCT}-${VERSION}-${name}`);
      const applied = own ?? shared;
      expect(applied).toBeDefined();
      expect(fleet).toEqual(applyAsFleet(applied!, source, scripts));
      expect(JSON.stringify(fleet)).not.toMatch(/\{\{\s*(IngestPipeline|StoredScript|Tunable|PipelineName)/);
    });

    it('calls only pipelines of its own data stream', () => {
      const names = new Set(fleetFiles.map((f) => path.basename(f.path, '.yml')));
      for (const f of fleetFiles) for (const m of f.content.matchAll(/IngestPipeline "([^"]+)"/g)) expect(names).toContain(m[1]);
    });
  });

  it.each(sources)("%s: the fields map to the types of apply's @package component template", (source) => {
    const template = ofKind(applyEs, 'component_template').find((t) => t.name === `logs-${PRODUCT}.${source}@package`)!;
    const applied = flatTypes(((template.body as Json).template as { mappings: { properties: Json } }).mappings.properties);
    const fleet = packageFieldTypes(source);
    const base = packageFieldTypes(source, ['base-fields.yml']);
    expect(base).toEqual({ 'data_stream.type': 'constant_keyword', 'data_stream.dataset': 'constant_keyword', 'data_stream.namespace': 'constant_keyword', '@timestamp': 'date' });
    const comparable = Object.fromEntries(Object.entries(applied).filter(([name]) => !(name in base) && applied[name] !== 'object'));
    expect(Object.fromEntries(Object.entries(fleet).filter(([, t]) => t !== 'object'))).toEqual(comparable);
    // Full definitions, so that neither the build nor Fleet fetches ECS: every ECS field carries its description.
    for (const field of parse(file(`data_stream/${source}/fields/ecs.yml`)) as Array<{ name: string; description: string }>) {
      expect(ECS[field.name]).toBeDefined();
      expect(field.description.length).toBeGreaterThan(0);
    }
  });

  it.each(sources)('%s: sample_event.json is a normalised event whose every field the data stream declares', (source) => {
    const event = JSON.parse(file(`data_stream/${source}/sample_event.json`)) as Json;
    expect((event.event as Json).dataset).toBe(`${PRODUCT}.${source}`);
    const declared = { ...packageFieldTypes(source), ...packageFieldTypes(source, ['base-fields.yml']) };
    const objects = Object.keys(declared).filter((n) => declared[n] === 'object' || declared[n] === 'flattened');
    const leaves = (value: unknown, prefix: string): string[] =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.entries(value as Json).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
        : Array.isArray(value) && value.some((v) => v && typeof v === 'object')
          ? value.flatMap((v) => leaves(v, prefix))
          : [prefix];
    const undeclared = leaves(event, '').filter((name) => !(name in declared) && !objects.some((o) => name.startsWith(`${o}.`)));
    expect(undeclared).toEqual([]);
  });

  it('ships every rule as the payload apply sends, less the exception-list links and our ownership stamp', () => {
    const applied = kibanaAssets(detection, { packageVersion: VERSION, tunables: content.tunables, exceptionListIds: {} }).filter((a) => a.kind === 'rule');
    expect(filesUnder('kibana/security_rule/')).toHaveLength(applied.length);
    for (const rule of applied) {
      const asset = JSON.parse(file(`kibana/security_rule/${rule.name}.json`)) as { id: string; type: string; attributes: Json };
      const { meta, exceptions_list, ...payload } = (rule.body as { payload: Json }).payload;
      expect(meta).toBeDefined();
      expect(exceptions_list).toBeDefined();
      expect(asset).toEqual({ id: rule.name, type: 'security-rule', attributes: payload });
    }
  });

  it('ships every ML job and datafeed as apply installs them, in one ML module', () => {
    const module = JSON.parse(file('kibana/ml_module/cryptochannel-ml.json')) as { attributes: { jobs: Array<{ id: string; config: Json }>; datafeeds: Array<{ id: string; job_id: string; config: Json }> } };
    const applied = mlAssets(detection, VERSION);
    expect(module.attributes.jobs.map((j) => j.id)).toEqual(applied.map((a) => a.name));
    for (const asset of applied) {
      const rendered = asset.body as { job: Json; datafeed: Json; datafeedId: string };
      expect(mlJobMeta(rendered.job)).toBeDefined();
      const { custom_settings, ...job } = rendered.job;
      const ownSettings = Object.fromEntries(Object.entries(custom_settings as Json).filter(([k]) => !['managed_by', 'package_version', 'content_sha256'].includes(k)));
      const shipped = module.attributes.jobs.find((j) => j.id === asset.name)!.config;
      expect(shipped).toEqual(Object.keys(ownSettings).length ? { ...job, custom_settings: ownSettings } : job);
      expect(module.attributes.datafeeds.find((d) => d.job_id === asset.name)).toEqual({ id: rendered.datafeedId, job_id: asset.name, config: rendered.datafeed });
    }
  });

  it('ships the dashboards, panels, searches, data views and tags apply imports, unchanged', () => {
    const applied = kibanaAssets(detection, { packageVersion: VERSION, tunables: content.tunables, exceptionListIds: {} }).filter((a) => a.kind === 'saved_object');
    const shipped = filesUnder('kibana/').filter((f) => !f.path.startsWith('kibana/security_rule/') && !f.path.startsWith('kibana/ml_module/'));
    expect(shipped).toHaveLength(applied.length);
    for (const so of applied) {
      const body = so.body as { type: string; id: string };
      const folder = body.type === 'index-pattern' ? 'index_pattern' : body.type;
      expect(JSON.parse(file(`kibana/${folder}/${body.id}.json`))).toEqual(so.body);
    }
  });

  it('writes the same zip for the same content', () => {
    const a = writeFleetPackage(pkg, mkdtempSync(path.join(os.tmpdir(), 'cc-fleet-a-')));
    const b = writeFleetPackage(buildFleetPackage(content, detection, { packageVersion: VERSION }), mkdtempSync(path.join(os.tmpdir(), 'cc-fleet-b-')));
    expect(readFileSync(a.zip).equals(readFileSync(b.zip))).toBe(true);
  });
});

describe('fleetPipelines', () => {
  const p = (owner: string, name: string, processors: unknown[]) => ({ owner, name, file: `${owner}/${name}.yml`, body: { processors } });
  it('refuses a shared pipeline whose callee has a namesake in the source, which one data stream folder cannot hold', () => {
    const clash = {
      ...content,
      pipelines: [
        p('zeek', 'default', [{ pipeline: { name: '{{ IngestPipeline "wrap" }}' } }]),
        p('zeek', 'inner', []),
        p(SHARED, 'wrap', [{ pipeline: { name: '{{ IngestPipeline "inner" }}' } }]),
        p(SHARED, 'inner', []),
      ],
    };
    expect(() => fleetPipelines(clash, 'zeek', VERSION)).toThrow(/'inner' exists in zeek and in _shared/);
    // The source's own call to a name both hold is its own pipeline, as apply resolves it.
    const own = { ...clash, pipelines: clash.pipelines.filter((x) => x.name !== 'wrap').map((x) => (x.name === 'default' ? p('zeek', 'default', [{ pipeline: { name: '{{ IngestPipeline "inner" }}' } }]) : x)) };
    expect(fleetPipelines(own, 'zeek', VERSION).map((f) => `${f.owner}/${f.name}`)).toEqual(['zeek/default', 'zeek/inner']);
  });
});
