import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkCapabilities, clusterHealth, connect, ClusterError, type CapabilityReport, type ClusterClient } from '../cluster';
import { EngineError } from './errors';
import { PACKAGE_ROOT, tailLines } from './files';
import { engineDefinition, FLAVORS, type EngineFlavor } from './flavors';
import { stopwatch, type ProgressListener } from './progress';
import { provisionEngine } from './provision';
import { findJava } from './tools';

export interface EngineStartOptions {
  home: string;
  flavor: EngineFlavor;
  port: number;
  heap: string;
  timeoutMs: number;
  javaHome?: string;
  /** Environment for the Java process; the CLI passes its own. */
  env: Record<string, string | undefined>;
  progress: ProgressListener;
}

/** What `engine start --json` prints and what the state file holds. */
export interface EngineState {
  flavor: EngineFlavor;
  version: string;
  url: string;
  port: number;
  pid: number;
  /** The node's folder: data, node logs, engine.log. */
  home: string;
  /** stdout and stderr of the node process. */
  log: string;
  heap: string;
  startedAt: string;
}

export interface EngineStartResult extends EngineState {
  alreadyRunning: boolean;
  capabilities: CapabilityReport;
}

const LOG_TAIL = 40;
const LAUNCHER_CLASS = 'CryptochannelNode';

function statePath(home: string, port: number): string {
  return path.join(home, 'run', `engine-${port}.json`);
}

export function nodeDir(home: string, flavor: EngineFlavor, port: number): string {
  return path.join(home, 'nodes', `${flavor}-${port}`);
}

export async function readState(home: string, port: number): Promise<EngineState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(home, port), 'utf8')) as EngineState;
  } catch {
    return undefined;
  }
}

/** True only if the pid is alive *and* is the node we started (a recycled pid is somebody else's). */
export function isOurProcess(state: EngineState): boolean {
  try {
    process.kill(state.pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
    return cmdline.includes(LAUNCHER_CLASS) && cmdline.includes(state.home);
  } catch {
    // No /proc (macOS): trust the pid check.
    return true;
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function connectLocal(port: number): Promise<ClusterClient> {
  return connect({ url: `http://127.0.0.1:${port}`, retry: { attempts: 1 }, requestTimeoutMs: 10_000 });
}

export async function startEngine(options: EngineStartOptions): Promise<EngineStartResult> {
  const def = engineDefinition(options.flavor);
  const existing = await readState(options.home, options.port);
  if (existing && isOurProcess(existing)) {
    const client = await connectLocal(options.port);
    try {
      return { ...existing, alreadyRunning: true, capabilities: await checkCapabilities(client) };
    } finally {
      await client.close();
    }
  }
  if (await portInUse(options.port)) {
    throw new EngineError('port_in_use', `port ${options.port} on 127.0.0.1 is already in use by another program`, {
      hint: `choose another port with --port, or stop what listens there (ss -ltnp 'sport = :${options.port}')`,
    });
  }
  const java = findJava(options.javaHome, def.minJavaMajor);
  const engine = await provisionEngine(options.home, def, options.progress);

  const home = nodeDir(options.home, options.flavor, options.port);
  await mkdir(home, { recursive: true });
  const log = path.join(home, 'engine.log');
  const launcher = path.join(PACKAGE_ROOT, 'engine', def.launcher);
  const elapsed = stopwatch();
  options.progress({ phase: 'start', message: `starting ${def.flavor} ${def.version} on 127.0.0.1:${options.port} (log: ${log})`, elapsedMs: 0 });

  const out = openSync(log, 'a');
  const child = spawn(
    java.command,
    [
      `-Xms${options.heap}`,
      `-Xmx${options.heap}`,
      '-XX:+UseG1GC',
      '-XX:-HeapDumpOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      '-Dfile.encoding=UTF-8',
      '-Dlog4j2.formatMsgNoLookups=true',
      '-cp',
      path.join(engine.libDir, '*'),
      launcher,
      path.join(home, 'runner'),
      String(options.port),
      `cryptochannel-${options.port}`,
    ],
    { detached: true, stdio: ['ignore', out, out], env: options.env, cwd: home },
  );
  closeSync(out);
  let exited: number | null | undefined;
  child.on('exit', (code, signal) => {
    exited = code ?? (signal ? 128 : 1);
  });
  child.unref();
  if (child.pid === undefined) throw new EngineError('start_failed', `could not start ${java.command}`, { logPath: log });

  const state: EngineState = {
    flavor: def.flavor,
    version: def.version,
    url: `http://127.0.0.1:${options.port}`,
    port: options.port,
    pid: child.pid,
    home,
    log,
    heap: options.heap,
    startedAt: new Date().toISOString(),
  };
  await mkdir(path.dirname(statePath(options.home, options.port)), { recursive: true });
  await writeFile(statePath(options.home, options.port), JSON.stringify(state, null, 2));

  const failStart = async (error: EngineError): Promise<never> => {
    await stopProcess(state, 10_000).catch(() => undefined);
    await rm(statePath(options.home, options.port), { force: true });
    throw error;
  };

  let client: ClusterClient | undefined;
  let lastReport = 0;
  while (true) {
    if (exited !== undefined) {
      return failStart(
        new EngineError('start_failed', `the ${def.flavor} node exited with code ${exited} while starting`, {
          logPath: log,
          logTail: tailLines(log, LOG_TAIL),
        }),
      );
    }
    if (elapsed() > options.timeoutMs) {
      return failStart(
        new EngineError('timeout', `the ${def.flavor} node was not ready within ${Math.round(options.timeoutMs / 1000)} s`, {
          logPath: log,
          logTail: tailLines(log, LOG_TAIL),
          hint: 'a slow first start is normal on a busy machine: raise --timeout',
        }),
      );
    }
    try {
      client ??= await connectLocal(options.port);
      const health = await clusterHealth(client, 'yellow', 5);
      if (health.status === 'green' || health.status === 'yellow') break;
    } catch (err) {
      if (!(err instanceof ClusterError)) throw err;
      client = undefined;
    }
    if (Date.now() - lastReport > 3000) {
      lastReport = Date.now();
      options.progress({ phase: 'wait', message: 'waiting for the node to report yellow health', elapsedMs: elapsed() });
    }
    await sleep(500);
  }

  try {
    options.progress({ phase: 'check', message: 'checking ingest role, painless, processors, templates, data streams', elapsedMs: elapsed() });
    const capabilities = await checkCapabilities(client);
    if (!capabilities.ok) {
      return await failStart(
        new EngineError(
          'missing_capability',
          `the node lacks what cryptochannel needs: ${capabilities.missing.map((m) => m.capability).join(', ')}`,
          { output: capabilities.missing.map((m) => `${m.capability}: ${m.detail}`), logPath: log },
        ),
      );
    }
    options.progress({ phase: 'check', message: `ready in ${Math.round(elapsed() / 1000)} s`, elapsedMs: elapsed() });
    return { ...state, alreadyRunning: false, capabilities };
  } finally {
    await client.close();
  }
}

/** SIGTERM to the node's process group, SIGKILL if it is still there after the grace period. */
async function stopProcess(state: EngineState, graceMs: number): Promise<'terminated' | 'killed' | 'gone'> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-state.pid, signal);
    } catch {
      try {
        process.kill(state.pid, signal);
      } catch {
        /* already gone */
      }
    }
  };
  const alive = () => {
    try {
      process.kill(state.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return 'gone';
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive()) return 'terminated';
    await sleep(200);
  }
  signalGroup('SIGKILL');
  for (let i = 0; i < 25 && alive(); i++) await sleep(200);
  return 'killed';
}

export interface EngineStopResult {
  port: number;
  stopped: boolean;
  how?: 'terminated' | 'killed' | 'gone';
  purged: boolean;
  reason?: string;
  pid?: number;
}

/** Stops only a node this tool started on that port; anything else on the port is left alone. */
export async function stopEngine(home: string, port: number, purge: boolean, progress: ProgressListener): Promise<EngineStopResult> {
  const state = await readState(home, port);
  if (!state) {
    // Stopped before (a clean stop removes the state file): its data is still there to purge.
    const left = purge ? FLAVORS.map((f) => nodeDir(home, f, port)).filter((dir) => existsSync(dir)) : [];
    for (const dir of left) await rm(dir, { recursive: true, force: true });
    const reason = `no engine started by cryptochannel on port ${port}`;
    return { port, stopped: false, purged: left.length > 0, reason: left.length ? `${reason}; deleted its data (${left.join(', ')})` : reason };
  }
  let result: EngineStopResult;
  if (isOurProcess(state)) {
    progress({ phase: 'stop', message: `stopping ${state.flavor} (pid ${state.pid})`, elapsedMs: 0 });
    const how = await stopProcess(state, 30_000);
    result = { port, stopped: true, how, pid: state.pid, purged: false };
  } else {
    result = { port, stopped: false, pid: state.pid, purged: false, reason: `process ${state.pid} is no longer running; removed its stale state` };
  }
  await rm(statePath(home, port), { force: true });
  if (purge) {
    await rm(state.home, { recursive: true, force: true });
    result.purged = true;
  }
  return result;
}

export interface EngineStatus extends EngineState {
  running: boolean;
  health?: string;
  error?: string;
}

export async function engineStatus(home: string, port?: number): Promise<EngineStatus[]> {
  const runDir = path.join(home, 'run');
  const ports = port !== undefined
    ? [port]
    : existsSync(runDir)
      ? (await readdir(runDir)).map((f) => /^engine-(\d+)\.json$/.exec(f)?.[1]).filter((p): p is string => !!p).map(Number)
      : [];
  const statuses: EngineStatus[] = [];
  for (const p of ports.sort((a, b) => a - b)) {
    const state = await readState(home, p);
    if (!state) continue;
    const status: EngineStatus = { ...state, running: isOurProcess(state) };
    if (status.running) {
      try {
        const client = await connectLocal(p);
        try {
          status.health = (await clusterHealth(client)).status;
        } finally {
          await client.close();
        }
      } catch (err) {
        status.error = err instanceof Error ? err.message : String(err);
      }
    }
    statuses.push(status);
  }
  return statuses;
}
