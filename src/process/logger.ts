import { pino, type Logger } from 'pino';

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LogOptions {
  level: string;
  format: LogFormat;
  /** Where lines go; stdout by default. Tests pass a collector. */
  stream?: { write(line: string): unknown };
  /** Whether `auto` means pretty; defaults to "stdout is a terminal". */
  isTerminal?: boolean;
}

const REDACTED = '[redacted]';

// Credentials are sealed in `Credentials` and print as [redacted] on their
// own; these paths catch a plain string that someone logs by mistake.
const SECRET_KEYS = ['api_key', 'api_secret', 'apiKey', 'secret', 'passphrase', 'password', 'node_auth_secret', 'token', 'authorization'];
const HEADER_KEYS = ['["x-center-token"]', '["x-center-signature"]'];
// One level of nesting: each wildcard level costs on every log line.
const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), ...HEADER_KEYS, ...HEADER_KEYS.map((k) => `*${k}`)];

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One JSON log line as `12:00:01.234 INFO  message key=value …` for a terminal. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry['time'] === 'number' ? new Date(entry['time']).toISOString().slice(11, 23) : '';
  const level = (LEVEL_NAMES[Number(entry['level'])] ?? String(entry['level'])).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !OMIT.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? (/\s/.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value)}`);
  return `${time} ${level} ${String(entry['msg'] ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}

/**
 * The process logger: JSON lines (one object per line) or, on a terminal, a
 * readable form. Secrets are redacted by construction (see `Credentials`)
 * and again by key name.
 */
export function createLogger(options: LogOptions): Logger {
  const stream = options.stream ?? process.stdout;
  const pretty = options.format === 'pretty' || (options.format === 'auto' && (options.isTerminal ?? process.stdout.isTTY === true));
  const destination = pretty ? { write: (line: string) => stream.write(prettyLine(line)) } : { write: (line: string) => stream.write(line) };
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    destination,
  );
}
