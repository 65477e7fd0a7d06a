// Generates the TypeScript types of the tunables from their JSON Schema with
// json-schema-to-typescript. `npm run generate:types` writes src/content/tunables.generated.ts;
// test/content/tunables.test.ts fails when that file is stale.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { compile } = require('json-schema-to-typescript');

const ROOT = path.resolve(__dirname, '..');
const SCHEMA = path.join(ROOT, 'integration', 'tunables', 'schema.json');
const TARGET = path.join(ROOT, 'src', 'content', 'tunables.generated.ts');

async function render() {
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
  return compile(schema, 'Tunables', {
    bannerComment: '/* Generated from integration/tunables/schema.json by scripts/tunables-types.cjs (npm run generate:types). Do not edit. */',
    additionalProperties: false,
    style: { singleQuote: true, printWidth: 140 },
  });
}


if (require.main === module) {
  const check = process.argv.includes('--check');
  render().then((text) => {
    const target = path.relative(ROOT, TARGET);
    if (check) {
      const current = readFileSync(TARGET, 'utf8');
      if (current !== text) {
        process.stderr.write(`${target} is stale: run npm run generate:types\n`);
        process.exitCode = 1;
      } else process.stdout.write(`${target} is up to date\n`);
      return;
    }
    writeFileSync(TARGET, text);
    process.stdout.write(`wrote ${target}\n`);
  });
}
