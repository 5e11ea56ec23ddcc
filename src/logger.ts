import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs, one object per line, on stdout unless told otherwise. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'inflow', ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
