/**
 * The scenarios the generator replays: the analytics' raw golden inputs
 * (test/fixtures/correlator/<an>/raw/*.json, bundled here as templates.json with each raw record as
 * its one-line text; a unit test keeps the bundle equal to the fixtures). Benign scenarios are the
 * background; every other scenario (malicious, evasive-*, intel) is an attack the real pipelines and
 * analytics alert on. The outside-window scenarios test the window's edge and are left out.
 */
import bundle from './templates.json';
import { SOURCES, type Source } from '../content/sources';
import { eventSpan } from './retime';

export interface TemplateEvent {
  id: string;
  source: Source;
  text: string;
}

export interface Template {
  analytic: 'AN1496' | 'AN1497' | 'AN1498' | 'AN1499' | 'AN1500';
  scenario: string;
  description: string;
  kind: 'attack' | 'benign';
  evasive: boolean;
  events: TemplateEvent[];
  /**
   * Other analytics the scenario's records also trip: AN1500 reads only the sensors, and the sensor
   * records of these attacks are as abnormal as its own scenarios' (self-signed, RSA key exchange,
   * an IDS alert). Found by running the real pipelines and analytics over a generated day; the
   * generator integration test checks every one of them is raised.
   */
  alsoDetectedBy: Array<Template['analytic']>;
  /** Epoch ms of the scenario's events in the fixture. */
  start: number;
  end: number;
}

const ALSO_DETECTED_BY: Record<string, Array<Template['analytic']>> = {
  'an1496/malicious': ['AN1500'],
  'an1498/malicious': ['AN1500'],
  'an1498/intel': ['AN1500'],
  'an1498/evasive-nonstandard-port': ['AN1500'],
  'an1499/evasive-nonstandard-port': ['AN1500'],
};

type Bundle = Record<string, { description: string; events: Array<{ id: string; source: string; text: string }> }>;

function load(): Template[] {
  return Object.entries(bundle as Bundle).map(([key, value]) => {
    const [an, scenario] = key.split('/') as [string, string];
    const events = value.events.map((e) => {
      if (!(SOURCES as readonly string[]).includes(e.source)) throw new Error(`${key}: unknown source ${e.source}`);
      if (/[\r\n]/.test(e.text)) throw new Error(`${key}/${e.id}: a raw record must be one line`);
      return { id: e.id, source: e.source as Source, text: e.text };
    });
    const span = eventSpan(events.map((e) => e.text));
    return {
      analytic: an.toUpperCase() as Template['analytic'],
      scenario,
      description: value.description,
      kind: scenario === 'benign' ? 'benign' : 'attack',
      evasive: scenario.startsWith('evasive-'),
      alsoDetectedBy: ALSO_DETECTED_BY[key] ?? [],
      events,
      ...span,
    };
  });
}

let cache: Template[] | undefined;
export function templates(): Template[] {
  cache ??= load();
  return cache;
}
