/**
 * One named logger per module; everything goes to stderr so stdout stays
 * clean for results. Level from SYNKER_LOG (error|warn|info|debug), default
 * info; `--debug` on the CLI sets debug.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

let threshold: LogLevel = parseLevel(process.env.SYNKER_LOG) ?? 'info';

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && value in ORDER ? (value as LogLevel) : undefined;
}

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/** The level in force (for threads, which start with their own copy of this module). */
export function currentLogLevel(): LogLevel {
  return threshold;
}

export function isLogLevelEnabled(level: LogLevel): boolean {
  return ORDER[level] <= ORDER[threshold];
}

export interface Logger {
  error(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  debug(message: string, ...details: unknown[]): void;
}

export function createLogger(name: string): Logger {
  const write = (level: LogLevel, message: string, details: unknown[]): void => {
    if (!isLogLevelEnabled(level)) return;
    const extra = details.length === 0 ? '' : ` ${details.map(formatDetail).join(' ')}`;
    process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} [${name}] ${message}${extra}\n`);
  };
  return {
    error: (m, ...d) => write('error', m, d),
    warn: (m, ...d) => write('warn', m, d),
    info: (m, ...d) => write('info', m, d),
    debug: (m, ...d) => write('debug', m, d),
  };
}

function formatDetail(detail: unknown): string {
  if (detail instanceof Error) return isLogLevelEnabled('debug') && detail.stack ? detail.stack : detail.message;
  if (typeof detail === 'string') return detail;
  try {
    return JSON.stringify(detail);
  } catch {
    return String(detail);
  }
}
