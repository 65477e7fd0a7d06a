/**
 * The shapes the demo shares with the generator (the issue-6 contract): what generateTelemetry
 * takes and returns, and the ground-truth file it writes; all declared once, in the generator.
 */
import type { GenerateOptions, GeneratedTelemetry, GroundTruth as GeneratedGroundTruth, GroundTruthAttack } from '../generator';

export type { GenerateOptions, GeneratedTelemetry };

export type Generate = (options: GenerateOptions) => Promise<GeneratedTelemetry>;

/**
 * An attack as the evaluation and the report read it: the generator's entry without its
 * description, and with any analytic name, so that a truth built from golden expectations
 * (plain strings, no description) fits as well as the generator's own.
 */
export type AttackTruth = Pick<GroundTruthAttack, 'id' | 'scenario' | 'evasive' | 'hosts' | 'start' | 'end'> & { analytic: string };

/** The generator's ground-truth file, its attacks read as AttackTruth. */
export type GroundTruth = Omit<GeneratedGroundTruth, 'attacks'> & { attacks: AttackTruth[] };

/** An alert document as the correlator stores it (src/correlator/alert.ts). */
export type AlertDoc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
