/**
 * The Fleet package checker (tools/package-spec-check, Elastic's package-spec validator, built by
 * scripts/ensure-package-spec.cjs) works and can fail: a minimal valid integration package written
 * here passes, as a directory and as a zip, and each broken variant fails with an error naming its
 * problem. Without the built checker these tests fail; they never skip.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { checkPackage, packageSpecBinary, packageSpecVersion } from '../../src/fleet/spec-check';

// As test/integration/global-setup.ts finds it, and as the ensure script builds into it.
const home = process.env.CRYPTOCHANNEL_HOME ?? path.join(os.homedir(), '.cache', 'cryptochannel');
const binary = packageSpecBinary(home);

type Files = Record<string, string>;

/** A minimal integration package that package-spec accepts: manifest, changelog, README, one data stream. */
function validPackage(): Files {
  return {
    'manifest.yml': `format_version: 3.3.0
name: cryptochannel
title: Cryptochannel
description: Minimal package written by test/content/package-spec-check.test.ts.
version: 0.1.0
type: integration
categories:
  - security
conditions:
  kibana:
    version: "^8.15.0"
  elastic:
    subscription: basic
source:
  license: Apache-2.0
owner:
  github: example/cryptochannel
  type: community
`,
    'changelog.yml': `- version: 0.1.0
  changes:
    - description: First version.
      type: enhancement
      link: https://github.com/example/cryptochannel/pull/1
`,
    'docs/README.md': '# Cryptochannel\n\nA test package.\n',
    'LICENSE.txt': 'Apache License, Version 2.0\n',
    'data_stream/alerts/manifest.yml': 'title: Cryptochannel alerts\ntype: logs\n',
    'data_stream/alerts/fields/base-fields.yml': `- name: data_stream.type
  type: constant_keyword
  description: Data stream type.
- name: data_stream.dataset
  type: constant_keyword
  description: Data stream dataset.
- name: data_stream.namespace
  type: constant_keyword
  description: Data stream namespace.
- name: '@timestamp'
  type: date
  description: Event timestamp.
`,
  };
}

/** A dashboard the validator accepts when its file is named `<package>-*.json` (id = file name). */
function dashboard(id: string): string {
  return JSON.stringify({
    id,
    type: 'dashboard',
    attributes: {
      title: 'Overview',
      description: '',
      panelsJSON: '[]',
      kibanaSavedObjectMeta: {
        searchSourceJSON: {
          filter: [
            {
              meta: { key: 'data_stream.dataset', negate: false, params: { query: 'cryptochannel.alerts' }, type: 'phrase' },
              query: { match_phrase: { 'data_stream.dataset': 'cryptochannel.alerts' } },
            },
          ],
          query: { language: 'kuery', query: '' },
        },
      },
    },
    references: [],
  });
}

let tmp: string;
let cases = 0;

/** Writes the files as `<tmp>/<n>/cryptochannel/…` and returns the package directory. */
function writePackage(files: Files): string {
  const dir = path.join(tmp, String(++cases), 'cryptochannel');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cryptochannel-spec-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test('the checker is built for the spec version tools/package-spec-check/go.mod pins', () => {
  expect(packageSpecVersion()).toMatch(/^v3\.\d+\.\d+$/);
  expect(path.basename(binary)).toBe(`package-spec-check-${packageSpecVersion()}`);
  // Fails (does not skip) on a machine where the ensure script has not run.
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`node scripts/ensure-package-spec.cjs\` (npm test's pretest does)`);
});

test('a minimal valid integration package passes', async () => {
  await expect(checkPackage(writePackage(validPackage()), binary)).resolves.toEqual({ ok: true, errors: [] });
});

test('a manifest without `version` fails, naming the version', async () => {
  const files = validPackage();
  files['manifest.yml'] = files['manifest.yml']!.replace(/^version: .*\n/m, '');
  const result = await checkPackage(writePackage(files), binary);
  expect(result.ok).toBe(false);
  expect(result.errors).toEqual([expect.stringMatching(/package version undefined in the package manifest/)]);
});

test('a dashboard file not named `<package>-*.json` fails; the same dashboard named so passes', async () => {
  const bad = validPackage();
  bad['kibana/dashboard/overview.json'] = dashboard('overview');
  const result = await checkPackage(writePackage(bad), binary);
  expect(result.ok).toBe(false);
  expect(result.errors).toEqual([expect.stringMatching(/item \[overview\.json\] is not allowed in folder \[.*kibana\/dashboard\]/)]);

  const good = validPackage();
  good['kibana/dashboard/cryptochannel-overview.json'] = dashboard('cryptochannel-overview');
  await expect(checkPackage(writePackage(good), binary)).resolves.toEqual({ ok: true, errors: [] });
});

test('a field with an unknown type fails, naming the file and the allowed types', async () => {
  const files = validPackage();
  files['data_stream/alerts/fields/base-fields.yml'] += '- name: cryptochannel.score\n  type: score_type\n  description: Score.\n';
  const result = await checkPackage(writePackage(files), binary);
  expect(result.ok).toBe(false);
  expect(result.errors).toEqual([expect.stringMatching(/data_stream\/alerts\/fields\/base-fields\.yml" is invalid: field 4\.type: .*must be one of the following: .*"keyword"/)]);
});

test('every error is one line of its own', async () => {
  const files = validPackage();
  files['data_stream/alerts/fields/base-fields.yml'] += '- name: cryptochannel.score\n  type: score_type\n  description: Score.\n';
  files['kibana/dashboard/overview.json'] = dashboard('overview');
  const result = await checkPackage(writePackage(files), binary);
  expect(result.ok).toBe(false);
  // The validator joins several errors into one numbered, multi-line message; the checker splits it.
  expect(result.errors).toHaveLength(2);
  for (const e of result.errors) expect(e).not.toMatch(/\n|^\s*\d+\.\s|^found \d+ validation error/);
});

describe('as a zip (one top-level folder, as Fleet installs it)', () => {
  test('the valid package passes', async () => {
    const zip = zipPackage(validPackage());
    await expect(checkPackage(zip, binary)).resolves.toEqual({ ok: true, errors: [] });
  });

  test('a broken package fails', async () => {
    const files = validPackage();
    files['data_stream/alerts/fields/base-fields.yml'] += '- name: cryptochannel.score\n  type: score_type\n  description: Score.\n';
    const zip = zipPackage(files);
    const result = await checkPackage(zip, binary);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([expect.stringMatching(/base-fields\.yml" is invalid: field 4\.type/)]);
  });
});

test('no verdict is an error, not a pass: a missing package path rejects', async () => {
  await expect(checkPackage(path.join(tmp, 'no-such-package'), binary)).rejects.toThrow(/exit 2.*no such file or directory/);
});

test('a missing checker rejects, naming the script that builds it', async () => {
  await expect(checkPackage(writePackage(validPackage()), path.join(tmp, 'package-spec-check-missing'))).rejects.toThrow(
    /package-spec-check-missing is missing: build it with `node scripts\/ensure-package-spec\.cjs`/,
  );
});

/** A zip of the package files with one top-level folder, built the way src/fleet/write.ts builds it. */
function zipPackage(files: Files, top = 'cryptochannel-0.1.0'): string {
  const tree: Zippable = {};
  for (const [rel, text] of Object.entries(files)) tree[`${top}/${rel}`] = strToU8(text);
  const zip = path.join(tmp, `${++cases}-${top}.zip`);
  writeFileSync(zip, zipSync(tree));
  return zip;
}
