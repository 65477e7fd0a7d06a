/**
 * The correlator's log: ECS JSON lines (pino with Elastic's ECS formatter), one object per line on
 * stderr, so that the same Filebeat / Elastic Agent that ships the service's journal can index them
 * without a parser. stdout stays for the command's result (`--json | jq` keeps working).
 */
import { ecsFormat } from '@elastic/ecs-pino-format';
import pino from 'pino';

export type LogFields = Record<string, unknown>;

export interface CorrelatorLog {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface LoggerOptions {
  level?: LogLevel;
  /** Where the lines go: a file descriptor (2 = stderr, the default) or a stream (tests). */
  destination?: number | NodeJS.WritableStream;
}

/**
 * A synchronous destination: a correlator stopped by a signal or a fatal error must not lose the
 * line that says why (pino's asynchronous default can drop the tail on exit).
 */
export function ecsLogger(options: LoggerOptions = {}): CorrelatorLog {
  const dest = options.destination ?? 2;
  const stream = typeof dest === 'number' ? pino.destination({ dest, sync: true }) : dest;
  const logger = pino({ ...ecsFormat({ convertErr: true, apmIntegration: false, serviceName: 'cryptochannel-correlator' }), level: options.level ?? 'info' }, stream);
  return {
    debug: (fields, message) => logger.debug(fields, message),
    info: (fields, message) => logger.info(fields, message),
    warn: (fields, message) => logger.warn(fields, message),
    error: (fields, message) => logger.error(fields, message),
  };
}

export const silentLog: CorrelatorLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
