/** One output file per source, written line by line with backpressure, so memory stays flat. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Source } from '../content/sources';

/** NDJSON for the JSON sources; plain lines for syslog-like and XML records (auto-detected as `lines`). */
export const EXTENSION: Record<Source, string> = {
  sysmon: 'ndjson',
  capi2: 'xml',
  auditd: 'log',
  tetragon: 'ndjson',
  unifiedlog: 'ndjson',
  esxi: 'log',
  zeek: 'ndjson',
  suricata: 'ndjson',
  netflow: 'ndjson',
};

export class SourceFiles {
  private readonly streams = new Map<Source, { stream: WriteStream; path: string; events: number }>();

  constructor(private readonly outDir: string) {}

  async write(source: Source, line: string): Promise<void> {
    let entry = this.streams.get(source);
    if (!entry) {
      const file = path.join(this.outDir, `${source}.${EXTENSION[source]}`);
      entry = { stream: createWriteStream(file, { encoding: 'utf8' }), path: file, events: 0 };
      this.streams.set(source, entry);
    }
    entry.events++;
    if (!entry.stream.write(`${line}\n`)) await once(entry.stream, 'drain');
  }

  async close(): Promise<Array<{ source: Source; path: string; events: number }>> {
    const out: Array<{ source: Source; path: string; events: number }> = [];
    for (const [source, entry] of this.streams) {
      entry.stream.end();
      await once(entry.stream, 'finish');
      out.push({ source, path: entry.path, events: entry.events });
    }
    return out.sort((a, b) => a.source.localeCompare(b.source));
  }

  /** Closes without waiting for anything further (after an error). */
  destroy(): void {
    for (const entry of this.streams.values()) entry.stream.destroy();
  }
}
