import { Command } from 'commander';
import { connect } from '../../cluster';
import { loadContent, SOURCES } from '../../content';
import { runPipelineTests, type CaseResult } from '../../testing/pipeline-tests';
import { contextFor } from '../context';
import { UsageError } from '../errors';
import { table } from '../output';

interface Summary {
  passed: number;
  failed: number;
  generated: number;
  cases: CaseResult[];
}

function render(summary: Summary): string {
  const lines = [table(summary.cases.map((c) => ({ ...c, result: c.status })), ['source', 'case', 'events', 'deadlettered', 'result'])];
  for (const c of summary.cases.filter((c) => c.status === 'fail')) {
    lines.push('', `FAIL ${c.source}/${c.case}`, ...c.problems.map((p) => `  - ${p}`));
    if (c.diff) lines.push(c.diff);
  }
  lines.push('', `${summary.passed} passed, ${summary.failed} failed${summary.generated ? `, ${summary.generated} generated` : ''}`);
  return lines.join('\n');
}

export function testCommand(): Command {
  const test = new Command('test').description('run cryptochannel\'s own content tests against a real engine');
  test
    .command('pipelines')
    .description('golden tests of the ingest pipelines through the simulate API, plus indexing through the data streams')
    .option('--source <source...>', `only these sources (${SOURCES.join(', ')})`)
    .option('--generate', 'write the -expected.json files from the actual output (review them before committing)', false)
    .action(async (opts: { source?: string[]; generate: boolean }, cmd: Command) => {
      const ctx = contextFor(cmd);
      for (const s of opts.source ?? []) if (!(SOURCES as readonly string[]).includes(s)) throw new UsageError(`unknown source '${s}' (sources: ${SOURCES.join(', ')})`);
      const client = await connect(ctx.connection());
      try {
        const cases = await runPipelineTests(client, loadContent(), {
          sources: opts.source,
          generate: opts.generate,
          onCase: (c) => ctx.out.progress({ phase: 'check', message: `${c.source}/${c.case}: ${c.status}`, elapsedMs: 0 }),
        });
        const summary: Summary = {
          passed: cases.filter((c) => c.status === 'pass').length,
          failed: cases.filter((c) => c.status === 'fail').length,
          generated: cases.filter((c) => c.status === 'generated').length,
          cases,
        };
        ctx.out.result(summary, render);
        if (summary.failed > 0 || cases.length === 0) process.exitCode = 1;
      } finally {
        await client.close();
      }
    });
  return test;
}
