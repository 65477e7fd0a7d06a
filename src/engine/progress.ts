/** Long steps report what they are doing; the CLI decides how to show it (and --json keeps stdout clean). */
export interface ProgressEvent {
  phase: 'resolve' | 'start' | 'wait' | 'check' | 'stop' | 'apply' | 'generate' | 'ingest' | 'correlate' | 'report' | 'bench';
  message: string;
  elapsedMs: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const silent: ProgressListener = () => undefined;

export function stopwatch(): () => number {
  const started = Date.now();
  return () => Date.now() - started;
}
