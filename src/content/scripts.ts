import path from 'node:path';
import { readFileSync } from 'node:fs';
import { listFiles } from './files';
import { managedMeta } from './hash';
import { scriptId } from './pipelines';

export interface ScriptContent {
  name: string;
  file: string;
  source: string;
}

/** Painless stored scripts: `integration/painless/<name>.painless`, installed as `cryptochannel-<version>-<name>`. */
export function loadScripts(integrationRoot: string): ScriptContent[] {
  return listFiles(path.join(integrationRoot, 'painless'), (n) => n.endsWith('.painless')).map((file) => ({
    name: path.basename(file, '.painless'),
    file,
    source: readFileSync(file, 'utf8'),
  }));
}

export interface RenderedScript {
  id: string;
  name: string;
  body: { script: { lang: 'painless'; source: string } };
  /** Stored scripts have no `_meta`; the hash goes into the plan's bookkeeping instead. */
  meta: ReturnType<typeof managedMeta>;
}

export function renderScripts(scripts: ScriptContent[], version: string, packageVersion: string): RenderedScript[] {
  return scripts.map((s) => {
    const body = { script: { lang: 'painless' as const, source: s.source } };
    return { id: scriptId(s.name, version), name: s.name, body, meta: managedMeta(body, packageVersion) };
  });
}
