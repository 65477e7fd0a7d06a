import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-info';

/**
 * Validation of a built Fleet package with Elastic's package-spec validator, the library behind
 * `elastic-package lint`. elastic-package itself cannot be installed here, so
 * scripts/ensure-package-spec.cjs builds tools/package-spec-check (a thin Go CLI around that
 * library) into the cryptochannel home once; this module runs it. See docs/engines.md,
 * "Validating the Fleet package".
 */

export const ENSURE_SCRIPT = 'scripts/ensure-package-spec.cjs';

const TOOL_GO_MOD = path.join(PACKAGE_ROOT, 'tools', 'package-spec-check', 'go.mod');

/** The package-spec version the checker is built with: go.mod is the one place that holds it. */
export function packageSpecVersion(goMod: string = readGoMod()): string {
  const match = /^\s*(?:require\s+)?github\.com\/elastic\/package-spec\/v3\s+(v\S+)/m.exec(goMod);
  if (!match?.[1]) throw new Error(`${TOOL_GO_MOD} does not require github.com/elastic/package-spec/v3`);
  return match[1];
}

function readGoMod(): string {
  try {
    return readFileSync(TOOL_GO_MOD, 'utf8');
  } catch (err) {
    // tools/ is not part of the published npm package: the checker is a development tool.
    throw new Error(`cannot read ${TOOL_GO_MOD} (${(err as Error).message}); the package-spec checker needs a source checkout`);
  }
}

/** Where the ensure script puts the checker: `<home>/tools/package-spec-check-<spec version>`. */
export function packageSpecBinary(home: string): string {
  return path.join(home, 'tools', `package-spec-check-${packageSpecVersion()}`);
}

export interface SpecCheckResult {
  ok: boolean;
  /** One validation error per entry, as Elastic's validator words it (often with a code like `(SVR00002)`). */
  errors: string[];
}

/**
 * Validates a package directory or a `.zip` (one top-level folder) with the checker at `binary`.
 * Resolves `{ok: false}` with the validator's errors when the package is invalid; rejects when the
 * checker is missing or could not run (usage error, crash), since then nothing was validated.
 */
export async function checkPackage(pathToDirOrZip: string, binary: string): Promise<SpecCheckResult> {
  if (!existsSync(binary)) {
    throw new Error(`the package-spec checker ${binary} is missing: build it with \`node ${ENSURE_SCRIPT}\` (npm test does so before the tests)`);
  }
  const { code, stdout, stderr } = await run(binary, [pathToDirOrZip]);
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (code === 0) return { ok: true, errors: [] };
  // 1 is "invalid, errors on stdout"; anything else (2: usage, also a Go panic) means no verdict.
  if (code === 1 && lines.length > 0) return { ok: false, errors: lines };
  throw new Error(`${binary} ${pathToDirOrZip} failed (exit ${code}): ${(stderr.trim() || stdout.trim()) || 'no output'}`);
}

function run(command: string, args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      // A non-zero exit is an answer; failing to start the binary (EACCES, a deleted file) is not.
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number') return resolve({ code, stdout, stderr });
      if (err.killed || (err as { signal?: unknown }).signal) return resolve({ code: `signal ${String((err as { signal?: unknown }).signal)}`, stdout, stderr });
      reject(new Error(`cannot run the package-spec checker ${command}: ${err.message}; rebuild it with \`node ${ENSURE_SCRIPT}\``));
    });
  });
}
