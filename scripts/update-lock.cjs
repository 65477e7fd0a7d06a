#!/usr/bin/env node
// Rewrites detection-rules/version.lock.json from the rule content: unchanged rules keep their
// version, changed ones are bumped, new ones start at 1. Runs on the built code in dist/
// (`npm run lock:update` builds first), so it hashes exactly as the deployer does.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
let rules;
let lock;
try {
  rules = require(path.join(root, 'dist', 'content', 'rules.js'));
  lock = require(path.join(root, 'dist', 'content', 'rule-lock.js'));
} catch (err) {
  process.stderr.write(`update-lock: cannot load dist/ (${err.message}); run npm run build first, or use npm run lock:update\n`);
  process.exit(1);
}

const detectionRules = path.join(root, 'detection-rules');
const file = path.join(detectionRules, lock.LOCK_FILE);
try {
  const content = rules.loadRules(detectionRules);
  const previous = lock.readLock(detectionRules);
  const next = lock.computeLock(content, previous);
  const text = lock.serializeLock(next);
  let before = '';
  try {
    before = readFileSync(file, 'utf8');
  } catch {
    // first run: no lock yet
  }
  if (before === text) {
    process.stdout.write(`${path.relative(root, file)} is up to date (${content.length} rules)\n`);
  } else {
    writeFileSync(file, text);
    for (const [id, entry] of Object.entries(next)) {
      const old = previous[id];
      if (!old) process.stdout.write(`  new      v${entry.version}  ${entry.rule_name}\n`);
      else if (old.version !== entry.version) process.stdout.write(`  bumped   v${old.version} -> v${entry.version}  ${entry.rule_name}\n`);
      else if (old.rule_name !== entry.rule_name) process.stdout.write(`  renamed  v${entry.version}  ${entry.rule_name}\n`);
    }
    for (const [id, entry] of Object.entries(previous)) if (!next[id]) process.stdout.write(`  removed  ${entry.rule_name}\n`);
    process.stdout.write(`wrote ${path.relative(root, file)} (${content.length} rules)\n`);
  }
} catch (err) {
  process.stderr.write(`update-lock: ${err.message}\n`);
  process.exit(1);
}
