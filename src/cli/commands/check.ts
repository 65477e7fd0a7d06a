import { Command } from 'commander';
import { checkCapabilities, connect, connectionWarnings, normaliseConnection, type CapabilityReport } from '../../cluster';
import { contextFor } from '../context';

export interface CheckResult {
  url: string;
  flavor: string;
  version: string;
  cluster_name: string;
  capabilities: CapabilityReport;
}

function render(r: CheckResult): string {
  const lines = [`${r.flavor} ${r.version} (cluster ${r.cluster_name}) at ${r.url}`];
  for (const c of r.capabilities.present) lines.push(`  ok       ${c}`);
  for (const m of r.capabilities.missing) lines.push(`  MISSING  ${m.capability}: ${m.detail}`);
  return lines.join('\n');
}

/** Connects with the usual options and reports whether the cluster can run cryptochannel's content. */
export function checkCommand(): Command {
  return new Command('check')
    .description('connect to the cluster and check it has what cryptochannel needs')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextFor(cmd);
      const options = ctx.connection();
      for (const warning of connectionWarnings(normaliseConnection(options))) ctx.out.warn(warning);
      const client = await connect(options, { onRetry: (e) => ctx.out.warn(`retrying ${e.request.method} ${e.request.path} after: ${e.error.message}`) });
      try {
        const result: CheckResult = {
          url: client.url,
          flavor: client.flavor,
          version: client.version,
          cluster_name: client.clusterName,
          capabilities: await checkCapabilities(client),
        };
        ctx.out.result(result, render);
        if (!result.capabilities.ok) process.exitCode = 1;
      } finally {
        await client.close();
      }
    });
}
