import type { Command } from 'commander';
import { loadConfigFile, resolveConnection, resolveHome, type ConfigFile, type ConnectionFlags, type Env } from '../config/settings';
import type { ConnectionOptions } from '../cluster/connection';
import { createOutput, type Output } from './output';

/** What every command gets: output, the resolved settings, and the environment (read only here). */
export interface CommandContext {
  out: Output;
  env: Env;
  home: string;
  config: ConfigFile;
  connection(): ConnectionOptions;
}

export interface GlobalOptions extends ConnectionFlags {
  json?: boolean;
  config?: string;
}

export function contextFor(command: Command): CommandContext {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const env = process.env;
  const config = loadConfigFile(opts.config, env);
  return {
    out: createOutput(opts.json === true),
    env,
    home: resolveHome(env, config),
    config,
    connection: () => resolveConnection(opts, env, config),
  };
}
