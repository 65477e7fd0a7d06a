/**
 * The shapes the demo shares with the generator (the issue-6 contract): what generateTelemetry
 * takes and returns (the generator's own types), and the part of the ground-truth file the demo's
 * evaluation and report read.
 */
import type { GenerateOptions, GeneratedTelemetry } from '../generator';

export type { GenerateOptions, GeneratedTelemetry };

export type Generate = (options: GenerateOptions) => Promise<GeneratedTelemetry>;

export interface AttackTruth {
  id: string;
  analytic: string;
  scenario: string;
  evasive: boolean;
  /** Host names and IPs the alert's host.* may carry. */
  hosts: string[];
  start: string;
  end: string;
}

export interface GroundTruth {
  seed: number;
  events: number;
  start: string;
  end: string;
  attacks: AttackTruth[];
  benign_hosts: string[];
  /** Live tunables the generated fleet needs (e.g. its vCenter in BaselineMgmtHosts), applied before ingest. */
  tuning?: Record<string, unknown>;
}

/** An alert document as the correlator stores it (src/correlator/alert.ts). */
export type AlertDoc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
