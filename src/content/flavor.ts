/**
 * Pipelines are written with OpenSearch's processor options (the engine the tests run on); for
 * Elasticsearch the few processors whose options differ are translated. Source: each engine's
 * processor reference (Elasticsearch `community_id`: source_ip … iana_number; OpenSearch:
 * source_ip_field … iana_protocol_number_field; `fingerprint`: method vs hash_method).
 */
const COMMUNITY_ID_TO_ES: Record<string, string> = {
  source_ip_field: 'source_ip',
  source_port_field: 'source_port',
  destination_ip_field: 'destination_ip',
  destination_port_field: 'destination_port',
  iana_protocol_number_field: 'iana_number',
  protocol_field: 'transport',
  icmp_type_field: 'icmp_type',
  icmp_code_field: 'icmp_code',
};

/** OpenSearch's hash_method values carry a version suffix (`SHA-256@2.16.0`); Elasticsearch names the hash alone. */
function esHashMethod(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/@.*$/, '') : value;
}

function translateProcessor(processor: Record<string, unknown>): Record<string, unknown> {
  const [type, config] = Object.entries(processor)[0] ?? [];
  if (!type || config === null || typeof config !== 'object') return processor;
  const options = { ...(config as Record<string, unknown>) };
  if (Array.isArray(options.on_failure)) options.on_failure = options.on_failure.map((p) => translateProcessor(p as Record<string, unknown>));
  if (type === 'community_id') {
    for (const [from, to] of Object.entries(COMMUNITY_ID_TO_ES)) {
      if (from in options) {
        options[to] = options[from];
        delete options[from];
      }
    }
  }
  if (type === 'fingerprint' && 'hash_method' in options) {
    options.method = esHashMethod(options.hash_method);
    delete options.hash_method;
  }
  if (type === 'foreach' && options.processor && typeof options.processor === 'object') {
    options.processor = translateProcessor(options.processor as Record<string, unknown>);
  }
  return { [type]: options };
}

export function translateForElasticsearch(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  for (const key of ['processors', 'on_failure']) {
    if (Array.isArray(out[key])) out[key] = (out[key] as Array<Record<string, unknown>>).map(translateProcessor);
  }
  return out;
}
