import { stopEngine } from '../../src/engine';

/** Stops the engine only if global-setup started it. */
export default async function globalTeardown(): Promise<void> {
  const started = process.env.CRYPTOCHANNEL_TEST_STARTED;
  if (!started) return;
  const { home, port } = JSON.parse(started) as { home: string; port: number };
  await stopEngine(home, port, false, () => undefined);
}
