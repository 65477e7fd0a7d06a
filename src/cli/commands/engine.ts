import { Command, Option } from 'commander';
import { engineStatus, FLAVORS, startEngine, stopEngine, type EngineFlavor, type EngineStartResult, type EngineStatus, type EngineStopResult } from '../../engine';
import { contextFor } from '../context';
import { table } from '../output';
import { parseDuration, parseHeap, parsePort } from '../parsers';

function renderStart(r: EngineStartResult): string {
  return [
    `${r.flavor} ${r.version} ${r.alreadyRunning ? 'was already running' : 'is running'} at ${r.url} (pid ${r.pid})`,
    `  node folder: ${r.home}`,
    `  log:         ${r.log}`,
    `  checked:     ${r.capabilities.present.join(', ')}`,
    `stop it with: cryptochannel engine stop --port ${r.port}`,
  ].join('\n');
}

function renderStop(r: EngineStopResult): string {
  if (!r.stopped) return r.reason ?? `nothing to stop on port ${r.port}`;
  return `stopped the engine on port ${r.port} (pid ${r.pid}, ${r.how})${r.purged ? '; its data was deleted' : ''}`;
}

function renderStatus(list: EngineStatus[]): string {
  if (!list.length) return 'no engine started by cryptochannel';
  return table(
    list.map((s) => ({ ...s, state: s.running ? (s.health ?? `unreachable: ${s.error ?? ''}`) : 'stopped' })),
    ['flavor', 'version', 'url', 'pid', 'state', 'log'],
  );
}

export function engineCommand(): Command {
  const engine = new Command('engine').description('run a local Elasticsearch-compatible engine for the demo, the tests and development');

  engine
    .command('start')
    .description('download (once) and start a local engine on 127.0.0.1, then check it has what cryptochannel needs')
    .addOption(new Option('--flavor <flavor>', 'which engine').choices(FLAVORS).default('opensearch'))
    .option('--port <port>', 'HTTP port', parsePort, 9200)
    .option('--heap <size>', 'Java heap', parseHeap, '1g')
    .option('--timeout <duration>', 'how long to wait for the node to be ready', parseDuration, 180_000)
    .action(async (opts: { flavor: EngineFlavor; port: number; heap: string; timeout: number }, cmd: Command) => {
      const ctx = contextFor(cmd);
      const result = await startEngine({
        home: ctx.home,
        flavor: opts.flavor,
        port: opts.port,
        heap: opts.heap,
        timeoutMs: opts.timeout,
        javaHome: ctx.env.JAVA_HOME,
        env: ctx.env,
        progress: (e) => ctx.out.progress(e),
      });
      ctx.out.result(
        ctx.out.json
          ? { flavor: result.flavor, version: result.version, url: result.url, pid: result.pid, home: result.home, log: result.log, port: result.port, already_running: result.alreadyRunning }
          : result,
        ctx.out.json ? (d) => JSON.stringify(d) : () => renderStart(result),
      );
    });

  engine
    .command('stop')
    .description('stop the engine this tool started on a port (never anything else)')
    .option('--port <port>', 'HTTP port', parsePort, 9200)
    .option('--purge', 'also delete the node\'s data and logs (of a node stopped earlier too)', false)
    .action(async (opts: { port: number; purge: boolean }, cmd: Command) => {
      const ctx = contextFor(cmd);
      const result = await stopEngine(ctx.home, opts.port, opts.purge, (e) => ctx.out.progress(e));
      ctx.out.result(result, renderStop);
    });

  engine
    .command('status')
    .description('list the engines this tool started and their health')
    .option('--port <port>', 'only this port', parsePort)
    .action(async (opts: { port?: number }, cmd: Command) => {
      const ctx = contextFor(cmd);
      ctx.out.result(await engineStatus(ctx.home, opts.port), renderStatus);
    });

  return engine;
}
