#!/usr/bin/env node
// Makes sure Debian's Chromium is there for the HTML report's browser test (test/browser/), so that
// `npm test` on a fresh machine sets up what it needs. Installs it with apt-get when it is missing
// and this process may (root, or sudo without a password); otherwise says how, and fails.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const CHROMIUM = '/usr/bin/chromium';

function run(cmd, args) {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function main() {
  if (existsSync(CHROMIUM)) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const prefix = root ? [] : ['sudo', '-n'];
  process.stderr.write(`ensure-chromium: ${CHROMIUM} is missing; installing Debian's chromium with apt-get\n`);
  try {
    const [cmd, ...pre] = root ? ['apt-get'] : [...prefix, 'apt-get'];
    run(cmd, [...pre, 'update', '-qq']);
    run(cmd, [...pre, 'install', '-y', '-qq', 'chromium']);
  } catch (err) {
    process.stderr.write(`ensure-chromium: could not install chromium (${err.message}); install it with: sudo apt-get install -y chromium\n`);
    process.exit(1);
  }
}

main();
