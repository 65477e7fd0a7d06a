/**
 * Offline checks of all content, no cluster needed: everything loads and renders for both engines,
 * every placeholder resolves, tunables match their schema, field definitions are valid, and every
 * golden test input has its expected output.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { ContentError, defaultRoots, listFiles, type ContentRoots } from './files';
import { loadLifecycle } from './lifecycle';
import { loadContent, renderIngest } from './index';
import { renderAlertsTemplates, renderDeadletterTemplate, renderSourceTemplates } from './templates';
import { SOURCES } from './sources';
import { checkDetectionContent, loadDetectionContent, type DetectionChecks } from './detection-content';

export interface ValidationReport {
  ok: boolean;
  checked: { pipelines: number; scripts: number; sources: number; fields: number; golden_cases: number } & Partial<DetectionChecks['counts']>;
  problems: string[];
}

export function validateContent(roots: ContentRoots = defaultRoots()): ValidationReport {
  const problems: string[] = [];
  const checked: ValidationReport['checked'] = { pipelines: 0, scripts: 0, sources: 0, fields: 0, golden_cases: 0 };
  try {
    const content = loadContent(roots);
    checked.pipelines = content.pipelines.length;
    checked.scripts = content.scripts.length;
    checked.fields = content.fields.reduce((n, f) => n + f.ecs.length + f.custom.length, 0);
    const sources = SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s && p.name === 'default'));
    checked.sources = sources.length;
    for (const flavor of ['elasticsearch', 'opensearch'] as const) {
      renderIngest(content, 'validate', 'validate', flavor);
      const ctx = { version: 'validate', packageVersion: 'validate', flavor };
      renderDeadletterTemplate(ctx);
      renderAlertsTemplates(content.fields, ctx);
      for (const s of sources) renderSourceTemplates(s, content.fields, ctx);
      loadLifecycle(roots.integration, flavor);
    }
    for (const owner of content.pipelines.map((p) => p.owner)) {
      if (owner !== '_shared' && !content.pipelines.some((p) => p.owner === owner && p.name === 'default')) problems.push(`ingest-pipelines/${owner}: no default.yml entry pipeline`);
    }
    for (const source of sources) {
      const dir = path.join(roots.pipelines, source, '_dev', 'test', 'pipeline');
      const inputs = listFiles(dir, (n) => n.startsWith('test-') && (n.endsWith('.log') || n.endsWith('.json')) && !n.endsWith('-expected.json'));
      checked.golden_cases += inputs.length;
      if (inputs.length === 0) problems.push(`${source}: no golden test case in ${path.relative(path.dirname(roots.pipelines), dir)}`);
      for (const input of inputs) if (!existsSync(`${input}-expected.json`)) problems.push(`${path.relative(path.dirname(roots.pipelines), input)}: no -expected.json (run cryptochannel test pipelines --generate and review it)`);
    }
    const detection = checkDetectionContent(roots, loadDetectionContent(roots), content.fields, content.tunables);
    Object.assign(checked, detection.counts);
    problems.push(...detection.problems);
  } catch (err) {
    if (err instanceof ContentError) problems.push(err.message);
    else throw err;
  }
  return { ok: problems.length === 0, checked, problems };
}
