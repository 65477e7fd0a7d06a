#!/usr/bin/env node
// Makes sure the project-local virtualenv .venv/ has Elastic's EQL parser (the `eql` package from
// PyPI) at the version Elastic's own detection-rules repository validates its rules with.
// Idempotent and quick when the right version is already there: `npm test` runs it as a pretest
// step, and test/content/eql.test.ts runs it before parsing the rules' queries.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const EQL_VERSION = '0.9.19';
const root = path.resolve(__dirname, '..');
const venv = path.join(root, '.venv');
const python = process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python');

function installedVersion() {
  if (!existsSync(python)) return undefined;
  try {
    return execFileSync(python, ['-c', 'import importlib.metadata as m; print(m.version("eql"))'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

function main() {
  if (installedVersion() === EQL_VERSION) return;
  if (!existsSync(python)) {
    const system = process.env.PYTHON || 'python3';
    process.stderr.write(`ensure-eql: creating ${path.relative(root, venv)}/ with ${system}\n`);
    run(system, ['-m', 'venv', venv]);
  }
  process.stderr.write(`ensure-eql: installing eql==${EQL_VERSION} into ${path.relative(root, venv)}/\n`);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `eql==${EQL_VERSION}`]);
  const got = installedVersion();
  if (got !== EQL_VERSION) throw new Error(`eql ${EQL_VERSION} is not importable from ${python} (found ${got ?? 'none'})`);
}

try {
  main();
} catch (err) {
  process.stderr.write(
    `ensure-eql: ${err.message}\n` +
      'EQL queries are checked with Elastic\'s parser from PyPI; this needs python3 with the venv module ' +
      '(Debian/Ubuntu: apt-get install python3-venv) and access to PyPI (or a pip mirror via PIP_INDEX_URL).\n',
  );
  process.exit(1);
}
