/**
 * `cryptochannel generate`: seeded raw telemetry for a small fleet, one file per source in that
 * source's own raw shape, plus a ground-truth file. Attack scenarios are the analytics' raw golden
 * inputs (every malicious, evasive and threat-intel scenario, once per day), benign background the
 * benign ones; each instance is retimed into the period and re-addressed to fleet hosts (fleet.ts).
 * Events are written as they are made (no list of all events), so memory does not grow with --events.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Source } from '../content/sources';
import { ATTACK_CLONES, buildFleet, hostAliases, INFRASTRUCTURE, VCENTER, type FleetHost, type Identity } from './fleet';
import { createRandom, type Random } from './random';
import { identitiesIn, readdress } from './readdress';
import { shiftTimes } from './retime';
import { SourceFiles } from './sink';
import { templates, type Template } from './templates';

export interface GenerateOptions {
  events: number;
  seed: number;
  /** Length of the period in days (default 1). */
  days?: number;
  /** ISO start of the period; default: `now` − days, on a whole minute. */
  start?: string;
  /** The clock for the default start (tests pin it). */
  now?: Date;
  outDir: string;
  onProgress?: (written: number) => void;
}

export interface GeneratedTelemetry {
  files: Array<{ source: Source; path: string; events: number }>;
  groundTruthPath: string;
  attacks: number;
  benignHosts: string[];
}

export interface GroundTruthAttack {
  id: string;
  analytic: Template['analytic'];
  scenario: string;
  evasive: boolean;
  description: string;
  /** For a second analytic's view of one attack (AN1500 on the sensor records): the attack's first entry. */
  same_attack_as?: string;
  /** Host names and IPs the alert's host.* may carry. */
  hosts: string[];
  start: string;
  end: string;
}

export interface GroundTruth {
  seed: number;
  events: number;
  start: string;
  end: string;
  attacks: GroundTruthAttack[];
  benign_hosts: string[];
  /** Shared infrastructure every scenario talks to (never an alert's host). */
  infrastructure: string[];
  /**
   * Entries to ADD to these list tunables (`tune set KEY <live list + these>`) before correlating:
   * the fleet's vCenter is a management host its ESXi hosts talk to (not in the defaults).
   */
  tuning: { BaselineMgmtHosts: string[] };
}

const DAY_MS = 86_400_000;
/** Room left after each attack in its slot, so that no two attacks share a correlation window. */
const ATTACK_GAP_MS = 20 * 60_000;
const PROGRESS_EVERY = 10_000;

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export function validateOptions(options: GenerateOptions): { days: number; start: number } {
  if (!Number.isSafeInteger(options.events) || options.events < 0) throw new Error(`events must be a whole number ≥ 0, not ${options.events}`);
  if (!Number.isSafeInteger(options.seed)) throw new Error(`seed must be a whole number, not ${options.seed}`);
  const days = options.days ?? 1;
  if (!(days > 0) || !Number.isFinite(days)) throw new Error(`days must be > 0, not ${days}`);
  let start: number;
  if (options.start !== undefined) {
    start = Date.parse(options.start);
    if (Number.isNaN(start)) throw new Error(`start is not an ISO time: ${options.start}`);
  } else {
    const now = (options.now ?? new Date()).getTime();
    start = Math.floor((now - days * DAY_MS) / 60_000) * 60_000;
  }
  return { days, start };
}

const iso = (ms: number): string => new Date(ms).toISOString();

export async function generateTelemetry(options: GenerateOptions): Promise<GeneratedTelemetry> {
  const { days, start } = validateOptions(options);
  const period = Math.round(days * DAY_MS);
  const end = start + period;
  await mkdir(options.outDir, { recursive: true });
  const all = templates();
  const identities = new Map<Template, Identity[]>(all.map((t) => [t, identitiesIn(t.events.map((e) => e.text))]));
  const fleet = buildFleet();
  const files = new SourceFiles(options.outDir);
  let written = 0;
  let reported = 0;
  const progress = (): void => {
    if (options.onProgress && written - reported >= PROGRESS_EVERY) {
      reported = written;
      options.onProgress(written);
    }
  };

  const emit = async (t: Template, hosts: Map<string, FleetHost>, offsetSeconds: number, random: Random, limit = Infinity): Promise<void> => {
    const texts = readdress(
      t.events.map((e) => e.text),
      hosts,
      random,
    );
    const n = Math.min(limit, texts.length);
    for (let i = 0; i < n; i++) {
      await files.write(t.events[i]!.source, shiftTimes(texts[i]!, offsetSeconds));
      written++;
      progress();
    }
  };

  try {
    // Attacks: every attack scenario once a day, in shuffled order, one to a slot of the period.
    const planRandom = createRandom(options.seed, 'plan');
    // An attack whose records name no host (a unified-log-only scenario) cannot be told from another
    // host's: its alert carries no host.*, so the ground truth could not attribute it. Left out.
    const attackTemplates = all.filter((t) => t.kind === 'attack' && identities.get(t)!.length > 0);
    const plan = shuffle(
      Array.from({ length: Math.ceil(days) }, () => attackTemplates).flat(),
      planRandom,
    );
    const slot = period / Math.max(1, plan.length);
    const clonesUsed = new Map<string, number>();
    const attacks: GroundTruthAttack[] = [];
    for (const [i, t] of plan.entries()) {
      const room = Math.max(0, slot - (t.end - t.start) - ATTACK_GAP_MS);
      const at = start + i * slot + planRandom.next() * room;
      const offset = Math.round((at - t.start) / 1000);
      const hosts = new Map<string, FleetHost>();
      for (const identity of identities.get(t)!) {
        const k = clonesUsed.get(identity.key) ?? 0;
        clonesUsed.set(identity.key, k + 1);
        hosts.set(identity.key, fleet.attack.get(identity.key)![k % ATTACK_CLONES]!);
      }
      await emit(t, hosts, offset, createRandom(options.seed, `attack-${i}`));
      const id = `attack-${String(i + 1).padStart(3, '0')}`;
      const entry = {
        id,
        analytic: t.analytic,
        scenario: t.scenario,
        evasive: t.evasive,
        description: t.description,
        hosts: [...new Set([...hosts.values()].flatMap(hostAliases))].sort(),
        start: iso(t.start + offset * 1000),
        end: iso(t.end + offset * 1000),
      };
      attacks.push(entry);
      for (const analytic of t.alsoDetectedBy) attacks.push({ ...entry, id: `${id}-${analytic.toLowerCase()}`, analytic, same_attack_as: id });
    }

    // Benign background: benign scenarios on benign hosts at random times until --events is reached.
    // Round r of the benign scenarios plays in the r-th of `rounds` equal parts of the period, at a
    // random time in its first half, so two plays of one scenario are at least half a part apart.
    const benignTemplates = all.filter((t) => t.kind === 'benign');
    const roundSize = benignTemplates.reduce((n, t) => n + t.events.length, 0);
    const rounds = Math.max(1, Math.ceil(Math.max(0, options.events - written) / roundSize));
    const longest = Math.max(...benignTemplates.map((t) => t.end - t.start));
    const part = Math.max(0, period - longest) / rounds;
    const usedBenign = new Map<string, FleetHost>();
    for (let k = 0; written < options.events; k++) {
      const t = benignTemplates[k % benignTemplates.length]!;
      const random = createRandom(options.seed, `benign-${k}`);
      const round = Math.floor(k / benignTemplates.length);
      const at = start + (round + random.next() / 2) * part;
      const hosts = new Map<string, FleetHost>();
      for (const identity of identities.get(t)!) {
        const host = random.pick(fleet.benign.get(identity.key)!);
        hosts.set(identity.key, host);
        usedBenign.set(host.name, host);
      }
      await emit(t, hosts, Math.round((at - t.start) / 1000), random, options.events - written);
    }

    const out = await files.close();
    if (options.onProgress && reported !== written) options.onProgress(written);
    const benignHosts = [...usedBenign.values()].flatMap(hostAliases).sort();
    const truth: GroundTruth = {
      seed: options.seed,
      events: written,
      start: iso(start),
      end: iso(end),
      attacks,
      benign_hosts: benignHosts,
      infrastructure: INFRASTRUCTURE,
      tuning: { BaselineMgmtHosts: [VCENTER] },
    };
    const groundTruthPath = path.join(options.outDir, 'ground-truth.json');
    await writeFile(groundTruthPath, `${JSON.stringify(truth, null, 2)}\n`);
    return { files: out, groundTruthPath, attacks: attacks.length, benignHosts };
  } catch (err) {
    files.destroy();
    throw err;
  }
}
