/**
 * The alerts stream's template on the real engine: an alert shaped as design.md "Alerts" says is
 * accepted, its reasons and evidence are mapped with the declared types, and a field of the wrong
 * type is refused (so the mapping really constrains what the correlator writes).
 */
import { connect, deleteComponentTemplate, deleteDataStream, deleteIndexTemplate, putComponentTemplate, putIndexTemplate, refresh, type ClusterClient } from '../../src/cluster';
import { ClusterError } from '../../src/cluster/errors';
import { dataStreamName, loadContent, renderAlertsTemplates, type RenderedTemplate } from '../../src/content';
import { testEngineLabel, testUrl } from './support/engine-env';

const namespace = `cctestalerts${process.pid}`;
const stream = dataStreamName('alerts', namespace);

const alert = {
  '@timestamp': '2026-11-28T10:00:05.000Z',
  message: 'AN1496: powershell-renamed.exe loaded crypt32.dll and reached a self-signed server',
  event: { kind: 'alert', category: ['network', 'intrusion_detection'], type: ['indicator'], dataset: 'cryptochannel.alerts', severity: 73, risk_score: 73 },
  rule: { id: 'cryptochannel-an1496', name: 'Unexpected crypto library use followed by abnormal TLS (Windows)', ruleset: 'cryptochannel' },
  threat: {
    framework: 'MITRE ATT&CK',
    tactic: { id: ['TA0011'], name: ['Command and Control'] },
    technique: { id: ['T1573'], name: ['Encrypted Channel'], subtechnique: { id: ['T1573.002'], name: ['Asymmetric Cryptography'] } },
  },
  host: { id: 'f1e2d3c4', name: 'ws-042', ip: ['10.20.30.41'] },
  process: { entity_id: '{5b3a1f00-0000-0000-0000-000000000042}', name: 'updater.exe', pid: 4242 },
  source: { ip: '10.20.30.41', port: 50022 },
  destination: { ip: '203.0.113.66', port: 8081 },
  network: { community_id: '1:JLBwMbMoZwswR26+Yr9RqVJwmGM=' },
  tls: { client: { ja3: '72a589da586844d7f0818ce684948eea' }, server: { hash: { sha1: 'C4129E7D0BA638F155E02C917AB36D4809EF217C' } } },
  cryptochannel: {
    alert: {
      id: 'a1b2c3',
      analytic: 'AN1496',
      score: 73,
      score_threshold: 60,
      reasons: [
        { name: 'crypto_library_outside_allow_list', observed: 'updater.exe', threshold: 'AllowedCryptoProcesses', tunable: 'AllowedCryptoProcesses', points: 30, message: 'updater.exe is not expected to load crypt32.dll' },
        { name: 'self_signed_certificate', observed: 'true', threshold: 'allow_self_signed=false', tunable: 'CertValidationPolicy', points: 25 },
      ],
      evidence: [
        { index: '.ds-logs-cryptochannel.sysmon-default-000001', id: 'e1', timestamp: '2026-11-28T10:00:00.000Z', action: 'image-loaded', dataset: 'cryptochannel.sysmon' },
        { index: '.ds-logs-cryptochannel.zeek-default-000001', id: 'e2', timestamp: '2026-11-28T10:00:04.000Z', action: 'tls_session', dataset: 'cryptochannel.zeek' },
      ],
    },
  },
};

describe(`alerts stream on ${testEngineLabel()}`, () => {
  let client: ClusterClient;
  let templates: RenderedTemplate[];
  beforeAll(async () => {
    client = await connect({ url: testUrl() });
    templates = renderAlertsTemplates(loadContent().fields, {
      version: 'test',
      packageVersion: 'test',
      flavor: client.flavor,
      namespacePattern: `${namespace}*`,
      namePrefix: `cctest-alerts-${process.pid}-`,
      priority: 1000,
      lifecycle: false,
    });
    for (const t of templates.filter((t) => t.kind === 'component_template')) await putComponentTemplate(client, t.name, t.body);
    for (const t of templates.filter((t) => t.kind === 'index_template')) await putIndexTemplate(client, t.name, t.body);
  });
  afterAll(async () => {
    await deleteDataStream(client, stream).catch(() => undefined);
    for (const t of templates.filter((t) => t.kind === 'index_template')) await deleteIndexTemplate(client, t.name).catch(() => undefined);
    for (const t of templates.filter((t) => t.kind === 'component_template')) await deleteComponentTemplate(client, t.name).catch(() => undefined);
    await client.close();
  });

  it('accepts an alert as design.md describes it and maps reasons and evidence with their declared types', async () => {
    const put = await client.request<{ result: string }>({ method: 'PUT', path: `/${stream}/_create/${alert.cryptochannel.alert.id}`, body: alert });
    expect(put.body.result).toBe('created');
    await refresh(client, stream);
    const mapping = await client.request<Record<string, { mappings: { properties: Record<string, any> } }>>({ method: 'GET', path: `/${stream}/_mapping` });
    const props = Object.values(mapping.body)[0]!.mappings.properties;
    const alertProps = props.cryptochannel.properties.alert.properties;
    expect(alertProps.score.type).toBe('long');
    expect(alertProps.reasons.properties.name.type).toBe('keyword');
    expect(alertProps.reasons.properties.points.type).toBe('long');
    expect(alertProps.evidence.properties.timestamp.type).toBe('date');
    expect(props.event.properties.kind.type).toBe('keyword');
    expect(props.destination.properties.ip.type).toBe('ip');
  });

  it('writes an alert id once: a second create of the same id is a conflict, not a duplicate', async () => {
    const again = client.request({ method: 'PUT', path: `/${stream}/_create/${alert.cryptochannel.alert.id}`, body: alert });
    await expect(again).rejects.toMatchObject({ status: 409 });
    await refresh(client, stream);
    const count = await client.request<{ count: number }>({ method: 'GET', path: `/${stream}/_count` });
    expect(count.body.count).toBe(1);
  });

  it('refuses a score that is not a number', async () => {
    const bad = { ...alert, cryptochannel: { alert: { ...alert.cryptochannel.alert, id: 'bad', score: 'very high' } } };
    const put = client.request({ method: 'PUT', path: `/${stream}/_create/bad`, body: bad });
    await expect(put).rejects.toBeInstanceOf(ClusterError);
    await expect(put).rejects.toMatchObject({ status: 400 });
  });
});
