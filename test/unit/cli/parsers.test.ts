import { InvalidArgumentError } from 'commander';
import { parseDuration, parseHeap, parsePort } from '../../../src/cli/parsers';
import { createOutput, table } from '../../../src/cli/output';
import { Writable } from 'node:stream';

describe('option parsers', () => {
  it('parse ports, durations and heap sizes, and refuse the rest', () => {
    expect(parsePort('9200')).toBe(9200);
    for (const bad of ['0', '65536', '92.5', 'x']) expect(() => parsePort(bad)).toThrow(InvalidArgumentError);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(() => parseDuration('soon')).toThrow(InvalidArgumentError);
    expect(parseHeap('1G')).toBe('1g');
    expect(() => parseHeap('1 gig')).toThrow(InvalidArgumentError);
  });
});

function sink(): Writable & { text: string; isTTY?: boolean } {
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      stream.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

describe('output', () => {
  it('keeps stdout pure JSON with --json while progress and warnings go to stderr', () => {
    const stdout = sink();
    const stderr = sink();
    const out = createOutput(true, { stdout, stderr });
    out.progress({ phase: 'start', message: 'starting', elapsedMs: 1200 });
    out.warn('careful');
    out.result({ a: 1 }, () => 'human');
    expect(JSON.parse(stdout.text)).toEqual({ a: 1 });
    expect(stderr.text).toBe('start: starting (1.2s)\nwarning: careful\n');
  });

  it('renders tables with aligned columns', () => {
    expect(table([{ a: 'x', b: 1 }, { a: 'long', b: undefined }], ['a', 'b'])).toBe('A     B\nx     1\nlong');
  });
});
