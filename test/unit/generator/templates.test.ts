import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import bundle from '../../../src/generator/templates.json';
import { templates } from '../../../src/generator/templates';
import { identitiesIn } from '../../../src/generator/readdress';

const FIXTURES = path.resolve(__dirname, '../../fixtures/correlator');

describe('generator templates', () => {
  it('are the raw golden inputs of the analytics, record for record (templates.json is kept in sync)', () => {
    const expected: Record<string, unknown> = {};
    for (const an of readdirSync(FIXTURES).filter((d) => /^an\d+$/.test(d))) {
      for (const file of readdirSync(path.join(FIXTURES, an, 'raw'))) {
        const name = file.replace(/\.json$/, '');
        if (name === 'outside-window') continue;
        const raw = JSON.parse(readFileSync(path.join(FIXTURES, an, 'raw', file), 'utf8')) as { events: Array<{ id: string; source: string; raw: unknown }> };
        expected[`${an}/${name}`] = raw.events.map((e) => ({ id: e.id, source: e.source, raw: e.raw }));
      }
    }
    const actual = Object.fromEntries(
      Object.entries(bundle as Record<string, { events: Array<{ id: string; source: string; text: string }> }>).map(([k, v]) => [
        k,
        v.events.map((e) => ({ id: e.id, source: e.source, raw: e.text.startsWith('{') && typeof (expected[k] as Array<{ id: string; raw: unknown }> | undefined)?.find((x) => x.id === e.id)?.raw !== 'string' ? JSON.parse(e.text) : e.text })),
      ]),
    );
    expect(actual).toEqual(expected);
  });

  it('cover every analytic with an attack, evasive variants and benign background', () => {
    const all = templates();
    for (const an of ['AN1496', 'AN1497', 'AN1498', 'AN1499', 'AN1500']) {
      expect([an, all.some((t) => t.analytic === an && t.kind === 'attack')]).toEqual([an, true]);
      expect([an, all.some((t) => t.analytic === an && t.kind === 'benign')]).toEqual([an, true]);
    }
    expect(all.filter((t) => t.evasive).map((t) => t.analytic)).toEqual(expect.arrayContaining(['AN1498', 'AN1499', 'AN1500']));
  });

  it('name a fleet host in every attack but one unified-log-only scenario', () => {
    const unattributed = templates()
      .filter((t) => t.kind === 'attack' && identitiesIn(t.events.map((e) => e.text)).length === 0)
      .map((t) => `${t.analytic}/${t.scenario}`);
    expect(unattributed).toEqual(['AN1498/evasive-long-delay']);
  });
});
