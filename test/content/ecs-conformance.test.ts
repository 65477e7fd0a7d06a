/**
 * Every field any pipeline emits (as recorded in the golden expected outputs) is an ECS 9.x field
 * of a compatible type or a declared cryptochannel.* field, and every event.category/event.type
 * pair is one ECS allows.
 */
import path from 'node:path';
import { ECS, EcsVersion, listDirs, listFiles, loadContent } from '../../src/content';
import { caseDir, readExpected } from '../../src/testing/cases';

const content = loadContent();
const declared = new Map<string, string>();
for (const owner of content.fields) for (const f of owner.custom) declared.set(f.name, f.type);

/** Leaves of a document as dotted paths with their values (arrays of scalars are leaves). */
function leaves(doc: unknown, prefix = ''): Array<[string, unknown]> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [[prefix, doc]];
  return Object.entries(doc as Record<string, unknown>).flatMap(([k, v]) => {
    const name = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) return v.flatMap((x) => leaves(x, name));
    return leaves(v, name);
  });
}

const NUMERIC = new Set(['long', 'integer', 'short', 'byte', 'float', 'double', 'scaled_float', 'half_float', 'unsigned_long']);

/** Whether a JSON value can be indexed as the ECS type without a mapping conflict or silent change. */
function compatible(type: string, value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.every((v) => {
    if (v === null || v === '<dynamic>') return true;
    if (NUMERIC.has(type)) return typeof v === 'number';
    if (type === 'boolean') return typeof v === 'boolean';
    if (type === 'date') return typeof v === 'string' && !Number.isNaN(Date.parse(v));
    if (type === 'ip') return typeof v === 'string' && (/^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.includes(':'));
    if (['keyword', 'constant_keyword', 'wildcard', 'match_only_text', 'text'].includes(type)) return typeof v === 'string';
    return true;
  });
}

const cases = listDirs(content.roots.pipelines)
  .filter((s) => s !== '_shared')
  .flatMap((source) =>
    listFiles(caseDir(content.roots.pipelines, source), (n) => n.endsWith('-expected.json')).map((file) => [`${source}/${path.basename(file)}`, file] as const),
  );

describe(`ECS ${EcsVersion} conformance of every golden output`, () => {
  it('has golden outputs to check', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('%s', (_name, file) => {
    const problems: string[] = [];
    for (const doc of readExpected(file) ?? []) {
      // A dead-lettered document is kept as it came (a shipper's own fields included): only what the
      // dead-letter step adds is held to ECS.
      const deadletter = (doc.event as { kind?: string } | undefined)?.kind === 'pipeline_error';
      for (const [field, value] of leaves(doc)) {
        if (deadletter && !/^(@timestamp|error\.|event\.|cryptochannel\.deadletter\.|data_stream\.)/.test(field)) continue;
        const ecs = ECS[field];
        const own = declared.get(field);
        if (ecs) {
          if (!compatible(ecs.type, value)) problems.push(`${field}: ${JSON.stringify(value)} is not a valid ${ecs.type}`);
        } else if (own) {
          if (!compatible(own, value)) problems.push(`${field}: ${JSON.stringify(value)} is not a valid ${own} (declared)`);
        } else {
          problems.push(`${field}: neither an ECS ${EcsVersion} field nor a declared cryptochannel.* field`);
        }
      }
      const event = (doc.event ?? {}) as { category?: string[]; type?: string[]; kind?: string };
      const allowedKinds = ECS['event.kind']?.allowed_values?.map((a) => a.name) ?? [];
      if (event.kind && !allowedKinds.includes(event.kind)) problems.push(`event.kind ${event.kind} is not an ECS value`);
      for (const category of event.category ?? []) {
        const def = ECS['event.category']?.allowed_values?.find((a) => a.name === category);
        if (!def) {
          problems.push(`event.category ${category} is not an ECS value`);
          continue;
        }
        for (const type of event.type ?? []) {
          if (def.expected_event_types && !def.expected_event_types.includes(type)) problems.push(`event.type ${type} is not expected with event.category ${category}`);
        }
      }
    }
    expect([...new Set(problems)]).toEqual([]);
  });
});
