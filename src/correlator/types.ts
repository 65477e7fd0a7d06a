/**
 * The correlator's vocabulary. Analytics are pure functions over normalised events (as the
 * pipelines write them) in time order; they return findings with the reasons that fired. Scoring,
 * threat intel, allow-lists and the alert document are shared (scoring.ts, alert.ts).
 */
import type { Tunables } from '../content';

export const ANALYTICS = ['AN1496', 'AN1497', 'AN1498', 'AN1499', 'AN1500'] as const;
export type AnalyticId = (typeof ANALYTICS)[number];

/** One normalised event as read from the cluster. */
export interface SourceEvent {
  /** Backing index (or data stream) and _id: the evidence an alert cites. */
  index: string;
  id: string;
  /** @timestamp in epoch milliseconds. */
  time: number;
  doc: Record<string, unknown>;
}

/** One check that fired: what was observed, against which limit, and what it added to the score. */
export interface Reason {
  name: string;
  observed: string;
  threshold: string;
  tunable?: string;
  points: number;
  message: string;
}

/** What an alert says about the session and the endpoint, copied from the evidence. */
export interface FindingEntities {
  host?: { id?: string; name?: string; ip?: string[]; os?: { type?: string } };
  process?: { entity_id?: string; pid?: number; name?: string; executable?: string; command_line?: string };
  user?: { name?: string };
  dll?: { name?: string; path?: string };
  source?: { ip?: string; port?: number };
  destination?: { ip?: string; port?: number; domain?: string };
  network?: { community_id?: string; transport?: string; protocol?: string; direction?: string };
  tls?: Record<string, unknown>;
}

export interface Finding {
  analytic: AnalyticId;
  /** The contributing events, oldest first. The alert id is a hash of the analytic and their ids. */
  evidence: SourceEvent[];
  reasons: Reason[];
  entities: FindingEntities;
  /** Indicators to look up in the threat-intel index. */
  indicators?: { ja3?: string[]; cert_sha1?: string[] };
  /** One line for the analyst: what happened. */
  summary: string;
  /**
   * What the finding is about (for example the connection's index/id). A record that arrives later
   * may add evidence to the same story, which would change the id: with a key, the correlator writes
   * one alert per analytic and key while the key's events are in the window.
   */
  key?: string;
}

export interface IntelHit {
  kind: 'ja3' | 'cert_sha1';
  value: string;
  list: string;
  reason: string;
}

/** Threat-intel lookups (the cryptochannel-threatintel index, loaded before a run). */
export interface IntelLookup {
  ja3(md5: string): IntelHit | undefined;
  certSha1(sha1: string): IntelHit | undefined;
}

export interface CorrelationContext {
  tunables: Tunables;
  intel: IntelLookup;
}

/** An analytic: pure, deterministic, over events in time order. */
export type AnalyticFn = (events: SourceEvent[], ctx: CorrelationContext) => Finding[];
