/**
 * Writes a rendered Fleet package as Fleet takes it: the folder `<out>/<name>-<version>/` and the zip
 * `<out>/<name>-<version>.zip` with that folder at its root (what `POST /api/fleet/epm/packages`
 * and Kibana's "upload integration" accept).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { FleetPackage } from './package';

export interface WrittenPackage {
  dir: string;
  zip: string;
  files: number;
  zipBytes: number;
}

/** A fixed time in every zip entry, so that the same content gives the same zip. */
const ZIP_TIME = new Date('2020-01-01T00:00:00Z');

export function writeFleetPackage(pkg: FleetPackage, outDir: string): WrittenPackage {
  const base = `${pkg.name}-${pkg.version}`;
  const dir = path.resolve(outDir, base);
  // A stale file from an earlier build would end up in the package: start from an empty folder.
  rmSync(dir, { recursive: true, force: true });
  const tree: Zippable = {};
  for (const file of [...pkg.files].sort((a, b) => a.path.localeCompare(b.path))) {
    const target = path.join(dir, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content);
    tree[`${base}/${file.path}`] = [strToU8(file.content), { mtime: ZIP_TIME }];
  }
  const zipped = zipSync(tree, { level: 9 });
  const zip = path.resolve(outDir, `${base}.zip`);
  writeFileSync(zip, zipped);
  return { dir, zip, files: pkg.files.length, zipBytes: zipped.byteLength };
}
