/**
 * Ingest pipelines as content: `ingest-pipelines/<source>/*.yml` (a source's `default.yml` is its
 * entry pipeline) and `ingest-pipelines/_shared/*.yml` (sub-pipelines several sources call).
 *
 * Content never holds installed names. It refers to them with placeholders that the renderer
 * replaces, in the style of Fleet packages:
 *   {{ IngestPipeline "name" }}  another pipeline of the same source, else of _shared
 *   {{ StoredScript "name" }}    a stored script from integration/painless/
 *   {{ Tunable "Name" }}         a tunable's value (a whole string only: the value keeps its JSON type)
 *   {{ PipelineName }}           the installed name of the pipeline itself
 */
import path from 'node:path';
import { ContentError, listDirs, listFiles, readYaml } from './files';
import { translateForElasticsearch } from './flavor';
import { managedMeta, type ManagedMeta } from './hash';
import { PRODUCT, SOURCES } from './sources';
import { tunableValue } from './tunables';

export const SHARED = '_shared';

export interface PipelineContent {
  /** A source name, or `_shared`. */
  owner: string;
  /** File name without `.yml`; `default` is a source's entry pipeline. */
  name: string;
  file: string;
  body: Record<string, unknown>;
}

export interface RenderContext {
  /** Goes into every installed name, so that versions coexist during an upgrade. */
  version: string;
  packageVersion: string;
  ecsVersion: string;
  tunables: Readonly<Record<string, unknown>>;
  /** OpenSearch 2.x pipelines refuse `_meta`: there the marker goes into the description. */
  flavor: 'elasticsearch' | 'opensearch';
  /** Prefix of the `@custom` pipeline names (tests keep theirs apart from a user's). */
  customPrefix?: string;
}

/**
 * The user's own pipeline per source, called at the end of the source's entry pipeline. Its name
 * carries no version, so that it survives upgrades; the deployer creates it empty and never
 * touches it again (OpenSearch's pipeline processor has no `ignore_missing_pipeline`, so it must exist).
 */
export function customPipelineId(source: string, prefix = ''): string {
  return `${prefix}logs-${PRODUCT}.${source}@custom`;
}

export function customPipelineBody(source: string): Record<string, unknown> {
  return {
    description: `Your own processors for ${PRODUCT}.${source} events: runs after cryptochannel's pipeline and is never overwritten by an upgrade.`,
    processors: [],
  };
}

const MARKER = /\s*\[managed_by: cryptochannel[^\]]*\]$/;

/** Stamps ownership on a pipeline body the way its engine can store it. */
export function stampPipeline(body: Record<string, unknown>, meta: ManagedMeta, flavor: RenderContext['flavor']): Record<string, unknown> {
  if (flavor === 'elasticsearch') return { ...body, _meta: meta };
  const description = typeof body.description === 'string' ? body.description.replace(MARKER, '') : '';
  const marker = `[managed_by: ${meta.managed_by}, package_version: ${meta.package_version}, content_sha256: ${meta.content_sha256}]`;
  return { ...body, description: description ? `${description} ${marker}` : marker };
}

/** Reads the ownership stamp back from an installed pipeline of either engine. */
export function pipelineMeta(body: Record<string, unknown>): ManagedMeta | undefined {
  const meta = body._meta as Partial<ManagedMeta> | undefined;
  if (meta?.managed_by === 'cryptochannel' && meta.package_version && meta.content_sha256) return meta as ManagedMeta;
  const match = typeof body.description === 'string' ? /\[managed_by: (cryptochannel), package_version: ([^,]+), content_sha256: ([0-9a-f]+)\]$/.exec(body.description) : null;
  return match ? { managed_by: 'cryptochannel', package_version: match[2]!, content_sha256: match[3]! } : undefined;
}

export interface RenderedPipeline {
  id: string;
  owner: string;
  name: string;
  body: Record<string, unknown>;
}

export function loadPipelines(pipelinesRoot: string): PipelineContent[] {
  const out: PipelineContent[] = [];
  for (const owner of listDirs(pipelinesRoot)) {
    if (owner !== SHARED && !(SOURCES as readonly string[]).includes(owner)) {
      throw new ContentError(path.join(pipelinesRoot, owner), `unknown source folder (sources: ${SOURCES.join(', ')}, or ${SHARED})`);
    }
    for (const file of listFiles(path.join(pipelinesRoot, owner), (n) => n.endsWith('.yml'))) {
      const body = readYaml<Record<string, unknown>>(file);
      if (!body || typeof body !== 'object' || !Array.isArray(body.processors)) {
        throw new ContentError(file, 'a pipeline needs a `processors` list');
      }
      out.push({ owner, name: path.basename(file, '.yml'), file, body });
    }
  }
  return out;
}

export function pipelineId(owner: string, name: string, version: string): string {
  if (owner === SHARED) return `logs-${PRODUCT}-${version}-${name}`;
  return name === 'default' ? `logs-${PRODUCT}.${owner}-${version}` : `logs-${PRODUCT}.${owner}-${version}-${name}`;
}

export function scriptId(name: string, version: string): string {
  return `${PRODUCT}-${version}-${name}`;
}

const PLACEHOLDER = /\{\{\s*(IngestPipeline|StoredScript|Tunable)\s+"([^"]+)"\s*\}\}|\{\{\s*PipelineName\s*\}\}/g;
const WHOLE_TUNABLE = /^\{\{\s*Tunable\s+"([^"]+)"\s*\}\}$/;

export interface Resolver {
  pipeline(name: string): string;
  script(name: string): string;
  tunable(name: string): unknown;
  self: string;
}

/**
 * The script and tunable halves of a pipeline's resolver. `apply`'s renderer and the Fleet package's
 * differ only in what a stored-script reference becomes (`scriptRef`): an installed id, or a mark to inline.
 */
export function scriptAndTunableResolver(file: string, scripts: readonly string[], tunables: object, scriptRef: (name: string) => string): Pick<Resolver, 'script' | 'tunable'> {
  return {
    script(name) {
      if (!scripts.includes(name)) throw new ContentError(file, `{{ StoredScript "${name}" }} names no file integration/painless/${name}.painless`);
      return scriptRef(name);
    },
    tunable: (name) => tunableValue(file, name, tunables),
  };
}

/** Replaces the placeholders in a pipeline's content (any JSON value) through `resolve`. */
export function renderValue(value: unknown, resolve: Resolver): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_TUNABLE.exec(value);
    if (whole?.[1]) return resolve.tunable(whole[1]);
    return value.replace(PLACEHOLDER, (_m, kind: string | undefined, name: string | undefined) => {
      if (!kind) return resolve.self;
      if (kind === 'IngestPipeline') return resolve.pipeline(name!);
      if (kind === 'StoredScript') return resolve.script(name!);
      const tunable = resolve.tunable(name!);
      return typeof tunable === 'string' ? tunable : JSON.stringify(tunable);
    });
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, resolve));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, resolve)]));
  }
  return value;
}

/** The entry pipeline's own held-aside message: given back, not dropped, by the dead-letter script. */
const HELD_MESSAGE = '_cc_held_message';

/**
 * The top-level scratch keys a source's pipelines write (`_name` targets of processors, and painless
 * assignments to `ctx._name` / `ctx['_name']` / `ctx.put('_name', …)`), so that a document
 * dead-lettered whole leaves without them.
 */
export function scratchKeys(pipelines: PipelineContent[], source: string): string[] {
  const keys = new Set<string>();
  for (const p of pipelines.filter((x) => x.owner === source || x.owner === SHARED)) {
    const text = JSON.stringify(p.body);
    for (const m of text.matchAll(/"(?:target_field|field)":"(_[A-Za-z0-9_]+)"/g)) keys.add(m[1]!);
    for (const m of text.matchAll(/"(?:target_field|field)":\[((?:"[^"]*",?)*)\]/g)) for (const k of m[1]!.matchAll(/"(_[A-Za-z0-9_]+)"/g)) keys.add(k[1]!);
    for (const m of text.matchAll(/ctx\.(_[A-Za-z0-9_]+)\s*=[^=]/g)) keys.add(m[1]!);
    for (const m of text.matchAll(/ctx\[\\?'(_[A-Za-z0-9_]+)\\?'\]\s*=[^=]/g)) keys.add(m[1]!);
    for (const m of text.matchAll(/ctx\.put\(\\?'(_[A-Za-z0-9_]+)/g)) keys.add(m[1]!);
  }
  keys.delete(HELD_MESSAGE);
  return [...keys].sort();
}

/**
 * What every source's entry pipeline gets from the renderer rather than from its content, so no
 * source can forget it: event.ingested first, ECS version, dataset and an event-time check last,
 * and an `on_failure` that routes the document, whole, to the dead-letter stream.
 */
export function wrapEntryPipeline(
  source: string,
  body: Record<string, unknown>,
  self: string,
  deadletterScript: string,
  ecsVersion: string,
  /** null: no call of its own (Fleet calls `<type>-<dataset>@custom` itself, with ignore_missing_pipeline). */
  customPipeline: string | null = customPipelineId(source),
  /** Top-level scratch keys the dead-letter script removes from a document kept whole (scratchKeys). */
  scratch: string[] = [],
): Record<string, unknown> {
  const processors = body.processors as unknown[];
  return {
    ...body,
    processors: [
      { set: { tag: 'ingested', field: 'event.ingested', value: '{{{_ingest.timestamp}}}' } },
      ...processors,
      ...(customPipeline === null ? [] : [{ pipeline: { tag: 'custom', name: customPipeline } }]),
      { set: { tag: 'ecs_version', field: 'ecs.version', value: ecsVersion } },
      { set: { tag: 'dataset', field: 'event.dataset', value: `${PRODUCT}.${source}` } },
      {
        fail: {
          tag: 'event_time',
          if: "ctx['@timestamp'] == null",
          message: 'no event time: the source did not give a usable timestamp (a masked or missing time is never replaced by a made-up one)',
        },
      },
    ],
    on_failure: [
      { set: { field: '_deadletter_time', value: '{{{_ingest.timestamp}}}' } },
      { set: { field: 'error.message', value: '{{{_ingest.on_failure_message}}}' } },
      { set: { field: 'error.type', value: '{{{_ingest.on_failure_processor_type}}}' } },
      { script: { id: deadletterScript, params: { pipeline: self, source, ...(scratch.length ? { scratch } : {}) } } },
    ],
  };
}

/** Renders every pipeline with installed names and `_meta`; fails on any reference that does not resolve. */
export function renderPipelines(pipelines: PipelineContent[], scripts: string[], ctx: RenderContext): RenderedPipeline[] {
  const known = new Set(pipelines.map((p) => `${p.owner}/${p.name}`));
  return pipelines.map((p) => {
    const resolve: Resolver = {
      self: pipelineId(p.owner, p.name, ctx.version),
      pipeline(name) {
        if (known.has(`${p.owner}/${name}`)) return pipelineId(p.owner, name, ctx.version);
        if (known.has(`${SHARED}/${name}`)) return pipelineId(SHARED, name, ctx.version);
        throw new ContentError(p.file, `{{ IngestPipeline "${name}" }} names no pipeline of ${p.owner} or ${SHARED}`);
      },
      ...scriptAndTunableResolver(p.file, scripts, ctx.tunables, (name) => scriptId(name, ctx.version)),
    };
    if (p.owner !== SHARED && p.name === 'default' && 'on_failure' in p.body) {
      throw new ContentError(p.file, 'an entry pipeline has no on_failure of its own: the renderer adds the dead-letter routing');
    }
    let body = renderValue(p.body, resolve) as Record<string, unknown>;
    if (p.owner !== SHARED && p.name === 'default') {
      body = wrapEntryPipeline(p.owner, body, resolve.self, resolve.script('deadletter'), ctx.ecsVersion, customPipelineId(p.owner, ctx.customPrefix), scratchKeys(pipelines, p.owner));
    }
    if (ctx.flavor === 'elasticsearch') body = translateForElasticsearch(body);
    return { id: resolve.self, owner: p.owner, name: p.name, body: stampPipeline(body, managedMeta(body, ctx.packageVersion), ctx.flavor) };
  });
}
