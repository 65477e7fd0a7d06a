/**
 * The event.action check the ML jobs' datafeeds and the OpenSearch monitors share: the values a
 * search compares event.action with must be values a pipeline really writes, as its golden
 * outputs show; a query on an action nobody writes would never match.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultRoots, listFiles } from '../../../src/content';

/** event.action values the golden outputs of a source really contain. */
export function goldenActions(source: string, pipelines = defaultRoots().pipelines): Set<string> {
  const dir = path.join(pipelines, source, '_dev', 'test', 'pipeline');
  const actions = new Set<string>();
  for (const file of listFiles(dir, (n) => n.endsWith('-expected.json'))) {
    for (const doc of (JSON.parse(readFileSync(file, 'utf8')) as { expected: Array<{ event?: { action?: string } }> }).expected) {
      if (doc.event?.action) actions.add(doc.event.action);
    }
  }
  return actions;
}

/** Values a search body compares event.action with (term / terms). */
export function actionValues(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => actionValues(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'term' || k === 'terms') && v && typeof v === 'object' && 'event.action' in v) {
        const value = (v as Record<string, unknown>)['event.action'];
        for (const a of Array.isArray(value) ? value : [value]) out.push(String(a));
      } else actionValues(v, out);
    }
  }
  return out;
}
