import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { generateTelemetry, type GeneratedTelemetry } from '../../generator';
import { contextFor } from '../context';
import { table } from '../output';


function wholeNumber(label: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${label} is a whole number ≥ ${min}`);
    return n;
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('days is a number > 0');
  return n;
}

function render(r: GeneratedTelemetry): string {
  return [
    table(r.files.map((f) => ({ source: f.source, events: f.events, file: f.path })), ['source', 'events', 'file']),
    '',
    `${r.files.reduce((n, f) => n + f.events, 0)} events, ${r.attacks} attack scenarios, ${r.benignHosts.length} benign host names and addresses`,
    `ground truth: ${r.groundTruthPath}`,
    `ingest with: cryptochannel ingest --source <source> <file> (one run per source)`,
  ].join('\n');
}

export function generateCommand(): Command {
  return new Command('generate')
    .description('write seeded raw telemetry (one file per source, in its own raw format) with attack scenarios and a ground-truth file')
    .requiredOption('--events <n>', 'how many events to write (the attack scenarios are always all written)', wholeNumber('--events', 0))
    .requiredOption('--seed <n>', 'seed: the same seed, events, days and start give byte-identical files', wholeNumber('--seed', 0))
    .option('--days <d>', 'length of the period', positive, 1)
    .option('--start <iso>', 'start of the period (default: now minus --days)')
    .option('--out <dir>', 'output directory', 'telemetry')
    .action(async (opts: { events: number; seed: number; days: number; start?: string; out: string }, cmd: Command) => {
      const ctx = contextFor(cmd);
      const started = Date.now();
      const result = await generateTelemetry({
        events: opts.events,
        seed: opts.seed,
        days: opts.days,
        ...(opts.start ? { start: opts.start } : {}),
        outDir: path.resolve(opts.out),
        onProgress: (written) => ctx.out.progress({ phase: 'generate', message: `${written} of ${opts.events} events`, elapsedMs: Date.now() - started }),
      });
      ctx.out.result(result, render);
    });
}
