import os from 'node:os';
import path from 'node:path';
import { ensureInstalled } from '../../src/apply/deploy';
import { connect } from '../../src/cluster';
import { loadContent } from '../../src/content';
import { startEngine } from '../../src/engine';
import { PACKAGE_VERSION } from '../../src/package-info';
import { DEFAULT_TEST_PORT, TEST_ENGINE_VAR, TEST_URL_VAR } from './support/engine-env';

/**
 * Finds or starts the real engine the integration tests run against. With CRYPTOCHANNEL_TEST_URL
 * set (as .ci/run does after `cryptochannel engine start`) it uses that cluster; otherwise it starts
 * one through the same code as `cryptochannel engine start` and global-teardown stops it.
 * There is no fallback: without a real engine the integration project fails.
 *
 * Every test file then starts from a cluster with this version installed, whatever ran before it
 * (jest orders files by earlier timings, so a fresh machine runs them in another order); the files
 * that uninstall install again when they end, and support/leaves-installed.ts fails one that does not.
 */
export default async function globalSetup(): Promise<void> {
  let url = process.env[TEST_URL_VAR];
  if (!url) {
    const port = Number(process.env.CRYPTOCHANNEL_TEST_PORT ?? DEFAULT_TEST_PORT);
    const home = process.env.CRYPTOCHANNEL_HOME ?? path.join(os.homedir(), '.cache', 'cryptochannel');
    const started = await startEngine({
      home,
      flavor: 'opensearch',
      port,
      heap: '1g',
      timeoutMs: 240_000,
      javaHome: process.env.JAVA_HOME,
      env: process.env,
      progress: (e) => process.stderr.write(`[engine] ${e.phase}: ${e.message}\n`),
    });
    url = started.url;
    if (!started.alreadyRunning) process.env.CRYPTOCHANNEL_TEST_STARTED = JSON.stringify({ home, port });
  }
  const client = await connect({ url });
  process.env[TEST_URL_VAR] = url;
  process.env[TEST_ENGINE_VAR] = `${client.flavor} ${client.version}`;
  process.stderr.write(`\n[engine] integration tests run against ${client.flavor} ${client.version} at ${url}\n`);
  await ensureInstalled({ client, content: loadContent(), packageVersion: PACKAGE_VERSION, now: new Date().toISOString() });
  await client.close();
}
