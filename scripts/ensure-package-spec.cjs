#!/usr/bin/env node
// Builds tools/package-spec-check (a thin CLI around Elastic's package-spec validator, the library
// `elastic-package lint` uses) once into $CRYPTOCHANNEL_HOME/tools/package-spec-check-<spec version>,
// so that the tests can validate the Fleet package offline. elastic-package itself cannot be
// installed here (docs/engines.md, "Validating the Fleet package").
// Idempotent and quick when the binary is newer than the tool's sources: `npm test` runs it as a
// pretest step. The spec version comes from the tool's go.mod, the one place that holds it;
// src/fleet/spec-check.ts derives the same path from it.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const MIN_GO = [1, 24]; // the `go` line of tools/package-spec-check/go.mod (and of package-spec's)
const root = path.resolve(__dirname, '..');
const toolDir = path.join(root, 'tools', 'package-spec-check');
const sources = ['main.go', 'go.mod', 'go.sum'].map((f) => path.join(toolDir, f));

class Refusal extends Error {}

function specVersion() {
  const gomod = readFileSync(path.join(toolDir, 'go.mod'), 'utf8');
  const m = /^\s*(?:require\s+)?github\.com\/elastic\/package-spec\/v3\s+(v\S+)/m.exec(gomod);
  if (!m) throw new Refusal(`${path.relative(root, toolDir)}/go.mod does not require github.com/elastic/package-spec/v3`);
  return m[1];
}

/** The first `go` that answers: $GO, then PATH, then the official tarball's place (often not on PATH). */
function findGo() {
  const candidates = [process.env.GO, 'go', '/usr/local/go/bin/go'].filter(Boolean);
  for (const go of candidates) {
    try {
      const version = execFileSync(go, ['env', 'GOVERSION'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return { go, version };
    } catch {
      // not there, try the next one
    }
  }
  return undefined;
}

function fresh(binary) {
  if (!existsSync(binary)) return false;
  const built = statSync(binary).mtimeMs;
  return sources.every((s) => statSync(s).mtimeMs < built);
}

function main() {
  const version = specVersion();
  const home = process.env.CRYPTOCHANNEL_HOME || path.join(os.homedir(), '.cache', 'cryptochannel');
  const binary = path.join(home, 'tools', `package-spec-check-${version}`);
  if (fresh(binary)) {
    process.stderr.write(`ensure-package-spec: package-spec ${version} checker is up to date (${binary})\n`);
    return;
  }

  const found = findGo();
  if (!found) {
    throw new Refusal(
      'no Go toolchain found (tried $GO, `go` on PATH, /usr/local/go/bin/go). The Fleet package is validated with ' +
        `Elastic's package-spec ${version} validator, a Go library built here once: install Go ${MIN_GO.join('.')} or newer ` +
        '(https://go.dev/doc/install, or Debian/Ubuntu: apt-get install golang-go if that version is recent enough), ' +
        'or point $GO at the go binary.',
    );
  }
  const m = /^go(\d+)\.(\d+)/.exec(found.version);
  if (!m || Number(m[1]) < MIN_GO[0] || (Number(m[1]) === MIN_GO[0] && Number(m[2]) < MIN_GO[1])) {
    throw new Refusal(`${found.go} is ${found.version}; package-spec ${version} needs Go ${MIN_GO.join('.')} or newer (https://go.dev/doc/install).`);
  }

  process.stderr.write(`ensure-package-spec: building the package-spec ${version} checker with ${found.version} into ${binary}\n`);
  mkdirSync(path.dirname(binary), { recursive: true });
  // Built beside the target and renamed, so an interrupted build never leaves a binary that looks fresh.
  const partial = `${binary}.partial-${process.pid}`;
  try {
    execFileSync(found.go, ['build', '-mod=readonly', '-trimpath', '-buildvcs=false', '-o', partial, '.'], {
      cwd: toolDir,
      stdio: ['ignore', 'inherit', 'inherit'],
      // go.sum is complete, so no checksum-database lookup is needed; `local` stops an older go from
      // fetching a newer toolchain behind the user's back.
      env: { ...process.env, GOTOOLCHAIN: 'local' },
    });
    renameSync(partial, binary);
  } catch (err) {
    rmSync(partial, { force: true });
    throw new Refusal(
      `go build failed (${err.message.split('\n')[0]}). The first build downloads github.com/elastic/package-spec/v3 ` +
        `${version} and its dependencies through the Go module proxy ($GOPROXY); once built, the checker runs offline.`,
    );
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`ensure-package-spec: ${err instanceof Refusal ? '' : 'unexpected error: '}${err.message}\n`);
  process.exit(1);
}
