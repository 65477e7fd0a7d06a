/**
 * Which partition an alert belongs to, and facts read back from a built alert document.
 *
 * Partitions are computed client-side, after correlation, from the alert's own host (design.md
 * "Whose alert": the internal endpoint). They cannot be pushed into the query: the evidence of one
 * alert carries different keys (an endpoint's library load has host.id and no address, the sensor's
 * TLS session has addresses and no host.id), so a filter on either key would split a join. Every
 * process therefore reads the whole window and correlates it; a partition decides who writes an
 * alert and whose checkpoint covers it. The hash is of the alert alone, so every process, of any
 * version, puts an alert in the same partition.
 */
import { createHash } from 'node:crypto';
import { get } from './fields';
import type { AlertDocument } from './alert';

export function partitionOf(key: string, partitions: number): number {
  if (partitions <= 1) return 0;
  return createHash('sha256').update(key).digest().readUInt32BE(0) % partitions;
}

function first(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The internal endpoint the alert is about: host.id, else host.name, else its address; the alert id when it names none. */
export function alertPartitionKey(alert: AlertDocument): string {
  const doc = alert.doc;
  return first(get(doc, 'host.id')) ?? first(get(doc, 'host.name')) ?? first(get(doc, 'host.ip')) ?? first(get(doc, 'source.ip')) ?? alert._id;
}

export function alertPartition(alert: AlertDocument, partitions: number): number {
  return partitionOf(alertPartitionKey(alert), partitions);
}

/** Event time of the newest evidence, in epoch ms: what decides which run's window emits the alert. */
export function newestEvidence(alert: AlertDocument): number {
  const evidence = (get(alert.doc, 'cryptochannel.alert.evidence') as Array<{ timestamp?: string }> | undefined) ?? [];
  const times = evidence.map((e) => Date.parse(e.timestamp ?? '')).filter((t) => Number.isFinite(t));
  return times.length ? Math.max(...times) : Date.parse(String(get(alert.doc, '@timestamp')));
}

/**
 * `.ds-logs-cryptochannel.zeek-prod-2026.11.28-000001` (Elasticsearch) or
 * `.ds-logs-cryptochannel.zeek-prod-000001` (OpenSearch) → `prod`. Datasets and namespaces contain
 * no '-' (validateNamespace), which is what makes the name parseable.
 */
export function namespaceOfIndex(index: string): string | undefined {
  const m = /^(?:\.ds-)?logs-cryptochannel\.[^-]+-([^-]+?)(?:-\d{4}\.\d{2}\.\d{2})?(?:-\d{6})?$/.exec(index);
  return m?.[1];
}

/** design.md "Namespaces": an alert goes to the namespace of its evidence, `default` when mixed. */
export function alertNamespace(alert: AlertDocument): string {
  const evidence = (get(alert.doc, 'cryptochannel.alert.evidence') as Array<{ index?: string }> | undefined) ?? [];
  const namespaces = new Set(evidence.map((e) => namespaceOfIndex(e.index ?? '')));
  const [only] = namespaces;
  return namespaces.size === 1 && only ? only : 'default';
}
