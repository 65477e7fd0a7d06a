/**
 * Real third-party samples in ../shared/corpus, read in place (never copied into the project), and
 * how to run them through a source's pipeline on the real engine.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { deletePipeline, deleteStoredScript, putPipeline, putStoredScript, simulatePipeline, type ClusterClient } from '../../../src/cluster';
import { pipelineId, renderIngest, type Content } from '../../../src/content';
import { detectFileFormat, readRecords } from '../../../src/ingest/readers';

export const CORPUS = path.resolve(__dirname, '../../../../shared/corpus');

export function corpusPath(...parts: string[]): string {
  return path.join(CORPUS, ...parts);
}

export function corpusAvailable(): boolean {
  return existsSync(CORPUS);
}

/** Reads a corpus file the way `cryptochannel ingest` does: the same readers, the same records. */
export async function corpusMessages(file: string, transform: (message: string) => string = (m) => m): Promise<Array<{ message: string }>> {
  const format = await detectFileFormat(file);
  const out: Array<{ message: string }> = [];
  for await (const record of readRecords(createReadStream(file, { encoding: 'utf8' }), format)) out.push({ message: transform(record.message) });
  return out;
}

/** Elastic's `-expected.json` documents. */
export function elasticExpected(file: string): Array<Record<string, unknown>> {
  return (JSON.parse(readFileSync(file, 'utf8')) as { expected: Array<Record<string, unknown>> }).expected;
}

/** Installs the rendered scripts and pipelines under a throw-away version, for simulate-only runs. */
export class SimulatedPipelines {
  readonly version = `corpus-${randomBytes(4).toString('hex')}`;
  private installed: { scripts: string[]; pipelines: string[] } = { scripts: [], pipelines: [] };

  constructor(
    private readonly client: ClusterClient,
    private readonly content: Content,
  ) {}

  async install(): Promise<void> {
    const rendered = renderIngest(this.content, this.version, 'test', this.client.flavor, this.content.tunables, `${this.version}-`);
    for (const c of rendered.customPipelines) {
      await putPipeline(this.client, c.id, c.body);
      this.installed.pipelines.push(c.id);
    }
    for (const s of rendered.scripts) {
      await putStoredScript(this.client, s.id, s.body.script.source);
      this.installed.scripts.push(s.id);
    }
    for (const p of rendered.pipelines) {
      await putPipeline(this.client, p.id, p.body);
      this.installed.pipelines.push(p.id);
    }
  }

  async run(source: string, docs: Array<Record<string, unknown>>): Promise<Array<Record<string, any>>> {
    const result = await simulatePipeline(this.client, docs, { id: pipelineId(source, 'default', this.version) });
    return result.docs.map((d) => (d as { doc?: { _source?: Record<string, unknown> } }).doc?._source ?? {});
  }

  async remove(): Promise<void> {
    for (const p of this.installed.pipelines) await deletePipeline(this.client, p);
    for (const s of this.installed.scripts) await deleteStoredScript(this.client, s);
  }
}

/** Dotted leaves of a document; arrays of scalars stay one leaf. */
export function flatten(doc: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    for (const [k, v] of Object.entries(doc as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = doc;
  }
  return out;
}
