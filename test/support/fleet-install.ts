/**
 * What Fleet's installer does to a data stream's pipeline files, for tests that compare or run them:
 * `{{ IngestPipeline "x" }}` becomes `logs-<dataset>-<version>-x` (Fleet's substitution allows one
 * optional space inside the braces and either quote), and the files are YAML.
 */
import { parse } from 'yaml';
import { PRODUCT } from '../../src/content';

export function fleetResolve(text: string, source: string, version: string): string {
  return text.replace(/\{\{\s?IngestPipeline\s+['"]([^'"]+)['"]\s?\}\}/g, (_m, name: string) => `logs-${PRODUCT}.${source}-${version}-${name}`);
}

/** Fleet's name for a data stream's pipeline file: the default one is the data stream's own. */
export function fleetPipelineName(source: string, version: string, name: string): string {
  return name === 'default' ? `logs-${PRODUCT}.${source}-${version}` : `logs-${PRODUCT}.${source}-${version}-${name}`;
}

export function fleetPipelineBody(text: string, source: string, version: string): Record<string, unknown> {
  return parse(fleetResolve(text, source, version)) as Record<string, unknown>;
}
