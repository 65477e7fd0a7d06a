/** How to reach a cluster. Filled by src/config from flags, env and the config file. */
export interface ConnectionOptions {
  url: string;
  kibanaUrl?: string;
  /** Kibana space for rules, exception lists and saved objects; `default` when absent. */
  kibanaSpace?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  /** PEM text of the CA that signs the cluster's certificate; verification is always on. */
  ca?: string;
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface RetryPolicy {
  /** Total tries, the first one included. */
  attempts: number;
  startingDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, startingDelayMs: 250, maxDelayMs: 8000 };

export interface NormalisedConnection {
  /** The URL without any user-info part: safe to print. */
  url: string;
  auth?: { apiKey: string } | { username: string; password: string };
  ca?: string;
  requestTimeoutMs: number;
  retry: RetryPolicy;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Moves credentials out of the URL (http://user:pass@host) into the auth options, so that the
 * URL can be shown anywhere; explicit options win over URL user-info.
 */
export function normaliseConnection(options: ConnectionOptions): NormalisedConnection {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new TypeError(`not a valid cluster URL: ${redactUrl(options.url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`cluster URL must start with http:// or https://, got ${parsed.protocol}`);
  }
  const urlUser = decodeURIComponent(parsed.username);
  const urlPassword = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const url = parsed.toString().replace(/\/$/, '');

  let auth: NormalisedConnection['auth'];
  if (options.apiKey) auth = { apiKey: options.apiKey };
  else if (options.username) auth = { username: options.username, password: options.password ?? '' };
  else if (urlUser) auth = { username: urlUser, password: urlPassword };

  return {
    url,
    auth,
    ca: options.ca,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    retry: { ...DEFAULT_RETRY, ...options.retry },
  };
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}

export function isLoopback(url: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(url).hostname) || new URL(url).hostname.startsWith('127.');
  } catch {
    return false;
  }
}

/** Things a careful operator wants to hear before the first request goes out. */
export function connectionWarnings(conn: NormalisedConnection): string[] {
  const warnings: string[] = [];
  if (conn.auth && conn.url.startsWith('http://') && !isLoopback(conn.url)) {
    warnings.push(
      `credentials will be sent in clear text to ${conn.url}: use https:// (with --ca if the certificate is private)`,
    );
  }
  return warnings;
}
