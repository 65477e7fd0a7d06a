/**
 * The one place that prints. Results go to stdout (JSON with --json, else the command's own
 * rendering); progress, warnings and errors go to stderr so that `--json | jq` always works.
 */
import type { ProgressEvent } from '../engine/progress';

export interface Output {
  readonly json: boolean;
  result<T>(data: T, render: (data: T) => string): void;
  progress(event: ProgressEvent): void;
  warn(message: string): void;
  error(message: string, details?: string[]): void;
}

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

export function createOutput(json: boolean, streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }): Output {
  const tty = streams.stderr.isTTY === true;
  let openLine = false;
  const closeLine = () => {
    if (openLine) streams.stderr.write('\n');
    openLine = false;
  };
  return {
    json,
    result(data, render) {
      closeLine();
      streams.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${render(data)}\n`);
    },
    progress(event) {
      const line = `${event.phase}: ${event.message}${event.elapsedMs ? ` (${seconds(event.elapsedMs)})` : ''}`;
      if (tty) {
        streams.stderr.write(`\r\x1b[2K${line}`);
        openLine = true;
      } else {
        streams.stderr.write(`${line}\n`);
      }
    },
    warn(message) {
      closeLine();
      streams.stderr.write(`warning: ${message}\n`);
    },
    error(message, details = []) {
      closeLine();
      streams.stderr.write(`error: ${message}\n`);
      for (const line of details) streams.stderr.write(`  ${line}\n`);
    },
  };
}

/** A plain aligned table for human output. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cells = rows.map((row) => columns.map((c) => (row[c] === undefined ? '' : String(row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}
