/**
 * `cryptochannel alerts [--since T] [--json]`: the correlator's alerts, oldest first. With --json,
 * an array of the alert documents exactly as stored (each with its reasons and evidence).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { connect, connectionWarnings, normaliseConnection } from '../../cluster';
import { validateNamespace } from '../../content';
import { searchAlerts } from '../../correlator/alert-search';
import { ANALYTICS } from '../../correlator/types';
import { contextFor } from '../context';
import { UsageError } from '../errors';
import { table } from '../output';
import { parseTime } from './correlate';

type AlertDoc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function render(alerts: AlertDoc[]): string {
  if (!alerts.length) return 'no alerts';
  const rows = alerts.map((a) => ({
    time: a['@timestamp'],
    analytic: a.cryptochannel?.alert?.analytic,
    score: a.cryptochannel?.alert?.score,
    host: a.host?.name ?? a.host?.id ?? a.host?.ip?.[0] ?? '',
    destination: [a.destination?.domain ?? a.destination?.ip, a.destination?.port].filter((x) => x !== undefined).join(':'),
    summary: a.message,
  }));
  return `${table(rows, ['time', 'analytic', 'score', 'host', 'destination', 'summary'])}\n\n${alerts.length} alert(s)`;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('a whole number from 1 to 100000');
  return n;
}

export function alertsCommand(): Command {
  return new Command('alerts')
    .description('list the alerts the correlator wrote, oldest first (filtered on @timestamp, the time of the evidence)')
    .option('--since <time>', 'alerts at or after this time: ISO 8601 or a duration ago (24h, 7d)', (v) => parseTime(v))
    .option('--until <time>', 'alerts before this time', (v) => parseTime(v))
    .option('--namespace <ns>', 'only this namespace (default: every namespace)')
    .addOption(new Option('--analytic <id>', 'only this analytic').choices([...ANALYTICS]))
    .addOption(new Option('--limit <n>', 'at most this many').argParser(parseLimit).default(10_000))
    .action(async (opts: { since?: number; until?: number; namespace?: string; analytic?: string; limit: number }, cmd: Command) => {
      const ctx = contextFor(cmd);
      if (opts.namespace) {
        const problem = validateNamespace(opts.namespace);
        if (problem) throw new UsageError(`--namespace ${opts.namespace}: ${problem}`);
      }
      const options = ctx.connection();
      for (const warning of connectionWarnings(normaliseConnection(options))) ctx.out.warn(warning);
      const client = await connect(options, { onRetry: (e) => ctx.out.warn(`retrying ${e.request.method} ${e.request.path} after: ${e.error.message}`) });
      try {
        const { alerts, truncated } = await searchAlerts(client, { since: opts.since, until: opts.until, namespace: opts.namespace, analytic: opts.analytic, limit: opts.limit });
        if (truncated) ctx.out.warn(`more than ${opts.limit} alerts match: showing the oldest ${opts.limit} (narrow with --since or raise --limit)`);
        ctx.out.result(alerts.map((a) => a._source as AlertDoc), render);
      } finally {
        await client.close();
      }
    });
}
