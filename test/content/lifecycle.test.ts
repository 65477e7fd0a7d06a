/**
 * The lifecycle policies are consistent with each other and with the streams they manage. They are
 * not installed in the tests: the engine here has neither ILM (Elasticsearch only) nor the ISM
 * plugin (not published on Maven Central; docs/engines.md).
 */
import { loadContent, loadLifecycle, SOURCES } from '../../src/content';

const { roots } = loadContent();
const ilm = loadLifecycle(roots.integration, 'elasticsearch');
const ism = loadLifecycle(roots.integration, 'opensearch');

const days = (age: string) => {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(age);
  if (!m) throw new Error(`bad age ${age}`);
  return Number(m[1]) * { ms: 1 / 86_400_000, s: 1 / 86_400, m: 1 / 1440, h: 1 / 24, d: 1 }[m[2] as 'd'];
};

describe('lifecycle policies', () => {
  it('exist for events, dead-letter and alerts on both engines', () => {
    expect(Object.keys(ilm).sort()).toEqual(['alerts', 'deadletter', 'events']);
    expect(Object.keys(ism).sort()).toEqual(['alerts', 'deadletter', 'events']);
  });

  it.each(['events', 'deadletter', 'alerts'])('%s: ILM and ISM keep data equally long and roll over', (name) => {
    const phases = (ilm[name]!.policy as { phases: Record<string, { min_age: string; actions: Record<string, unknown> }> }).phases;
    expect(phases.hot?.actions.rollover).toBeDefined();
    const ilmDelete = days(phases.delete!.min_age);
    const states = (ism[name]!.policy as { states: Array<{ name: string; actions: Array<Record<string, unknown>>; transitions: Array<{ state_name: string; conditions: { min_index_age: string } }> }> }).states;
    const names = states.map((s) => s.name);
    for (const s of states) for (const t of s.transitions) expect(names).toContain(t.state_name);
    const toDelete = states.flatMap((s) => s.transitions).find((t) => t.state_name === 'delete')!;
    expect(days(toDelete.conditions.min_index_age)).toBe(ilmDelete);
    expect(states.find((s) => s.name === 'delete')!.actions).toEqual([{ delete: {} }]);
    expect(states[0]!.actions.some((a) => 'rollover' in a)).toBe(true);
  });

  it('ISM templates cover every source stream exactly once', () => {
    const patterns = (ism.events!.policy as { ism_template: Array<{ index_patterns: string[] }> }).ism_template.flatMap((t) => t.index_patterns);
    expect(patterns.sort()).toEqual(SOURCES.map((s) => `.ds-logs-cryptochannel.${s}-*`).sort());
  });
});
