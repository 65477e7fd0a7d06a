/** The nine sources of design.md, each one data stream `logs-cryptochannel.<source>-<namespace>`. */
export const SOURCES = ['sysmon', 'capi2', 'auditd', 'tetragon', 'unifiedlog', 'esxi', 'zeek', 'suricata', 'netflow'] as const;
export type Source = (typeof SOURCES)[number];

/** Streams cryptochannel writes itself besides the sources. */
export const INTERNAL_STREAMS = ['deadletter', 'alerts'] as const;

export const PRODUCT = 'cryptochannel';

export function isSource(value: string): value is Source {
  return (SOURCES as readonly string[]).includes(value);
}

export function dataset(source: string): string {
  return `${PRODUCT}.${source}`;
}

export function dataStreamName(source: string, namespace: string): string {
  return `logs-${dataset(source)}-${namespace}`;
}

/** Elastic's namespace rules: lower case, no '-', at most 100 bytes, none of \/*?"<>| ,#. */
export function validateNamespace(namespace: string): string | undefined {
  if (!namespace) return 'a namespace cannot be empty';
  if (namespace !== namespace.toLowerCase()) return 'a namespace must be lower case';
  if (/[-\\/*?"<>| ,#:]/.test(namespace)) return 'a namespace cannot contain -, \\, /, *, ?, ", <, >, |, space, comma, # or :';
  if (Buffer.byteLength(namespace) > 100) return 'a namespace is at most 100 bytes';
  return undefined;
}
