/**
 * `cryptochannel engine start|stop|status` as a user runs it: a real node on its own port and in
 * its own cache folder, and every bad situation the command promises a clear message for.
 */
import { mkdtemp, rm, symlink, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { connect } from '../../src/cluster';
import { ENGINES, EngineError, provisionEngine } from '../../src/engine';
import { runCli } from './support/cli';

const PORT = Number(process.env.CRYPTOCHANNEL_TEST_CLI_PORT ?? 9261);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('cryptochannel engine (CLI, real node)', () => {
  let home: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'cc-engine-cli-'));
    env = { CRYPTOCHANNEL_HOME: home };
  });

  afterAll(async () => {
    await runCli(['engine', 'stop', '--port', String(PORT)], env);
    await rm(home, { recursive: true, force: true });
  });

  it('starts a node with the ingest role, reports it, and stops it leaving nothing running', async () => {
    const start = await runCli(['engine', 'start', '--port', String(PORT), '--json'], env);
    expect(start.stderr).toContain('resolve:'); // progress of the download on stderr, stdout stays JSON
    expect(start.code).toBe(0);
    const info = JSON.parse(start.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({ flavor: 'opensearch', version: ENGINES.opensearch.version, url: `http://127.0.0.1:${PORT}`, already_running: false });
    expect(String(info.home).startsWith(home)).toBe(true);
    expect(existsSync(String(info.log))).toBe(true);
    const pid = Number(info.pid);
    expect(alive(pid)).toBe(true);

    const client = await connect({ url: String(info.url) });
    const { body } = await client.request<{ nodes: Record<string, { roles: string[] }> }>({ method: 'GET', path: '/_nodes/_local' });
    await client.close();
    expect(Object.values(body.nodes)[0]?.roles).toEqual(expect.arrayContaining(['ingest', 'data']));

    const again = await runCli(['engine', 'start', '--port', String(PORT), '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ pid, already_running: true });

    const status = await runCli(['--json', 'engine', 'status'], env);
    expect(JSON.parse(status.stdout)).toEqual([expect.objectContaining({ port: PORT, pid, running: true, health: expect.stringMatching(/green|yellow/) })]);

    const stop = await runCli(['engine', 'stop', '--port', String(PORT), '--json'], env);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ stopped: true, pid });
    expect(alive(pid)).toBe(false);
    expect(await portFree(PORT)).toBe(true);

    const stopAgain = await runCli(['engine', 'stop', '--port', String(PORT)], env);
    expect(stopAgain.code).toBe(0);
    expect(stopAgain.stdout).toContain(`no engine started by cryptochannel on port ${PORT}`);

    // The stopped node's data stays until purged, which works on a stopped node too (what .ci/run
    // does before it starts one, so that no earlier run's indices are there).
    expect(existsSync(String(info.home))).toBe(true);
    const purge = await runCli(['engine', 'stop', '--port', String(PORT), '--purge', '--json'], env);
    expect(purge.code).toBe(0);
    expect(JSON.parse(purge.stdout)).toMatchObject({ stopped: false, purged: true });
    expect(existsSync(String(info.home))).toBe(false);
    const purgeAgain = await runCli(['engine', 'stop', '--port', String(PORT), '--purge', '--json'], env);
    expect(JSON.parse(purgeAgain.stdout)).toMatchObject({ stopped: false, purged: false });
  });

  it('refuses a port that another program holds', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const run = await runCli(['engine', 'start', '--port', String(port)], env);
    server.close();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
  });

  it('says how to install Java when it cannot run it', async () => {
    const run = await runCli(['engine', 'start', '--port', String(PORT)], { ...env, JAVA_HOME: '/nonexistent-jdk' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cannot run '/nonexistent-jdk/bin/java'");
    expect(run.stderr).toMatch(/hint: install a JDK 17 or newer/);
  });

  it('says how to install Maven when the engine is not cached and mvn is missing', async () => {
    const bin = path.join(home, 'bin-without-mvn');
    await mkdir(bin, { recursive: true });
    const java = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).stdout.trim();
    await symlink(process.execPath, path.join(bin, 'node')).catch(() => undefined);
    await symlink(java, path.join(bin, 'java')).catch(() => undefined);
    const emptyHome = await mkdtemp(path.join(os.tmpdir(), 'cc-engine-nomvn-'));
    const run = await runCli(['engine', 'start', '--port', String(PORT)], { CRYPTOCHANNEL_HOME: emptyHome, PATH: bin, JAVA_HOME: '' });
    await rm(emptyHome, { recursive: true, force: true });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cannot run 'mvn'");
    expect(run.stderr).toContain('hint: install Apache Maven');
  });

  it("shows mvn's own error when an artifact cannot be resolved", async () => {
    const def = { ...ENGINES.opensearch, artifact: { ...ENGINES.opensearch.artifact, version: '0.0.0-cryptochannel-missing' } };
    const err = await provisionEngine(home, def, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('resolve_failed');
    expect((err as EngineError).details.output?.join('\n')).toContain('0.0.0-cryptochannel-missing');
    expect(existsSync(path.join(home, 'engines', 'opensearch-0.0.0-cryptochannel-missing', 'lib'))).toBe(false);
  });

  it('prints the log tail and its path when the node dies while starting', async () => {
    const run = await runCli(['engine', 'start', '--port', String(PORT), '--heap', '1m'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the opensearch node exited with code \d+ while starting/);
    expect(run.stderr).toMatch(/last \d+ lines of .*engine\.log/);
    expect(run.stderr).toMatch(/heap/i);
    expect(await portFree(PORT)).toBe(true);
  });

  it('gives up after --timeout, stops the half-started node and says how to wait longer', async () => {
    const run = await runCli(['engine', 'start', '--port', String(PORT), '--timeout', '1s'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('was not ready within 1 s');
    expect(run.stderr).toContain('raise --timeout');
    const status = await runCli(['--json', 'engine', 'status'], env);
    expect(JSON.parse(status.stdout)).toEqual([]);
    const leftovers = spawnSync('pgrep', ['-f', `CryptochannelNode.java ${home}`], { encoding: 'utf8' }).stdout.trim();
    expect(leftovers).toBe('');
  });
});
