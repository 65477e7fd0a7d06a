export type EngineErrorCode =
  | 'missing_tool'
  | 'unsupported'
  | 'port_in_use'
  | 'resolve_failed'
  | 'start_failed'
  | 'timeout'
  | 'missing_capability';

/** A failure to provision or run a local engine, with what the user can do about it. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly details: { hint?: string; logPath?: string; logTail?: string[]; output?: string[] } = {},
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
