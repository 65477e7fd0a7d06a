/**
 * `npx cryptochannel …` runs the built bin through the shell, not through `node`, so the file
 * itself must be executable and start with a node shebang. tsc writes new files without the
 * execute bit; a fresh clone once failed CI with "cryptochannel: Permission denied".
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { PACKAGE_VERSION } from '../../src/package-info';
import { CLI } from './support/cli';

describe('the built cryptochannel bin', () => {
  it('is executable and runs without naming node', () => {
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const run = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(PACKAGE_VERSION);
  });
});
