import { Command } from 'commander';
import { validateContent, type ValidationReport } from '../../content/validate';
import { contextFor } from '../context';

function render(r: ValidationReport): string {
  const c = r.checked;
  const head = `${c.sources} sources, ${c.pipelines} pipelines, ${c.scripts} stored scripts, ${c.fields} field definitions, ${c.golden_cases} golden cases; ${c.rules ?? 0} rules (Kibana schema, lock), ${c.ml_jobs ?? 0} ML jobs, ${c.monitors ?? 0} monitors, ${c.detectors ?? 0} detectors, ${c.saved_objects ?? 0} saved objects, ${c.exception_lists ?? 0} exception lists`;
  return r.ok ? `ok: ${head}` : [`${r.problems.length} problem(s) in ${head}:`, ...r.problems.map((p) => `  - ${p}`)].join('\n');
}

export function validateCommand(): Command {
  return new Command('validate').description('offline checks of all content (no cluster needed)').action((_opts: unknown, cmd: Command) => {
    const ctx = contextFor(cmd);
    const report = validateContent();
    ctx.out.result(report, render);
    if (!report.ok) process.exitCode = 1;
  });
}
