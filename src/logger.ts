import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs, one object per line, on stdout. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'inflow', ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
