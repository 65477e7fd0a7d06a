/**
 * The OpenSearch flavour (detection-rules/opensearch): monitors validated against the Alerting
 * request schema vendored from the OpenSearch API specification, detectors against the schema
 * derived from the plugin's documentation, both checked against the templates and the golden
 * outputs, rendered with tunables and an ownership marker. The queries themselves run on the real
 * engine in test/integration/opensearch-monitor-queries.test.ts.
 */
import { defaultRoots, loadContent } from '../../src/content';
import { streamOfIndexPattern } from '../../src/content/ml-jobs';
import {
  checkDetector,
  checkMonitor,
  detectorName,
  loadOpenSearchContent,
  loadOpenSearchSchemas,
  MONITOR_NAME_PREFIX,
  monitorName,
  monitorSearches,
  openSearchMeta,
  renderDetector,
  renderMonitor,
  resolveTunables,
  substitutePeriod,
  type MonitorContent,
} from '../../src/content/opensearch-content';
import { actionValues, goldenActions } from './support/golden-actions';

const roots = defaultRoots();
const content = loadContent(roots);
const { monitors, detectors } = loadOpenSearchContent(roots.detectionRules);
const schemas = loadOpenSearchSchemas(roots.detectionRules);
const ctx = { packageVersion: '0.0.0-test', tunables: content.tunables as unknown as Record<string, unknown> };
const renderedMonitors = monitors.map((m) => renderMonitor(m, ctx));
const renderedDetectors = detectors.map((d) => renderDetector(d, ctx));

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('OpenSearch content (detection-rules/opensearch)', () => {
  it('covers every DET0543 analytic with monitors, and the correlator alerts stream', () => {
    for (const analytic of ['AN1496', 'AN1497', 'AN1498', 'AN1499', 'AN1500']) {
      expect({ analytic, monitors: monitors.filter((m) => m.analytics.includes(analytic)).length > 0 }).toEqual({ analytic, monitors: true });
    }
    const alertMonitors = monitors.filter((m) => monitorSearches(m.monitor).some((s) => s.indices.includes('logs-cryptochannel.alerts-*')));
    expect(alertMonitors.map((m) => m.id)).toEqual(['correlator-alerts-by-score']);
    expect(detectors.map((d) => d.id).sort()).toEqual(['bytes-out-in-ratio', 'payload-entropy']);
  });

  describe('request schemas', () => {
    it('every rendered monitor is a valid create-monitor body of the OpenSearch API specification', () => {
      for (const m of renderedMonitors) expect({ monitor: m.id, problems: schemas.validateMonitor(m.body) }).toEqual({ monitor: m.id, problems: [] });
    });

    it('every rendered detector is a valid create-detector body (schema derived from the plugin docs)', () => {
      for (const d of renderedDetectors) expect({ detector: d.id, problems: schemas.validateDetector(d.body) }).toEqual({ detector: d.id, problems: [] });
    });

    it('the monitor schema refuses a misspelt key, a wrong enum value, a bad trigger and a missing name', () => {
      const body = clone(renderedMonitors[0]!.body);
      expect(schemas.validateMonitor({ ...body, trigers: body.triggers }).join('\n')).toMatch(/unknown key 'trigers'/);
      expect(schemas.validateMonitor({ ...body, schedule: { period: { interval: 5, unit: 'MINUTE' } } }).join('\n')).toMatch(/schedule/);
      expect(schemas.validateMonitor({ ...body, monitor_type: 'bucket_monitor' }).join('\n')).toMatch(/monitor_type/);
      expect(schemas.validateMonitor({ ...body, triggers: [{ bucket_level_trigger: { name: 't', severity: '1', condition: { script: { source: 'true' } }, actions: [] } }] }).join('\n')).toMatch(/triggers/);
      const { name: _name, ...nameless } = body;
      expect(schemas.validateMonitor(nameless).join('\n')).toMatch(/must have required property 'name'/);
    });

    it('the detector schema refuses a name the plugin refuses, three category fields and an unknown key', () => {
      const body = clone(renderedDetectors[0]!.body);
      expect(schemas.validateDetector({ ...body, name: 'cryptochannel bytes ratio' }).join('\n')).toMatch(/\/name/);
      expect(schemas.validateDetector({ ...body, category_field: ['source.ip', 'host.name', 'process.name'] }).join('\n')).toMatch(/category_field/);
      expect(schemas.validateDetector({ ...body, detection_interval: { period: { interval: 10, unit: 'Hours' } } }).join('\n')).toMatch(/detection_interval/);
      expect(schemas.validateDetector({ ...body, featureAttributes: [] }).join('\n')).toMatch(/unknown key 'featureAttributes'/);
    });
  });

  describe('fields, windows and triggers', () => {
    it('every monitor reads real streams, names mapped fields, looks at a window and has consistent triggers', () => {
      for (const m of monitors) expect({ monitor: m.id, problems: checkMonitor(m, content.fields) }).toEqual({ monitor: m.id, problems: [] });
    });

    it('every detector reads real streams with a date time field, keyword/ip categories and numeric features', () => {
      for (const d of detectors) expect({ detector: d.id, problems: checkDetector(d, content.fields) }).toEqual({ detector: d.id, problems: [] });
    });

    it('the checks fail for an unmapped field, a text field in a composite, a trigger path and a missing window', () => {
      const base = monitors.find((m) => m.id === 'an1499-esxi-mgmt-tls-outside-baseline')!;
      const edit = (change: (monitor: Record<string, any>) => void): MonitorContent => {
        const monitor = clone(base.monitor) as Record<string, any>;
        change(monitor);
        return { ...base, monitor };
      };
      const query = (m: Record<string, any>) => m.inputs[0].search.query;
      expect(checkMonitor(edit((m) => query(m).query.bool.filter.push({ term: { 'cryptochannel.esxi.no_such': true } })), content.fields).join('\n')).toMatch(/no_such' is not mapped/);
      expect(checkMonitor(edit((m) => query(m).query.bool.filter.push({ term: { 'cryptochannel.zeek.uid': 'x' } })), content.fields).join('\n')).toMatch(/zeek.uid' is not mapped by logs-cryptochannel.esxi/);
      expect(checkMonitor(edit((m) => (query(m).aggregations.peers.composite.sources[1].peer.terms.field = 'message')), content.fields).join('\n')).toMatch(/'message' is mapped as text/);
      expect(checkMonitor(edit((m) => (m.triggers[0].bucket_level_trigger.condition.buckets_path = { sessions: 'no_such_agg>_count' })), content.fields).join('\n')).toMatch(/names no sub-aggregation/);
      expect(checkMonitor(edit((m) => (m.triggers[0].bucket_level_trigger.condition.script.source = 'params.other > 0')), content.fields).join('\n')).toMatch(/reads params.other/);
      expect(checkMonitor(edit((m) => (query(m).query.bool.filter = query(m).query.bool.filter.slice(1))), content.fields).join('\n')).toMatch(/window ending at \{\{period_end\}\}/);
      expect(checkMonitor(edit((m) => (m.inputs[0].search.indices = ['logs-*'])), content.fields).join('\n')).toMatch(/not a cryptochannel stream pattern/);
      expect(checkMonitor(edit((m) => query(m).query.bool.filter.push({ more_like_this: { like: 'x' } })), content.fields).join('\n')).toMatch(/more_like_this' is not one the field check understands/);
      const detector = detectors[0]!;
      const badFeature = clone(detector.detector) as Record<string, any>;
      badFeature.feature_attributes[0].aggregation_query.mean_bytes_out_in_ratio = { avg: { field: 'destination.domain' } };
      badFeature.category_field = ['tls.server.x509.subject.distinguished_name', 'message'];
      const problems = checkDetector({ ...detector, detector: badFeature }, content.fields).join('\n');
      expect(problems).toMatch(/destination.domain' is keyword, not numeric/);
      expect(problems).toMatch(/category_field 'message' is text, not keyword or ip/);
    });

    it('compares event.action only with values the pipelines write to the streams a search reads', () => {
      const searches = [
        ...monitors.flatMap((m) => monitorSearches(m.monitor).map((s) => ({ id: m.id, indices: s.indices, body: s.query as unknown }))),
        ...detectors.map((d) => ({ id: d.id, indices: d.detector.indices as string[], body: d.detector.filter_query as unknown })),
      ];
      for (const search of searches) {
        const written = new Set(search.indices.flatMap((p) => [...(streamOfIndexPattern(p) === 'alerts' ? [] : goldenActions(streamOfIndexPattern(p)!))]));
        expect({ id: search.id, neverWritten: actionValues(search.body).filter((a) => !written.has(a)) }).toEqual({ id: search.id, neverWritten: [] });
      }
    });
  });

  describe('rendering', () => {
    it('renders the tunables in, leaving only the Alerting plugin\'s own {{period_end}}', () => {
      for (const m of renderedMonitors) {
        const text = JSON.stringify(m.body);
        expect(text).not.toMatch(/Tunable/);
        expect(() => substitutePeriod(m.body.inputs, Date.now())).not.toThrow();
      }
      const sysmon = renderedMonitors.find((m) => m.id === 'an1496-windows-crypto-library-then-egress')!;
      expect(JSON.stringify(sysmon.body)).toContain(`"gte":"{{period_end}}||-${content.tunables.CorrelationWindow}"`);
      const allowed = (JSON.stringify(sysmon.body).match(/"allowed":(\[[^\]]*\])/) ?? [])[1];
      expect(JSON.parse(allowed!)).toEqual(content.tunables.AllowedCryptoProcesses);
    });

    it('a tuning change changes the rendered body and its hash; an unknown tunable is refused', () => {
      const m = monitors.find((x) => x.id === 'an1498-high-entropy-payload')!;
      const before = renderMonitor(m, ctx);
      const after = renderMonitor(m, { ...ctx, tunables: { ...ctx.tunables, PayloadEntropyThreshold: 6.5 } });
      expect(JSON.stringify(after.body)).toContain('"gte":6.5');
      expect(after.meta.content_sha256).not.toBe(before.meta.content_sha256);
      expect(() => resolveTunables({ x: '{{ Tunable "NoSuchTunable" }}' }, ctx.tunables, m.file)).toThrow(/unknown tunable 'NoSuchTunable'/);
    });

    it('names monitors and detectors stably and marks them as ours in ui_metadata', () => {
      for (const m of renderedMonitors) {
        expect(m.name.startsWith(MONITOR_NAME_PREFIX)).toBe(true);
        expect(m.body.name).toBe(m.name);
        expect(openSearchMeta(m.body)).toEqual(m.meta);
        expect(m.meta).toMatchObject({ managed_by: 'cryptochannel', package_version: '0.0.0-test' });
      }
      for (const d of renderedDetectors) {
        expect(d.name).toBe(detectorName(d));
        expect(d.name).toMatch(/^[a-zA-Z0-9._-]{1,64}$/);
        expect(openSearchMeta(d.body)).toEqual(d.meta);
      }
      expect(new Set(renderedMonitors.map((m) => m.name)).size).toBe(renderedMonitors.length);
      expect(monitorName({ id: 'x', title: 'T' })).toBe('cryptochannel/x: T');
      expect(openSearchMeta({ ui_metadata: { schedule: {} } })).toBeUndefined();
      // The marker does not depend on the package version, only on the content.
      expect(renderMonitor(monitors[0]!, { ...ctx, packageVersion: '9.9.9' }).meta.content_sha256).toBe(renderedMonitors[0]!.meta.content_sha256);
    });
  });
});
