/**
 * The shapes the demo shares with the generator (the issue-6 contract): what generateTelemetry
 * takes and returns, and the ground-truth file it writes beside the telemetry. Declared here so that
 * the demo's own parts (evaluate, report) depend on the contract, not on the generator's code.
 */
import type { Source } from '../content/sources';

export interface GenerateOptions {
  events: number;
  seed: number;
  days?: number;
  /** ISO; default now - days. */
  start?: string;
  outDir: string;
  onProgress?: (written: number) => void;
}

export interface GeneratedTelemetry {
  files: Array<{ source: Source; path: string; events: number }>;
  groundTruthPath: string;
  attacks: number;
  benignHosts: string[];
}

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
