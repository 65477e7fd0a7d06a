/**
 * The events a bench runs on: telemetry from the generator (src/generator), handed in as a function
 * so that tests can give a smaller or a fake one.
 */
import { readFile } from 'node:fs/promises';
import type { GeneratedTelemetry, GenerateOptions, GroundTruth } from '../generator';

export type { GeneratedTelemetry };
export type TelemetryFile = GeneratedTelemetry['files'][number];
export type TelemetrySource = (options: GenerateOptions) => Promise<GeneratedTelemetry>;

export async function readGroundTruth(file: string): Promise<GroundTruth> {
  return JSON.parse(await readFile(file, 'utf8')) as GroundTruth;
}
