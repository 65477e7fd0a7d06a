import { Command } from 'commander';
import { loadContent, loadDetectionContent } from '../../content';
import { validateContent, type ValidationReport } from '../../content/validate';
import { fleetPackageProblems } from '../../fleet/package';
import { PACKAGE_VERSION } from '../../package-info';
import { contextFor } from '../context';

type Report = ValidationReport & { checked: ValidationReport['checked'] & { fleet_package_files?: number } };

function render(r: Report): string {
  const c = r.checked;
  const head = `${c.sources} sources, ${c.pipelines} pipelines, ${c.scripts} stored scripts, ${c.fields} field definitions, ${c.golden_cases} golden cases; ${c.rules ?? 0} rules (Kibana schema, lock), ${c.ml_jobs ?? 0} ML jobs, ${c.monitors ?? 0} monitors, ${c.detectors ?? 0} detectors, ${c.saved_objects ?? 0} saved objects, ${c.exception_lists ?? 0} exception lists; the Fleet package (${c.fleet_package_files ?? 0} files)`;
  return r.ok ? `ok: ${head}` : [`${r.problems.length} problem(s) in ${head}:`, ...r.problems.map((p) => `  - ${p}`)].join('\n');
}

/**
 * The Fleet package renders from everything else, so it is checked only when the rest loaded
 * (then loading it again cannot fail; fleetPackageProblems turns the package's own problems into messages).
 */
function withFleetPackage(report: ValidationReport): Report {
  if (!report.ok) return report;
  const content = loadContent();
  const fleet = fleetPackageProblems(content, loadDetectionContent(content.roots), { packageVersion: PACKAGE_VERSION });
  return { ok: fleet.problems.length === 0, checked: { ...report.checked, fleet_package_files: fleet.files }, problems: fleet.problems };
}

export function validateCommand(): Command {
  return new Command('validate').description('offline checks of all content, the Fleet package included (no cluster needed)').action((_opts: unknown, cmd: Command) => {
    const ctx = contextFor(cmd);
    const report = withFleetPackage(validateContent());
    ctx.out.result(report, render);
    if (!report.ok) process.exitCode = 1;
  });
}
