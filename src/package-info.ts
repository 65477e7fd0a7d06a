import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The package root: one level above this file both in src/ (ts-jest) and dist/. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..');

export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
