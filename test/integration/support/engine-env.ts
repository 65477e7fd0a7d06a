/**
 * How integration tests find the real engine: global-setup starts one (or takes
 * CRYPTOCHANNEL_TEST_URL) and leaves its URL and identity in these variables for the workers.
 */
export const TEST_URL_VAR = 'CRYPTOCHANNEL_TEST_URL';
export const TEST_ENGINE_VAR = 'CRYPTOCHANNEL_TEST_ENGINE';
export const DEFAULT_TEST_PORT = 9250;

export function testUrl(): string {
  const url = process.env[TEST_URL_VAR];
  if (!url) throw new Error(`${TEST_URL_VAR} is not set: integration tests run through jest's global setup`);
  return url;
}

/** "opensearch 2.19.1": shown in test titles so the summary says which real engine ran them. */
export function testEngineLabel(): string {
  return process.env[TEST_ENGINE_VAR] ?? 'unknown engine';
}

let counter = 0;
/** Unique, lower-case names so parallel workers and reruns never collide. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`.toLowerCase();
}
