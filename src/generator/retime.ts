/**
 * Moves every time in a raw record's text by a whole number of seconds, in whatever form the source
 * writes it: ISO 8601 or naive "YYYY-MM-DD HH:MM:SS" (any zone suffix and fraction kept as written),
 * and epoch numbers in seconds, milliseconds or nanoseconds (not 16 digits: Suricata flow ids look like microseconds) (fraction kept). Certificate
 * validity dates move too, so "expired" / "valid for N days" stay what they were at the event's time.
 */

const DATETIME = /(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2}):(\d{2})/g;
/** 10, 13 or 19 digits from 2014 to 2039 as a whole token (not inside a hex string or a longer number). */
const EPOCH = /(?<![\w.])(1[4-9]|2[0-1])(\d{8}|\d{11}|\d{17})(?![\w])/g;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function shiftDateTime(match: string[], seconds: number): string {
  const [, y, mo, d, sep, h, mi, s] = match as [string, string, string, string, string, string, string, string];
  const t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) + seconds * 1000;
  const x = new Date(t);
  return `${x.getUTCFullYear()}-${pad(x.getUTCMonth() + 1)}-${pad(x.getUTCDate())}${sep}${pad(x.getUTCHours())}:${pad(x.getUTCMinutes())}:${pad(x.getUTCSeconds())}`;
}

const UNIT: Record<number, bigint> = { 10: 1n, 13: 1000n, 19: 1000000000n };

export function shiftTimes(text: string, seconds: number): string {
  if (seconds === 0) return text;
  const shifted = text.replace(DATETIME, (...m: string[]) => shiftDateTime(m, seconds));
  return shifted.replace(EPOCH, (whole: string) => (BigInt(whole) + BigInt(seconds) * UNIT[whole.length]!).toString());
}

/** Every time the text holds, in epoch milliseconds (fractions dropped), for finding a record's span. */
export function timesIn(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(DATETIME)) {
    const [, y, mo, d, , h, mi, s] = m as unknown as string[];
    out.push(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
  }
  for (const m of text.matchAll(EPOCH)) {
    const n = BigInt(m[0]);
    out.push(m[0].length === 10 ? Number(n) * 1000 : Number((n * 1000n) / UNIT[m[0].length]!));
  }
  return out;
}

/**
 * The span of a scenario's events: the times within an hour of their median (a certificate's
 * validity dates and a parent process's start are times too, but hours or years away from the events).
 */
export function eventSpan(texts: readonly string[]): { start: number; end: number } {
  const all = texts.flatMap(timesIn).sort((a, b) => a - b);
  if (all.length === 0) throw new Error('a scenario without any time');
  const median = all[Math.floor(all.length / 2)]!;
  const near = all.filter((t) => Math.abs(t - median) <= 3600_000);
  return { start: near[0]!, end: near[near.length - 1]! };
}
