/**
 * Golden pipeline test cases, the elastic-package way, under
 * ingest-pipelines/<source>/_dev/test/pipeline/:
 *   test-<name>.log             raw input, one event per line, sent as {"message": line}
 *   test-<name>.json            {"events": [ ... ]}: documents as an agent ships them
 *   test-<name>.<ext>-expected.json   {"expected": [ ... ]}: the pipeline's output, one per event
 *   test-common-config.yml      dynamic_fields: {field: regex} whose values change per run
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ContentError, listFiles, readYaml } from '../content/files';

export interface PipelineCase {
  source: string;
  name: string;
  file: string;
  expectedFile: string;
  docs: Array<Record<string, unknown>>;
}

export interface CaseConfig {
  dynamicFields: Record<string, RegExp>;
}

export function caseDir(pipelinesRoot: string, source: string): string {
  return path.join(pipelinesRoot, source, '_dev', 'test', 'pipeline');
}

export function readCaseInput(file: string): Array<Record<string, unknown>> {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ContentError(file, `not valid JSON: ${(err as Error).message}`);
    }
    const events = (parsed as { events?: unknown }).events;
    if (!Array.isArray(events)) throw new ContentError(file, 'expected {"events": [...]}');
    return events as Array<Record<string, unknown>>;
  }
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.length > 0)
    .map((message) => ({ message }));
}

export function loadCases(pipelinesRoot: string, source: string): PipelineCase[] {
  const dir = caseDir(pipelinesRoot, source);
  return listFiles(dir, (n) => n.startsWith('test-') && !n.endsWith('-expected.json') && !n.endsWith('.yml') && (n.endsWith('.log') || n.endsWith('.json'))).map((file) => ({
    source,
    name: path.basename(file),
    file,
    expectedFile: `${file}-expected.json`,
    docs: readCaseInput(file),
  }));
}

export function loadCaseConfig(pipelinesRoot: string, source: string): CaseConfig {
  const file = path.join(caseDir(pipelinesRoot, source), 'test-common-config.yml');
  const raw = existsSync(file) ? (readYaml<{ dynamic_fields?: Record<string, string> }>(file) ?? {}) : {};
  const dynamicFields: Record<string, RegExp> = { 'event.ingested': /^\d{4}-\d\d-\d\dT/ };
  for (const [field, pattern] of Object.entries(raw.dynamic_fields ?? {})) dynamicFields[field] = new RegExp(pattern);
  return { dynamicFields };
}

export function readExpected(file: string): Array<Record<string, unknown>> | undefined {
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { expected: Array<Record<string, unknown>> }).expected;
}
