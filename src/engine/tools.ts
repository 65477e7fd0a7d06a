import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { EngineError } from './errors';

export interface JavaTool {
  command: string;
  major: number;
  version: string;
}

const INSTALL_HINT_JAVA = 'install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME';
const INSTALL_HINT_MVN = 'install Apache Maven 3.6 or newer (Debian: apt-get install maven)';

/** `java -version` prints `openjdk version "17.0.15"` (or `"1.8.0_392"`) on stderr. */
export function parseJavaVersion(output: string): { version: string; major: number } | undefined {
  const match = /version "([^"]+)"/.exec(output);
  if (!match?.[1]) return undefined;
  const version = match[1];
  const parts = version.split(/[._-]/).map((p) => Number.parseInt(p, 10));
  const major = parts[0] === 1 ? (parts[1] ?? 0) : (parts[0] ?? 0);
  return { version, major };
}

export function findJava(javaHome: string | undefined, minMajor: number): JavaTool {
  const command = javaHome ? path.join(javaHome, 'bin', 'java') : 'java';
  const result = spawnSync(command, ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new EngineError('missing_tool', `cannot run '${command}': ${result.error.message}`, { hint: INSTALL_HINT_JAVA });
  }
  const parsed = parseJavaVersion(`${result.stderr}${result.stdout}`);
  if (!parsed) throw new EngineError('missing_tool', `'${command} -version' printed no version`, { hint: INSTALL_HINT_JAVA });
  if (parsed.major < minMajor) {
    throw new EngineError('missing_tool', `Java ${parsed.version} is too old: the engine needs Java ${minMajor} or newer`, { hint: INSTALL_HINT_JAVA });
  }
  return { command, ...parsed };
}

export function findMaven(): string {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new EngineError('missing_tool', `cannot run 'mvn': ${result.error?.message ?? result.stderr.trim()}`, { hint: INSTALL_HINT_MVN });
  }
  return 'mvn';
}
