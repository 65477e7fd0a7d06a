import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { indexIndicators } from '../../apply/engine-apply';
import { parseIntelList, THREAT_INTEL_INDEX } from '../../content';
import { withDeployment } from '../deploy-session';
import { table } from '../output';

interface IntelReport {
  index: string;
  files: Array<{ file: string; indicators: number }>;
  indexed: number;
}

export function intelCommand(): Command {
  const intel = new Command('intel').description('manage the threat-intel index the correlator scores against');
  intel
    .command('load')
    .description('load newer copies of the abuse.ch SSLBL JA3 or certificate lists (CSV as published); idempotent')
    .argument('<files...>', 'list files')
    .action(async (files: string[], _opts: unknown, cmd: Command) => {
      // Parse everything first: a malformed file loads nothing rather than half a list.
      const parsed = await Promise.all(files.map(async (f) => ({ file: f, docs: parseIntelList(path.resolve(f), await readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new Error(`cannot read ${f}: ${e.code ?? e.message}`); })) })));
      await withDeployment(cmd, false, async (deploy, ctx) => {
        const indexed = await indexIndicators(deploy.client, parsed.flatMap((p) => p.docs));
        const report: IntelReport = { index: THREAT_INTEL_INDEX, files: parsed.map((p) => ({ file: p.file, indicators: p.docs.length })), indexed };
        ctx.out.result(report, (r) => `${table(r.files.map((f) => ({ ...f })), ['file', 'indicators'])}\n\n${r.indexed} indicators in ${r.index}`);
      });
    });
  return intel;
}
