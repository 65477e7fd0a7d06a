/**
 * The detection side of the content, loaded together: Kibana rules and their lock, ML jobs,
 * OpenSearch monitors and detectors, Kibana saved objects and exception-list definitions. The
 * offline checks of `cryptochannel validate` run over it.
 */
import { loadExceptionListDefs, renderExceptionLists, type ExceptionListDef } from './exception-lists';
import type { OwnerFields } from './fields';
import type { ContentRoots } from './files';
import { buildSavedObjects, checkSavedObjects, dataViewFieldResolver, loadRunsFields, loadSavedObjects, type SavedObjectContent } from './kibana-assets';
import { formatRuleSchemaProblems, ruleSchemaValidator } from './kibana-rule-schema';
import { checkMlJob, loadMlJobs, renderMlJob, type MlJobContent } from './ml-jobs';
import { checkDetector, checkMonitor, loadOpenSearchContent, loadOpenSearchSchemas, renderDetector, renderMonitor, type OpenSearchContent } from './opensearch-content';
import { lockProblems, readLock, type RuleLock } from './rule-lock';
import { loadRules, renderRule, type RuleContent } from './rules';
import type { Tunables } from './tunables';

export interface DetectionContent {
  rules: RuleContent[];
  lock: RuleLock;
  mlJobs: MlJobContent[];
  openSearch: OpenSearchContent;
  savedObjects: SavedObjectContent[];
  exceptionLists: ExceptionListDef[];
}

export function loadDetectionContent(roots: ContentRoots): DetectionContent {
  return {
    rules: loadRules(roots.detectionRules),
    lock: readLock(roots.detectionRules),
    mlJobs: loadMlJobs(roots.detectionRules),
    openSearch: loadOpenSearchContent(roots.detectionRules),
    savedObjects: loadSavedObjects(roots.kibanaAssets),
    exceptionLists: loadExceptionListDefs(roots.kibanaAssets),
  };
}

/** Placeholder list ids for rendering offline: Kibana assigns the real ones when a list is created. */
export function offlineListIds(defs: ExceptionListDef[]): Record<string, string> {
  return Object.fromEntries(defs.map((d, i) => [d.list_id, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`]));
}

export interface DetectionChecks {
  counts: { rules: number; ml_jobs: number; monitors: number; detectors: number; saved_objects: number; exception_lists: number };
  problems: string[];
}

/**
 * Everything that can be known without a cluster: the lock is in sync, every rule renders and
 * passes Kibana's published schema, every ML job, monitor and detector names mapped fields of the
 * right type and passes its API schema, every saved object's references and fields resolve.
 */
export function checkDetectionContent(roots: ContentRoots, detection: DetectionContent, fields: OwnerFields[], tunables: Tunables): DetectionChecks {
  const problems: string[] = [];
  const at = (file: string, list: string[]) => list.map((p) => `${file}: ${p}`);
  problems.push(...lockProblems(detection.rules, detection.lock));
  if (problems.length === 0) {
    const validator = ruleSchemaValidator();
    const ids = offlineListIds(detection.exceptionLists);
    for (const rule of detection.rules) {
      try {
        const payload = renderRule(rule, { lock: detection.lock, exceptionListIds: ids, packageVersion: 'validate', tunables });
        const schema = validator.validate(payload);
        if (schema.length) problems.push(`${rule.file}: Kibana's rule schema: ${formatRuleSchemaProblems(schema)}`);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  for (const job of detection.mlJobs) {
    problems.push(...at(job.file, checkMlJob(job, fields)));
    renderMlJob(job, 'validate');
  }
  const schemas = loadOpenSearchSchemas(roots.detectionRules);
  for (const monitor of detection.openSearch.monitors) {
    problems.push(...at(monitor.file, checkMonitor(monitor, fields)));
    problems.push(...at(monitor.file, schemas.validateMonitor(renderMonitor(monitor, { packageVersion: 'validate', tunables: { ...tunables } }).body)));
  }
  for (const detector of detection.openSearch.detectors) {
    problems.push(...at(detector.file, checkDetector(detector, fields)));
    problems.push(...at(detector.file, schemas.validateDetector(renderDetector(detector, { packageVersion: 'validate', tunables: { ...tunables } }).body)));
  }
  const built = buildSavedObjects(detection.savedObjects, 'validate');
  problems.push(...checkSavedObjects(built.objects, dataViewFieldResolver(fields, loadRunsFields(roots.kibanaAssets))));
  renderExceptionLists(detection.exceptionLists, tunables, { packageVersion: 'validate' });
  return {
    counts: {
      rules: detection.rules.length,
      ml_jobs: detection.mlJobs.length,
      monitors: detection.openSearch.monitors.length,
      detectors: detection.openSearch.detectors.length,
      saved_objects: built.objects.length,
      exception_lists: detection.exceptionLists.length,
    },
    problems,
  };
}
