/**
 * Settings resolution: flags > environment (CRYPTOCHANNEL_*) > config file > defaults.
 * Pure over its inputs; the CLI hands in argv-derived flags, process.env and the file's text.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ConnectionOptions } from '../cluster/connection';

export type Env = Record<string, string | undefined>;

export interface ConnectionFlags {
  url?: string;
  kibanaUrl?: string;
  kibanaSpace?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  ca?: string;
}

/** Keys a config file may hold (YAML), snake_case as in the environment. */
export interface ConfigFile {
  url?: string;
  kibana_url?: string;
  kibana_space?: string;
  api_key?: string;
  username?: string;
  password?: string;
  ca?: string;
  home?: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:9200';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const FILE_KEYS = new Set(['url', 'kibana_url', 'kibana_space', 'api_key', 'username', 'password', 'ca', 'home']);

export function parseConfigFile(text: string, source: string): ConfigFile {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`${source}: expected a mapping of settings`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!FILE_KEYS.has(key)) throw new ConfigError(`${source}: unknown setting '${key}' (known: ${[...FILE_KEYS].join(', ')})`);
    if (typeof value !== 'string') throw new ConfigError(`${source}: '${key}' must be a string`);
    out[key] = value;
  }
  return out as ConfigFile;
}

/** Where the config file is looked for when no --config is given. */
export function defaultConfigPath(env: Env): string {
  return path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'cryptochannel', 'config.yaml');
}

export function loadConfigFile(file: string | undefined, env: Env): ConfigFile {
  const explicit = file ?? env.CRYPTOCHANNEL_CONFIG;
  const target = explicit ?? defaultConfigPath(env);
  let text: string;
  try {
    text = readFileSync(target, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read config file ${target}: ${(err as Error).message}`);
  }
  return parseConfigFile(text, target);
}

function pick<T>(...values: Array<T | undefined>): T | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

export function resolveConnection(flags: ConnectionFlags, env: Env, file: ConfigFile): ConnectionOptions {
  const caPath = pick(flags.ca, env.CRYPTOCHANNEL_CA, file.ca);
  let ca: string | undefined;
  if (caPath) {
    try {
      ca = readFileSync(caPath, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read CA file ${caPath}: ${(err as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`CA file ${caPath} holds no PEM certificate`);
  }
  return {
    url: pick(flags.url, env.CRYPTOCHANNEL_URL, file.url) ?? DEFAULT_URL,
    kibanaUrl: pick(flags.kibanaUrl, env.CRYPTOCHANNEL_KIBANA_URL, file.kibana_url),
    kibanaSpace: pick(flags.kibanaSpace, env.CRYPTOCHANNEL_KIBANA_SPACE, file.kibana_space),
    apiKey: pick(flags.apiKey, env.CRYPTOCHANNEL_API_KEY, file.api_key),
    username: pick(flags.username, env.CRYPTOCHANNEL_USERNAME, file.username),
    password: pick(flags.password, env.CRYPTOCHANNEL_PASSWORD, file.password),
    ca,
  };
}

/** The cache for engines and their data: CRYPTOCHANNEL_HOME, else ~/.cache/cryptochannel. */
export function resolveHome(env: Env, file: ConfigFile): string {
  return pick(env.CRYPTOCHANNEL_HOME, file.home) ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cryptochannel');
}
