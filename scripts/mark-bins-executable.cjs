#!/usr/bin/env node
// tsc writes new files 0644. `npx cryptochannel` runs the bin through the shell, and npx only
// chmods it when it first links this project into its cache, so a rebuilt clone at a path npx
// has seen before would get "Permission denied". The build therefore sets the mode itself.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
for (const bin of bins) {
  const file = path.join(root, bin);
  if (!fs.existsSync(file)) {
    process.stderr.write(`mark-bins-executable: ${bin} was not built\n`);
    process.exit(1);
  }
  fs.chmodSync(file, 0o755);
}
