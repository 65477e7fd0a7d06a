import { ContentError } from '../../../src/content/files';
import { EcsVersion } from '../../../src/content/fields';
import { pipelineId, pipelineMeta, renderPipelines, scratchKeys, scriptId, stampPipeline, type PipelineContent } from '../../../src/content/pipelines';
import { ecsMapping, nestProperties } from '../../../src/content/templates';
import { loadContent, renderIngest, SOURCES, validateNamespace } from '../../../src/content';

const ctx = { version: '1.2.3', packageVersion: '1.2.3', ecsVersion: EcsVersion, tunables: { Ports: [443, 853], Name: 'x' }, flavor: 'elasticsearch' as const };

function pipeline(owner: string, name: string, processors: unknown[], extra: Record<string, unknown> = {}): PipelineContent {
  return { owner, name, file: `${owner}/${name}.yml`, body: { processors, ...extra } };
}

describe('rendering pipelines', () => {
  it('names installed assets by version', () => {
    expect(pipelineId('zeek', 'default', '1.2.3')).toBe('logs-cryptochannel.zeek-1.2.3');
    expect(pipelineId('zeek', 'ssl', '1.2.3')).toBe('logs-cryptochannel.zeek-1.2.3-ssl');
    expect(pipelineId('_shared', 'tls', '1.2.3')).toBe('logs-cryptochannel-1.2.3-tls');
    expect(scriptId('entropy', '1.2.3')).toBe('cryptochannel-1.2.3-entropy');
  });

  it('resolves placeholders: own pipelines first, then shared; scripts; tunables keep their JSON type', () => {
    const rendered = renderPipelines(
      [
        pipeline('zeek', 'default', [
          { pipeline: { name: '{{ IngestPipeline "ssl" }}' } },
          { pipeline: { name: '{{IngestPipeline "tls"}}' } },
          { script: { id: '{{ StoredScript "entropy" }}', params: { ports: '{{ Tunable "Ports" }}', label: 'n={{ Tunable "Name" }}' } } },
        ]),
        pipeline('zeek', 'ssl', [{ set: { field: 'a', value: '{{ PipelineName }}' } }]),
        pipeline('_shared', 'tls', []),
      ],
      ['entropy', 'deadletter'],
      ctx,
    );
    const entry = rendered.find((p) => p.name === 'default')!.body;
    const processors = entry.processors as Array<Record<string, any>>;
    expect(processors.map((p) => p.pipeline?.name).filter(Boolean)).toEqual(['logs-cryptochannel.zeek-1.2.3-ssl', 'logs-cryptochannel-1.2.3-tls', 'logs-cryptochannel.zeek@custom']);
    const script = processors.find((p) => p.script?.id === 'cryptochannel-1.2.3-entropy')!;
    expect(script.script.params).toEqual({ ports: [443, 853], label: 'n=x' });
    expect((rendered.find((p) => p.name === 'ssl')!.body.processors as any[])[0].set.value).toBe('logs-cryptochannel.zeek-1.2.3-ssl');
  });

  it('wraps every entry pipeline with event.ingested, the event-time check and dead-letter routing', () => {
    const [entry] = renderPipelines([pipeline('zeek', 'default', [{ set: { field: 'a', value: 1 } }])], ['deadletter'], ctx);
    const processors = entry!.body.processors as Array<Record<string, any>>;
    expect(Object.keys(processors[0]!)).toEqual(['set']);
    expect(processors[0]!.set.field).toBe('event.ingested');
    expect(processors.at(-1)!.fail.if).toContain("ctx['@timestamp'] == null");
    expect((entry!.body.on_failure as any[]).at(-1).script).toEqual({ id: 'cryptochannel-1.2.3-deadletter', params: { pipeline: 'logs-cryptochannel.zeek-1.2.3', source: 'zeek' } });
  });

  it.each([
    [[pipeline('zeek', 'default', [{ pipeline: { name: '{{ IngestPipeline "nope" }}' } }])], /names no pipeline/],
    [[pipeline('zeek', 'default', [{ script: { id: '{{ StoredScript "nope" }}' } }])], /names no file integration\/painless\/nope.painless/],
    [[pipeline('zeek', 'default', [{ set: { field: 'a', value: '{{ Tunable "Nope" }}' } }])], /is not a tunable/],
    [[pipeline('zeek', 'default', [], { on_failure: [] })], /no on_failure of its own/],
  ])('refuses broken content with the file named (%#)', (pipelines, message) => {
    expect(() => renderPipelines(pipelines, ['deadletter'], ctx)).toThrow(ContentError);
    expect(() => renderPipelines(pipelines, ['deadletter'], ctx)).toThrow(message);
  });

  it('stamps ownership as _meta on Elasticsearch and in the description on OpenSearch, readable back from both', () => {
    const meta = { managed_by: 'cryptochannel' as const, package_version: '1.2.3', content_sha256: 'ab12' };
    const es = stampPipeline({ description: 'd', processors: [] }, meta, 'elasticsearch');
    const os = stampPipeline({ description: 'd', processors: [] }, meta, 'opensearch');
    expect(es._meta).toEqual(meta);
    expect(os._meta).toBeUndefined();
    expect(os.description).toBe('d [managed_by: cryptochannel, package_version: 1.2.3, content_sha256: ab12]');
    expect(pipelineMeta(es)).toEqual(meta);
    expect(pipelineMeta(os)).toEqual(meta);
    expect(pipelineMeta(stampPipeline(os, { ...meta, content_sha256: 'cd34' }, 'opensearch'))?.content_sha256).toBe('cd34');
    expect(pipelineMeta({ description: 'someone else' })).toBeUndefined();
  });

  it('renders all shipped content without an unresolved reference, the same way twice', () => {
    const content = loadContent();
    const a = renderIngest(content, '9.9.9', '9.9.9', 'opensearch');
    const b = renderIngest(content, '9.9.9', '9.9.9', 'opensearch');
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).not.toMatch(/\{\{\s*(IngestPipeline|StoredScript|Tunable|PipelineName)/);
    expect(a.pipelines.filter((p) => p.name === 'default').map((p) => p.owner).every((o) => (SOURCES as readonly string[]).includes(o))).toBe(true);
  });
});

describe('templates', () => {
  it('maps ECS types, replacing Elasticsearch-only ones for OpenSearch', () => {
    expect(ecsMapping('source.ip', 'opensearch')).toEqual({ type: 'ip' });
    expect(ecsMapping('error.message', 'elasticsearch').type).toBe('match_only_text');
    expect(ecsMapping('error.message', 'opensearch').type).toBe('text');
    expect(ecsMapping('event.original', 'opensearch')).toMatchObject({ type: 'keyword', index: false, doc_values: false });
  });

  it('nests dotted names, keeping an object that has both a type and children', () => {
    expect(nestProperties({ 'a.b': { type: 'keyword' }, 'a.c.d': { type: 'long' } })).toEqual({
      a: { properties: { b: { type: 'keyword' }, c: { properties: { d: { type: 'long' } } } } },
    });
  });
});

describe('namespaces', () => {
  it('follow the data stream naming rules', () => {
    expect(validateNamespace('default')).toBeUndefined();
    expect(validateNamespace('prod_eu')).toBeUndefined();
    expect(validateNamespace('Prod')).toMatch(/lower case/);
    expect(validateNamespace('a-b')).toMatch(/cannot contain/);
    expect(validateNamespace('')).toMatch(/empty/);
  });
});

describe('processor options per engine', () => {
  it('translates OpenSearch community_id and fingerprint options for Elasticsearch, nested ones too', () => {
    const [entry] = renderPipelines(
      [
        pipeline('zeek', 'default', [
          { community_id: { source_ip_field: 'source.ip', destination_ip_field: 'destination.ip', iana_protocol_number_field: 'network.iana_number', target_field: 'network.community_id' } },
          { fingerprint: { fields: ['a'], hash_method: 'SHA-256@2.16.0' } },
          { foreach: { field: 'x', processor: { fingerprint: { fields: ['b'], hash_method: 'SHA-1@2.16.0' } } } },
        ]),
      ],
      ['deadletter'],
      ctx,
    );
    const processors = entry!.body.processors as Array<Record<string, any>>;
    expect(processors[1]).toEqual({ community_id: { source_ip: 'source.ip', destination_ip: 'destination.ip', iana_number: 'network.iana_number', target_field: 'network.community_id' } });
    expect(processors[2]).toEqual({ fingerprint: { fields: ['a'], method: 'SHA-256' } });
    expect(processors[3]!.foreach.processor).toEqual({ fingerprint: { fields: ['b'], method: 'SHA-1' } });
    const [os] = renderPipelines([pipeline('zeek', 'default', [{ fingerprint: { fields: ['a'], hash_method: 'SHA-256@2.16.0' } }])], ['deadletter'], { ...ctx, flavor: 'opensearch' });
    expect((os!.body.processors as any[])[1]).toEqual({ fingerprint: { fields: ['a'], hash_method: 'SHA-256@2.16.0' } });
  });
});

describe('scratchKeys', () => {
  const p = (owner: string, body: Record<string, unknown>): PipelineContent => ({ owner, name: 'x', file: `${owner}/x.yml`, body });
  it("collects the top-level _keys a source's pipelines and the shared ones write, and no others", () => {
    const pipelines = [
      p('zeek', {
        processors: [
          { json: { field: 'event.original', target_field: '_z' } },
          { remove: { field: ['_z', '_zp', 'message'] } },
          { script: { source: "ctx._a = 1; ctx['_b'] = 2; ctx.put('_c', 3); if (ctx._d == null) {} ctx._cc_held_message = 0;" } },
          { rename: { field: 'message', target_field: '_cc_held_message' } },
        ],
      }),
      p('_shared', { processors: [{ set: { field: '_shared_tmp', value: 1 } }] }),
      p('suricata', { processors: [{ set: { field: '_other', value: 1 } }] }),
    ];
    expect(scratchKeys(pipelines, 'zeek')).toEqual(['_a', '_b', '_c', '_shared_tmp', '_z', '_zp']);
  });
});
