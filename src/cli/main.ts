#!/usr/bin/env node
import { CommanderError } from 'commander';
import { reportError, EXIT } from './errors';
import { createOutput } from './output';
import { buildProgram } from './program';

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  process.once('SIGINT', () => {
    process.stderr.write('\ninterrupted\n');
    process.exit(EXIT.interrupted);
  });
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end through here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(err, createOutput(json));
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
