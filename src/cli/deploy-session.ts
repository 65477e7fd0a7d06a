/**
 * The connection and context every deployer command (plan, apply, status, uninstall, tune) opens:
 * warnings about the connection, the content, the version, and the client closed afterwards.
 */
import type { Command } from 'commander';
import type { DeployContext } from '../apply/deploy';
import { connect, connectionWarnings, kibanaClient, normaliseConnection, type KibanaClient, type RetryEvent } from '../cluster';
import { loadContent } from '../content';
import { PACKAGE_VERSION } from '../package-info';
import { contextFor, type CommandContext } from './context';

export async function withDeployment<T>(cmd: Command, force: boolean, run: (deploy: DeployContext, ctx: CommandContext) => Promise<T>): Promise<T> {
  const ctx = contextFor(cmd);
  const options = ctx.connection();
  for (const warning of connectionWarnings(normaliseConnection(options))) ctx.out.warn(warning);
  const onRetry = (e: RetryEvent) => ctx.out.warn(`retrying ${e.request.method} ${e.request.path} after: ${e.error.message}`);
  const client = await connect(options, { onRetry });
  let kibana: KibanaClient | undefined;
  if (options.kibanaUrl) {
    for (const warning of connectionWarnings(normaliseConnection({ ...options, url: options.kibanaUrl }))) ctx.out.warn(`Kibana: ${warning}`);
    if (client.flavor === 'opensearch') ctx.out.warn('--kibana-url names a Kibana, but the cluster is OpenSearch: Kibana works with Elasticsearch only');
    kibana = kibanaClient({ ...options, kibanaUrl: options.kibanaUrl, space: options.kibanaSpace }, { onRetry });
  }
  try {
    return await run({ client, content: loadContent(), packageVersion: PACKAGE_VERSION, now: new Date().toISOString(), force, kibana }, ctx);
  } finally {
    await client.close();
    await kibana?.close();
  }
}
