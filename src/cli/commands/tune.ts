import { Command } from 'commander';
import { getLiveTunables, pullFromKibana, setLiveTunable, type LiveTunables, type PullResult, type TuneResult } from '../../apply/tune';
import { getTunable, parseTunableValue } from '../../plan/tunables-edit';
import { stringify } from 'yaml';
import { withDeployment } from '../deploy-session';
import { UsageError } from '../errors';

function renderGet(key: string | undefined) {
  return (r: LiveTunables & { value?: unknown }) => {
    const head = r.source === 'cluster' ? `# live tunables, revision ${r.revision}, updated ${r.updated_at ?? '?'} by ${r.updated_by ?? '?'}` : '# not installed on this cluster: the shipped defaults';
    return `${head}\n${stringify(key ? { [key]: r.value } : r.tunables).trimEnd()}`;
  };
}

function renderSet(r: TuneResult): string {
  const changed = r.pipelines.filter((p) => p.status === 'done').length;
  const failed = r.pipelines.filter((p) => p.status === 'failed');
  return [
    `${r.key}: ${JSON.stringify(r.previous)} -> ${JSON.stringify(r.value)} (revision ${r.revision})`,
    `${changed} asset(s) re-rendered with the new value; the correlator uses it from its next run`,
    ...(r.kibana ? [`Kibana exception list items: ${r.kibana.added} added, ${r.kibana.removed} removed (analysts' own items kept)`] : []),
    ...failed.map((f) => `FAILED ${f.name}: ${String(f.error?.message ?? '')}`),
  ].join('\n');
}

export function tuneCommand(): Command {
  const tune = new Command('tune').description('read or change the live tunables (validated against the schema before writing)');
  tune
    .command('get')
    .argument('[key]', 'a tunable (dotted for a field of an object tunable); all when omitted')
    .action(async (key: string | undefined, _opts: unknown, cmd: Command) => {
      await withDeployment(cmd, false, async (deploy, ctx) => {
        const live = await getLiveTunables(deploy.client, deploy.content);
        const value = key ? getTunable(live.tunables as unknown as Record<string, unknown>, key) : undefined;
        if (key && value === undefined) throw new UsageError(`no tunable ${key} (known: ${Object.keys(live.tunables).join(', ')})`);
        ctx.out.result({ ...live, ...(key ? { key, value } : {}) }, renderGet(key));
      });
    });
  tune
    .command('set')
    .argument('<key>', 'a tunable (dotted for a field of an object tunable)')
    .argument('<value>', 'the new value, as YAML: 7.5, "[a.example, b.example]", "{min_rsa_key_bits: 3072}"')
    .action(async (key: string, value: string, _opts: unknown, cmd: Command) => {
      await withDeployment(cmd, false, async (deploy, ctx) => {
        ctx.out.result(await setLiveTunable(deploy, key, parseTunableValue(value), 'cryptochannel tune'), renderSet);
      });
    });
  tune
    .command('pull')
    .description("read the allow-lists analysts edited as Kibana exception lists into the live tunables (needs --kibana-url)")
    .action(async (_opts: unknown, cmd: Command) => {
      await withDeployment(cmd, false, async (deploy, ctx) => {
        ctx.out.result(await pullFromKibana(deploy), renderPull);
      });
    });
  return tune;
}

function renderPull(r: PullResult): string {
  const lines = r.changed.length
    ? [`revision ${r.revision}:`, ...r.changed.map((c) => `  ${c.key}: ${JSON.stringify(c.previous)} -> ${JSON.stringify(c.value)}`)]
    : ['the live tunables already match the Kibana exception lists'];
  for (const i of r.ignored) lines.push(`  ignored ${i.list_id}/${i.item_id}: ${i.reason}`);
  return lines.join('\n');
}
