import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { ensureInstalled } from '../../apply/deploy';
import { connect, connectionWarnings, normaliseConnection } from '../../cluster';
import { loadContent, SOURCES, validateNamespace, dataStreamName } from '../../content';
import { detectFileFormat, FORMATS, readRecords, type InputFormat } from '../../ingest/readers';
import { sendRecords, type IngestCounts, type Rejection } from '../../ingest/send';
import { PACKAGE_VERSION } from '../../package-info';
import { contextFor } from '../context';
import { UsageError } from '../errors';
import { table } from '../output';

interface FileReport extends IngestCounts {
  file: string;
  format: string;
}

interface IngestReport extends IngestCounts {
  source: string;
  data_stream: string;
  deadletter_stream: string;
  files: FileReport[];
  rejections: Rejection[];
  assets: { created: number; updated: number; unchanged: number; skipped: string[] };
}

function render(r: IngestReport): string {
  const lines = [
    table(r.files.map((f) => ({ ...f })), ['file', 'format', 'read', 'indexed', 'deadlettered', 'rejected']),
    '',
    `${r.read} read, ${r.indexed} indexed into ${r.data_stream}, ${r.deadlettered} dead-lettered into ${r.deadletter_stream}, ${r.rejected} rejected`,
  ];
  for (const x of r.rejections) lines.push(`  rejected: ${x.file}:${x.position}: ${x.reason}`);
  return lines.join('\n');
}

export function ingestCommand(): Command {
  return new Command('ingest')
    .description('send raw events of one source through its pipeline into its data stream; prints counts')
    .argument('<files...>', "input files ('-' for standard input)")
    .addOption(new Option('--source <source>', 'which source the files come from').choices([...SOURCES]).makeOptionMandatory())
    .option('--namespace <ns>', 'data stream namespace', 'default')
    .addOption(new Option('--format <format>', 'input format').choices([...FORMATS]).default('auto'))
    .action(async (files: string[], opts: { source: string; namespace: string; format: InputFormat }, cmd: Command) => {
      const ctx = contextFor(cmd);
      const problem = validateNamespace(opts.namespace);
      if (problem) throw new UsageError(`--namespace ${opts.namespace}: ${problem}`);
      for (const file of files) {
        if (file === '-') continue;
        // design.md: an input that cannot be read is a failure (exit 1), not a usage error.
        await access(file, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
          throw new Error(`cannot read ${file}: ${err.code ?? err.message}`);
        });
      }
      const options = ctx.connection();
      for (const warning of connectionWarnings(normaliseConnection(options))) ctx.out.warn(warning);
      const client = await connect(options);
      try {
        const installed = await ensureInstalled({ client, content: loadContent(), packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
        const assets = installed.results;
        const report: IngestReport = {
          source: opts.source,
          data_stream: dataStreamName(opts.source, opts.namespace),
          deadletter_stream: dataStreamName('deadletter', opts.namespace),
          read: 0,
          indexed: 0,
          deadlettered: 0,
          rejected: 0,
          files: [],
          rejections: [],
          assets: {
            created: assets.filter((a) => a.status === 'done' && a.action === 'create').length,
            updated: assets.filter((a) => a.status === 'done' && a.action !== 'create').length,
            unchanged: assets.filter((a) => a.status === 'unchanged').length,
            skipped: assets.filter((a) => a.status === 'skipped').map((a) => `${a.name}: ${a.reason}`),
          },
        };
        const started = Date.now();
        let lastReport = 0;
        for (const file of files) {
          const stdin = file === '-';
          const format = opts.format !== 'auto' ? opts.format : stdin ? 'lines' : await detectFileFormat(file);
          const input = stdin ? process.stdin : createReadStream(file, { encoding: 'utf8' });
          const counts: FileReport = { file, format, read: 0, indexed: 0, deadlettered: 0, rejected: 0 };
          await sendRecords(client, readRecords(input, format), {
            source: opts.source,
            namespace: opts.namespace,
            file,
            onBatch: (c) => {
              if (Date.now() - lastReport < 2000) return;
              lastReport = Date.now();
              const rate = Math.round((report.read + c.read) / ((Date.now() - started) / 1000));
              ctx.out.progress({ phase: 'ingest', message: `${file}: ${c.read} read, ${c.indexed} indexed, ${c.deadlettered} dead-lettered, ${c.rejected} rejected (${rate}/s)`, elapsedMs: Date.now() - started });
            },
          }, counts, report.rejections);
          report.files.push(counts);
          for (const key of ['read', 'indexed', 'deadlettered', 'rejected'] as const) report[key] += counts[key];
        }
        await client.request({ method: 'POST', path: `/${report.data_stream},${report.deadletter_stream}/_refresh`, query: { ignore_unavailable: true, allow_no_indices: true }, idempotent: true });
        ctx.out.result(report, render);
        if (report.rejected > 0) process.exitCode = 1;
      } finally {
        await client.close();
      }
    });
}
