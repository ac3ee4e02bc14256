// The logger port: leveled lines, JSON (one object a line, for journald and log shippers), text
// (time, level, message, fields: for a terminal) or plain (the message and fields only, after a
// prefix: the agent's "[agent] ..." lines as they have always been), written to a stream. Every line goes through the redactor instance the logger
// was given, so a decrypted secret cannot reach a log by accident, whatever a caller passes in.

import type { Redactor } from './redactor.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (a component's name, a request id). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Where lines go (process.stderr, a file stream, a test's collector). */
  stream: { write(text: string): unknown };
  redactor: Redactor;
  format?: 'json' | 'text' | 'plain';
  /** Written before every plain line ("[agent] "). */
  prefix?: string;
  /** Lines below this level are dropped; info by default. */
  level?: LogLevel;
  /** The wall clock each line is stamped with; no stamp when absent (journald stamps its own). */
  now?: () => Date;
  fields?: LogFields;
}

const rank = (level: LogLevel): number => LOG_LEVELS.indexOf(level);

/** A field's value in a text line: bare when it is a plain word, JSON otherwise. */
const textValue = (v: unknown): string =>
  typeof v === 'string' && /^[\w./:@-]+$/.test(v) ? v : (JSON.stringify(v) ?? String(v));

/** An Error as JSON says nothing (`{}`): its name, message and code instead. */
const plain = (v: unknown): unknown =>
  v instanceof Error ? { name: v.name, message: v.message, ...('code' in v ? { code: v.code } : {}) } : v;

export function streamLogger(options: LoggerOptions): Logger {
  const format = options.format ?? 'json';
  const threshold = rank(options.level ?? 'info');
  const base = options.fields ?? {};
  const write = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    if (rank(level) < threshold) return;
    const all = Object.fromEntries(Object.entries({ ...base, ...fields }).map(([k, v]) => [k, plain(v)]));
    const time = options.now?.().toISOString();
    const pairs = Object.entries(all).map(([k, v]) => `${k}=${textValue(v)}`);
    const line =
      format === 'json'
        ? JSON.stringify({ ...(time ? { time } : {}), level, msg: message, ...all })
        : format === 'plain'
          ? (options.prefix ?? '') + [message, ...pairs].join(' ')
          : [...(time ? [time] : []), level.toUpperCase().padEnd(5), message, ...pairs].join(' ');
    options.stream.write(`${options.redactor.redact(line)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => streamLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** Drops every line (a library used without a logger, a test that does not look). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
