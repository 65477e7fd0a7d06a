import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PACKAGE_ROOT } from '../package-info';

export class ContentError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${path.relative(PACKAGE_ROOT, file) || file}: ${message}`);
    this.name = 'ContentError';
  }
}

export interface ContentRoots {
  integration: string;
  pipelines: string;
  /** detection-rules/: rules/, ml-jobs/, opensearch/, version.lock.json */
  detectionRules: string;
  /** kibana-assets/: data views, dashboards, saved searches, exception lists */
  kibanaAssets: string;
}

export function defaultRoots(root = PACKAGE_ROOT): ContentRoots {
  return {
    integration: path.join(root, 'integration'),
    pipelines: path.join(root, 'ingest-pipelines'),
    detectionRules: path.join(root, 'detection-rules'),
    kibanaAssets: path.join(root, 'kibana-assets'),
  };
}

export function readYaml<T = unknown>(file: string): T {
  try {
    return parseYaml(readFileSync(file, 'utf8'), { uniqueKeys: true }) as T;
  } catch (err) {
    throw new ContentError(file, `not valid YAML: ${(err as Error).message}`);
  }
}

export function listFiles(dir: string, filter: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => filter(name) && statSync(path.join(dir, name)).isFile())
    .sort()
    .map((name) => path.join(dir, name));
}

export function listDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .sort();
}
