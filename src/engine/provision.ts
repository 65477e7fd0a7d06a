import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { EngineError } from './errors';
import { renderPom, type EngineDefinition } from './flavors';
import { stopwatch, type ProgressListener } from './progress';
import { findMaven } from './tools';

export interface ProvisionedEngine {
  /** Folder holding every jar of the engine's runtime classpath. */
  libDir: string;
  jarCount: number;
  /** Whether this call downloaded it (false: it was in the cache). */
  resolved: boolean;
}

export function engineCacheDir(home: string, def: EngineDefinition): string {
  return path.join(home, 'engines', `${def.flavor}-${def.artifact.version}`);
}

const COMPLETE_MARKER = '.complete';

/**
 * Resolves the engine's classpath from Maven Central into the cache, once. The jars land in a
 * temporary folder that is renamed into place only when mvn succeeded, so an interrupted download
 * never leaves a half classpath behind.
 */
export async function provisionEngine(home: string, def: EngineDefinition, progress: ProgressListener): Promise<ProvisionedEngine> {
  const dir = engineCacheDir(home, def);
  const libDir = path.join(dir, 'lib');
  if (existsSync(path.join(libDir, COMPLETE_MARKER))) {
    return { libDir, jarCount: (await readdir(libDir)).filter((f) => f.endsWith('.jar')).length, resolved: false };
  }
  const mvn = findMaven();
  await mkdir(dir, { recursive: true });
  const pomPath = path.join(dir, 'pom.xml');
  await writeFile(pomPath, renderPom(def));
  const staging = path.join(dir, 'lib.partial');
  await rm(staging, { recursive: true, force: true });
  const logPath = path.join(dir, 'mvn.log');
  const coordinates = `${def.artifact.groupId}:${def.artifact.artifactId}:${def.artifact.version}`;

  const elapsed = stopwatch();
  progress({ phase: 'resolve', message: `resolving ${coordinates} with mvn (log: ${logPath})`, elapsedMs: 0 });
  const { code, errors } = await runMaven(
    mvn,
    ['-B', '-f', pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`, '-DincludeScope=runtime'],
    logPath,
    (downloaded) => progress({ phase: 'resolve', message: `${downloaded} files downloaded`, elapsedMs: elapsed() }),
  );
  if (code !== 0) {
    throw new EngineError('resolve_failed', `mvn could not resolve ${coordinates} (exit ${code})`, {
      output: errors.length ? errors : ['(mvn printed no [ERROR] line)'],
      logPath,
      hint: 'check that Maven Central is reachable and ~/.m2/settings.xml names no unreachable mirror',
    });
  }
  await writeFile(path.join(staging, COMPLETE_MARKER), `${coordinates}\n`);
  await rm(libDir, { recursive: true, force: true });
  await rename(staging, libDir);
  const jarCount = (await readdir(libDir)).filter((f) => f.endsWith('.jar')).length;
  progress({ phase: 'resolve', message: `resolved ${jarCount} jars`, elapsedMs: elapsed() });
  return { libDir, jarCount, resolved: true };
}

function runMaven(
  mvn: string,
  args: string[],
  logPath: string,
  onDownload: (count: number) => void,
): Promise<{ code: number; errors: string[] }> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logPath);
    const child = spawn(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const errors: string[] = [];
    let downloads = 0;
    let lastReport = 0;
    const onLine = (line: string) => {
      log.write(`${line}\n`);
      if (line.includes('[ERROR]')) errors.push(line);
      if (line.startsWith('Downloaded from')) {
        downloads++;
        if (Date.now() - lastReport > 2000) {
          lastReport = Date.now();
          onDownload(downloads);
        }
      }
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.on('error', (err) => {
      log.end();
      reject(new EngineError('missing_tool', `cannot run '${mvn}': ${err.message}`));
    });
    child.on('close', (code) => {
      log.end();
      resolve({ code: code ?? 1, errors: errors.slice(0, 20) });
    });
  });
}
