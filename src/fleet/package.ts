/**
 * cryptochannel as an Elastic package for Fleet (package-spec format 3.x), rendered from the same
 * content `apply` installs. Pure: content in, a list of files out (writing them is write.ts).
 *
 * What Fleet makes of it: one data stream per source plus the dead-letter stream (index template,
 * `@package` component template from fields/, the ingest pipelines), the security rules, the ML
 * module, dashboards and data views. What it cannot install (the correlator's alerts and runs,
 * tunables, threat intel, exception lists) is `cryptochannel apply --runtime-only`.
 */
import path from 'node:path';
import { stringify } from 'yaml';
import { ContentError, listFiles, readYaml, SOURCES, type Content, type DetectionContent } from '../content';
import { deadletterFieldFiles, fieldsYaml, sourceFieldFiles, type FleetFieldFiles } from './fields';
import { mlModuleAsset, savedObjectAssets, securityRuleAssets, type FleetAsset } from './kibana';
import { fleetPipelines } from './pipelines';

export const FLEET_PACKAGE_NAME = 'cryptochannel';
/** The package-spec format the package is written in; the validator (tools/package-spec-check) knows it. */
export const FORMAT_VERSION = '3.3.0';

export interface FleetFile {
  /** Path inside the package folder (`cryptochannel-<version>/` in the zip). */
  path: string;
  content: string;
}

export interface FleetPackage {
  name: string;
  version: string;
  files: FleetFile[];
  /** What the package holds, by asset kind (for the build report and the docs). */
  counts: Record<string, number>;
}

interface PackageText {
  title: string;
  description: string;
  categories: string[];
  conditions: Record<string, unknown>;
  owner: { github: string; type: string };
  source: { license: string };
  policy_template: { name: string; title: string; description: string; input: { type: string; title: string; description: string } };
  /** package-spec check codes the package is exempt from, each with its reason. */
  validation?: { exclude_checks: Record<string, string> };
}

interface DataStreamText {
  title: string;
  paths?: string[];
}

interface ChangelogEntry {
  version: string;
  changes: Array<{ description: string; type: string; link: string }>;
}

export interface FleetBuildOptions {
  packageVersion: string;
}

const yaml = (value: unknown) => stringify(value, { lineWidth: 0 });
/** package-spec wants pipeline YAML files to open with a document marker. */
const yamlDocument = (value: unknown) => `---\n${yaml(value)}`;
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The first normalised event of the source's golden cases: the real pipeline's output, checked by `cryptochannel test pipelines`. */
export function sampleEvent(content: Content, source: string): Record<string, unknown> {
  const dir = path.join(content.roots.pipelines, source, '_dev', 'test', 'pipeline');
  for (const file of listFiles(dir, (n) => n.endsWith('-expected.json') && !n.includes('malformed'))) {
    const expected = (readYaml<{ expected?: Array<Record<string, unknown> | null> }>(file)?.expected ?? []).find(
      (e) => (e?.event as { dataset?: string } | undefined)?.dataset === `cryptochannel.${source}`,
    );
    if (expected) return expected;
  }
  throw new ContentError(dir, `no golden case of ${source} yields a normalised event to use as the package's sample_event.json`);
}

function fieldFiles(dir: string, files: FleetFieldFiles): FleetFile[] {
  return Object.entries(files)
    .filter(([, fields]) => fields.length > 0)
    .map(([name, fields]) => ({ path: `${dir}/fields/${name}`, content: fieldsYaml(fields) }));
}

const FILESTREAM_TEMPLATE = `paths:
{{#each paths}}
  - {{this}}
{{/each}}
prospector.scanner.exclude_files: ['\\.gz$']
`;

function dataStreamFiles(content: Content, source: string, text: DataStreamText, options: FleetBuildOptions, input: PackageText['policy_template']['input']): FleetFile[] {
  const dir = `data_stream/${source}`;
  const manifest: Record<string, unknown> = {
    title: text.title,
    type: 'logs',
    dataset: `cryptochannel.${source}`,
    elasticsearch: { index_template: { mappings: { dynamic: true, date_detection: false } } },
  };
  const files: FleetFile[] = [];
  if (text.paths?.length) {
    manifest.streams = [
      {
        input: input.type,
        title: text.title,
        description: `${text.title}, one event per line.`,
        template_path: 'filestream.yml.hbs',
        vars: [{ name: 'paths', type: 'text', title: 'Paths', multi: true, required: true, show_user: true, default: text.paths }],
      },
    ];
    files.push({ path: `${dir}/agent/stream/filestream.yml.hbs`, content: FILESTREAM_TEMPLATE });
  }
  files.push({ path: `${dir}/manifest.yml`, content: yaml(manifest) });
  for (const p of fleetPipelines(content, source, options.packageVersion)) {
    files.push({ path: `${dir}/elasticsearch/ingest_pipeline/${p.file}`, content: yamlDocument(p.body) });
  }
  files.push(...fieldFiles(dir, sourceFieldFiles(content.fields, source)));
  files.push({ path: `${dir}/sample_event.json`, content: json(sampleEvent(content, source)) });
  return files;
}

function deadletterFiles(text: DataStreamText): FleetFile[] {
  const dir = 'data_stream/deadletter';
  const manifest = {
    title: text.title,
    type: 'logs',
    dataset: 'cryptochannel.deadletter',
    // The failed event is kept whole in _source; only the fields below are searchable.
    elasticsearch: { index_template: { mappings: { dynamic: false } } },
  };
  return [{ path: `${dir}/manifest.yml`, content: yaml(manifest) }, ...fieldFiles(dir, deadletterFieldFiles())];
}

function readme(text: PackageText, streams: Record<string, DataStreamText>, counts: Record<string, number>, version: string): string {
  const rows = Object.entries(streams).map(([name, s]) => `| \`logs-cryptochannel.${name}-*\` | ${s.title} | ${s.paths?.length ? s.paths.map((p) => `\`${p}\``).join(', ') : 'through `cryptochannel ingest`'} |`);
  return [
    `# ${text.title} ${version}`,
    '',
    text.description,
    '',
    '## Data streams',
    '',
    '| data stream | what it holds | Elastic Agent reads |',
    '|---|---|---|',
    ...rows,
    '',
    '## What this package installs',
    '',
    ...Object.entries(counts).map(([kind, n]) => `- ${kind}: ${n}`),
    '',
    '## What it does not install',
    '',
    'The correlator (its alerts and runs streams and its state), the tunables, the threat-intel index and the',
    'Kibana exception lists: Fleet has no asset type for them. After installing this package, run',
    '`cryptochannel apply --runtime-only` against the same cluster; it recognises what Fleet installed and',
    'leaves it to Fleet. The ML jobs arrive as an ML module: create them from it in Kibana (Machine Learning,',
    'Anomaly Detection, create job, "cryptochannel").',
    '',
    'cryptochannel\'s documentation (docs/install.md in the project) compares the ways to install it.',
    '',
  ].join('\n');
}

export function buildFleetPackage(content: Content, detection: DetectionContent, options: FleetBuildOptions): FleetPackage {
  const root = path.join(content.roots.integration, 'fleet');
  const text = readYaml<PackageText>(path.join(root, 'package.yml'));
  const streams = readYaml<Record<string, DataStreamText>>(path.join(root, 'data-streams.yml'));
  const changelog = readYaml<ChangelogEntry[]>(path.join(root, 'changelog.yml'));
  if (changelog[0]?.version !== options.packageVersion) {
    throw new ContentError(path.join(root, 'changelog.yml'), `the newest entry is ${changelog[0]?.version ?? 'missing'}, the package version ${options.packageVersion}: add an entry for this version`);
  }
  const missing = [...SOURCES, 'deadletter'].filter((s) => !streams[s]);
  if (missing.length) throw new ContentError(path.join(root, 'data-streams.yml'), `no entry for ${missing.join(', ')}`);

  const sources = SOURCES.filter((s) => content.pipelines.some((p) => p.owner === s && p.name === 'default'));
  const files: FleetFile[] = [];
  for (const source of sources) files.push(...dataStreamFiles(content, source, streams[source]!, options, text.policy_template.input));
  files.push(...deadletterFiles(streams.deadletter!));

  const kibana: FleetAsset[] = [
    ...securityRuleAssets(detection, options.packageVersion, content.tunables),
    ...(detection.mlJobs.length ? [mlModuleAsset(detection, options.packageVersion)] : []),
    ...savedObjectAssets(detection, options.packageVersion),
  ];
  for (const a of kibana) files.push({ path: `kibana/${a.path}`, content: json(a.body) });

  const counts: Record<string, number> = {
    data_streams: sources.length + 1,
    ingest_pipelines: files.filter((f) => f.path.includes('/ingest_pipeline/')).length,
    security_rules: detection.rules.length,
    ml_jobs: detection.mlJobs.length,
    saved_objects: kibana.filter((a) => !a.path.startsWith('security_rule/') && !a.path.startsWith('ml_module/')).length,
  };

  const hasInputs = sources.some((s) => streams[s]!.paths?.length);
  const manifest: Record<string, unknown> = {
    format_version: FORMAT_VERSION,
    name: FLEET_PACKAGE_NAME,
    title: text.title,
    version: options.packageVersion,
    description: text.description.trim(),
    type: 'integration',
    categories: text.categories,
    conditions: text.conditions,
    ...(hasInputs
      ? {
          policy_templates: [
            {
              name: text.policy_template.name,
              title: text.policy_template.title,
              description: text.policy_template.description.trim(),
              inputs: [text.policy_template.input],
            },
          ],
        }
      : {}),
    owner: text.owner,
    source: text.source,
  };
  const excluded = Object.entries(text.validation?.exclude_checks ?? {});
  if (excluded.length) {
    const reasons = excluded.map(([code, why]) => `# ${code}: ${why.trim()}`).join('\n');
    files.unshift({ path: 'validation.yml', content: `${reasons}\n${yaml({ errors: { exclude_checks: excluded.map(([code]) => code) } })}` });
  }
  files.unshift(
    { path: 'manifest.yml', content: yaml(manifest) },
    { path: 'changelog.yml', content: yaml(changelog) },
    { path: 'docs/README.md', content: readme(text, streams, counts, options.packageVersion) },
  );
  return { name: FLEET_PACKAGE_NAME, version: options.packageVersion, files, counts };
}

/** For `validate`: whether the package renders, without writing it (content problems as messages). */
export function fleetPackageProblems(content: Content, detection: DetectionContent, options: FleetBuildOptions): { files: number; problems: string[] } {
  try {
    return { files: buildFleetPackage(content, detection, options).files.length, problems: [] };
  } catch (err) {
    if (err instanceof ContentError) return { files: 0, problems: [`Fleet package: ${err.message}`] };
    throw err;
  }
}
