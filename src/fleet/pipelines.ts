/**
 * A source's ingest pipelines as a Fleet data stream carries them
 * (`data_stream/<source>/elasticsearch/ingest_pipeline/*.yml`), rendered from the same content as
 * `apply` with three differences that Fleet's installer dictates:
 * - `{{ IngestPipeline "name" }}` stays in the file: Fleet resolves it to
 *   `logs-cryptochannel.<source>-<version>-<name>`, so the shared pipelines are copied into every
 *   data stream that calls them (Fleet has no pipeline outside a data stream);
 * - Fleet installs no stored scripts, so each `{{ StoredScript }}` call becomes the script inline;
 * - Fleet appends the `@custom` pipeline calls to the default pipeline itself, so ours is left out.
 * Tunables take their defaults (the live values are the CLI's business: `tune set`).
 */
import {
  ContentError,
  EcsVersion,
  pipelineId,
  renderValue,
  scratchKeys,
  scriptAndTunableResolver,
  SHARED,
  wrapEntryPipeline,
  type Content,
  type PipelineContent,
  type Resolver,
} from '../content';
import { translateForElasticsearch } from '../content/flavor';

export interface FleetPipelineFile {
  /** File name in the data stream's `elasticsearch/ingest_pipeline/` folder; `default.yml` is the entry pipeline. */
  file: string;
  name: string;
  /** Where the content came from: the source itself, or `_shared`. */
  owner: string;
  body: Record<string, unknown>;
}

/** The placeholder text Fleet resolves at install time (elastic-package's own syntax). */
export function fleetPipelineRef(name: string): string {
  return `{{ IngestPipeline "${name}" }}`;
}

const SCRIPT_MARK = '\u0000stored-script:';

/** Replaces every `script: { id: <marked stored script> }` processor, however deep, by the script inline. */
function inlineScripts(value: unknown, sources: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => inlineScripts(v, sources));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const script = child as Record<string, unknown> | null;
    if (key === 'script' && script && typeof script === 'object' && typeof script.id === 'string' && script.id.startsWith(SCRIPT_MARK)) {
      const name = script.id.slice(SCRIPT_MARK.length);
      const { id: _id, ...rest } = script;
      out[key] = { lang: 'painless', source: sources.get(name)!, ...inlineScripts(rest, sources) as Record<string, unknown> };
    } else {
      out[key] = inlineScripts(child, sources);
    }
  }
  return out;
}

/** The pipeline names a body calls through `{{ IngestPipeline }}`. */
function calledPipelines(body: unknown): string[] {
  const text = JSON.stringify(body);
  return [...text.matchAll(/\{\{\s*IngestPipeline\s+\\"([^"\\]+)\\"\s*\}\}/g)].map((m) => m[1]!);
}

/** The pipelines of one source's data stream: its own, and the shared ones it calls (transitively). */
export function fleetPipelines(
  content: Content,
  source: string,
  packageVersion: string,
  /** Fleet is Elasticsearch's; `opensearch` serves the test that runs the package's pipelines on the test engine. */
  flavor: 'elasticsearch' | 'opensearch' = 'elasticsearch',
): FleetPipelineFile[] {
  const own = content.pipelines.filter((p) => p.owner === source);
  if (!own.some((p) => p.name === 'default')) throw new ContentError(`ingest-pipelines/${source}`, 'a source needs a default.yml entry pipeline');
  const shared = new Map(content.pipelines.filter((p) => p.owner === SHARED).map((p) => [p.name, p]));
  const scripts = new Map(content.scripts.map((s) => [s.name, s.source]));
  const scriptNames = [...scripts.keys()];
  const ownNames = new Set(own.map((p) => p.name));
  const chosen = new Map<string, PipelineContent>(own.map((p) => [p.name, p]));

  const render = (p: PipelineContent): FleetPipelineFile => {
    const self = pipelineId(source, p.name, packageVersion);
    const resolve: Resolver = {
      self,
      pipeline(name) {
        // apply resolves a shared pipeline's call to the shared one and the source's call to its own;
        // in one data stream folder the name can only be one of them.
        if (p.owner === SHARED && ownNames.has(name) && shared.has(name)) {
          throw new ContentError(p.file, `pipeline '${name}' exists in ${source} and in ${SHARED}: one data stream folder cannot hold both`);
        }
        if (ownNames.has(name) || shared.has(name)) return fleetPipelineRef(name);
        throw new ContentError(p.file, `{{ IngestPipeline "${name}" }} names no pipeline of ${source} or ${SHARED}`);
      },
      ...scriptAndTunableResolver(p.file, scriptNames, content.tunables, (name) => `${SCRIPT_MARK}${name}`),
    };
    let body = renderValue(p.body, resolve) as Record<string, unknown>;
    if (p.owner === source && p.name === 'default') body = wrapEntryPipeline(source, body, self, resolve.script('deadletter'), EcsVersion, null, scratchKeys(content.pipelines, source));
    body = inlineScripts(body, scripts) as Record<string, unknown>;
    if (flavor === 'elasticsearch') body = translateForElasticsearch(body);
    return { file: `${p.name}.yml`, name: p.name, owner: p.owner, body };
  };

  // Shared pipelines join the folder when something in it calls them, including other shared ones.
  const queue = [...own];
  while (queue.length > 0) {
    const next = queue.shift()!;
    for (const name of calledPipelines(next.body)) {
      if (!chosen.has(name) && shared.has(name)) {
        chosen.set(name, shared.get(name)!);
        queue.push(shared.get(name)!);
      }
    }
  }
  return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name)).map(render);
}
