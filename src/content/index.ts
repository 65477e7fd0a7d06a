import { defaultRoots, type ContentRoots } from './files';
import { EcsVersion, loadFields, type OwnerFields } from './fields';
import { customPipelineBody, customPipelineId, loadPipelines, renderPipelines, SHARED, type PipelineContent, type RenderedPipeline } from './pipelines';
import { loadScripts, renderScripts, type RenderedScript, type ScriptContent } from './scripts';
import { loadTunableDefaults, type Tunables } from './tunables';

export * from './files';
export * from './fields';
export * from './hash';
export * from './lifecycle';
export * from './pipelines';
export * from './scripts';
export * from './sources';
export * from './templates';
export * from './threat-intel';
export * from './rules';
export * from './rule-lock';
export * from './kibana-rule-schema';
export * from './ml-jobs';
export * from './opensearch-content';
export * from './kibana-assets';
export * from './exception-lists';
export * from './detection-content';
export * from './tunables';

export interface Content {
  roots: ContentRoots;
  pipelines: PipelineContent[];
  scripts: ScriptContent[];
  fields: OwnerFields[];
  tunables: Tunables;
}

export function loadContent(roots: ContentRoots = defaultRoots()): Content {
  return {
    roots,
    pipelines: loadPipelines(roots.pipelines),
    scripts: loadScripts(roots.integration),
    fields: loadFields(roots.pipelines, roots.integration),
    tunables: loadTunableDefaults(roots.integration),
  };
}

export interface RenderedIngest {
  scripts: RenderedScript[];
  pipelines: RenderedPipeline[];
  /** The user's `@custom` pipelines: created empty when missing, never overwritten. */
  customPipelines: Array<{ id: string; source: string; body: Record<string, unknown> }>;
}

export function renderIngest(
  content: Content,
  version: string,
  packageVersion: string,
  flavor: 'elasticsearch' | 'opensearch',
  tunables: Tunables = content.tunables,
  customPrefix = '',
): RenderedIngest {
  const sources = [...new Set(content.pipelines.filter((p) => p.owner !== SHARED && p.name === 'default').map((p) => p.owner))];
  return {
    scripts: renderScripts(content.scripts, version, packageVersion),
    pipelines: renderPipelines(
      content.pipelines,
      content.scripts.map((s) => s.name),
      { version, packageVersion, ecsVersion: EcsVersion, tunables: { ...tunables }, flavor, customPrefix },
    ),
    customPipelines: sources.map((source) => ({ id: customPipelineId(source, customPrefix), source, body: customPipelineBody(source) })),
  };
}
export * from './roles';
