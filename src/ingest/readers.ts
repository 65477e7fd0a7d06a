/**
 * Raw input → one record (the raw text of one event) at a time, streamed, so memory stays flat
 * whatever the file size. Each record is sent as {"message": text}: the source's pipeline keeps it
 * as event.original and parses it, so a record that cannot be parsed is dead-lettered whole.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parser } from 'stream-json';
import { streamArray } from 'stream-json/streamers/StreamArray';
import { streamValues } from 'stream-json/streamers/StreamValues';
import { emptyHeader, readHeaderLine, tsvRecord } from './zeek-tsv';

export const FORMATS = ['auto', 'ndjson', 'json-array', 'json-document', 'lines', 'zeek-tsv'] as const;
export type InputFormat = (typeof FORMATS)[number];

export interface RawRecord {
  /** What goes to the pipeline as `message`. */
  message: string;
  /** 1-based line (or array element) number, for messages about bad input. */
  position: number;
}

/** Looks at the first non-blank characters of the input to pick a reader. */
export function detectFormat(head: string): Exclude<InputFormat, 'auto'> {
  const text = head.replace(/^\uFEFF/, '').trimStart();
  // Zeek's own test baselines put a "### BTest ..." comment above the header.
  if (text.split('\n', 8).some((line) => line.startsWith('#separator'))) return 'zeek-tsv';
  if (text.startsWith('[')) return 'json-array';
  // One object per line is NDJSON; an object spread over lines is a JSON document (a pretty-printed
  // event, or Elastic Agent's {"events": [...]} test shape).
  // A malformed first line keeps a file NDJSON (that line is dead-lettered, the rest still read).
  if (text.startsWith('{')) return text.split('\n', 1)[0]!.trim() === '{' ? 'json-document' : 'ndjson';
  return 'lines';
}

async function* lines(input: Readable): AsyncGenerator<{ line: string; n: number }> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    yield { line: n === 1 ? line.replace(/^\uFEFF/, '') : line, n };
  }
}

async function* lineRecords(input: Readable): AsyncGenerator<RawRecord> {
  for await (const { line, n } of lines(input)) {
    if (line.trim() === '') continue;
    yield { message: line, position: n };
  }
}

async function* zeekRecords(input: Readable): AsyncGenerator<RawRecord> {
  const header = emptyHeader();
  for await (const { line, n } of lines(input)) {
    if (line.trim() === '' || readHeaderLine(line, header)) continue;
    // A data line whose header is missing still goes out (as its raw text) and is dead-lettered there.
    const message = header.fields.length ? JSON.stringify(tsvRecord(line, header)) : line;
    yield { message, position: n };
  }
}

async function* arrayRecords(input: Readable): AsyncGenerator<RawRecord> {
  const pipeline = input.pipe(parser()).pipe(streamArray());
  for await (const item of pipeline as AsyncIterable<{ key: number; value: unknown }>) {
    yield { message: JSON.stringify(item.value), position: item.key + 1 };
  }
}

/**
 * Top-level JSON values one after another; an object with an `events` array gives its elements.
 * Each top-level value is held whole while it is read: for large inputs use NDJSON or an array.
 */
async function* documentRecords(input: Readable): AsyncGenerator<RawRecord> {
  const pipeline = input.pipe(parser({ jsonStreaming: true })).pipe(streamValues());
  let position = 0;
  for await (const item of pipeline as AsyncIterable<{ key: number; value: unknown }>) {
    const value = item.value;
    const events = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { events?: unknown }).events : undefined;
    if (Array.isArray(events)) {
      for (const event of events) yield { message: JSON.stringify(event), position: ++position };
    } else {
      yield { message: JSON.stringify(value), position: ++position };
    }
  }
}

export function readRecords(input: Readable, format: Exclude<InputFormat, 'auto'>): AsyncGenerator<RawRecord> {
  switch (format) {
    case 'zeek-tsv':
      return zeekRecords(input);
    case 'json-array':
      return arrayRecords(input);
    case 'json-document':
      return documentRecords(input);
    default:
      return lineRecords(input);
  }
}

/** Reads the first bytes of a file to detect its format. */
export async function detectFileFormat(file: string): Promise<Exclude<InputFormat, 'auto'>> {
  const stream = createReadStream(file, { start: 0, end: 4095, encoding: 'utf8' });
  let head = '';
  for await (const chunk of stream) head += chunk as string;
  return detectFormat(head);
}
