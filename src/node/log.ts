/**
 * Structured, per-component logging for library code (which must not use `console`).
 * A logger names its component (`mesh`, `mesh:sync`) and writes records, not prose: a
 * message plus fields such as the peer and the reason, so a person can grep a peer id and
 * a program can parse the line. Where records go is injected (a sink); by default they go
 * to stderr as JSON lines, filtered by `CR_LOG_LEVEL` (debug, info, warn, error; default info).
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export type LogFields = Readonly<Record<string, unknown>>

export interface LogRecord {
  readonly timeMs: number
  readonly level: LogLevel
  readonly component: string
  readonly msg: string
  readonly fields: LogFields
}

/** Where records go. A sink must not throw: logging never breaks the caller. */
export type LogSink = (record: LogRecord) => void

export interface Logger {
  readonly component: string
  debug: (msg: string, fields?: LogFields) => void
  info: (msg: string, fields?: LogFields) => void
  warn: (msg: string, fields?: LogFields) => void
  error: (msg: string, fields?: LogFields) => void
  /** A logger for a part of this component: `mesh` -> `mesh:sync`, same sink and level. */
  child: (name: string) => Logger
}

export interface LoggerOptions {
  readonly sink?: LogSink
  readonly level?: LogLevel
  readonly now?: () => number
}

export function createLogger (component: string, options: LoggerOptions = {}): Logger {
  const sink = options.sink ?? jsonLineSink(process.stderr)
  const minimum = LOG_LEVELS.indexOf(options.level ?? levelFromEnv(process.env))
  const now = options.now ?? Date.now
  const write = (level: LogLevel) => (msg: string, fields: LogFields = {}): void => {
    if (LOG_LEVELS.indexOf(level) < minimum) return
    sink({ timeMs: now(), level, component, msg, fields })
  }
  return {
    component,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (name) => createLogger(`${component}:${name}`, { ...options, sink })
  }
}

/** A logger that drops everything, for code whose caller does not want its records. */
export function silentLogger (component = 'silent'): Logger {
  return createLogger(component, { sink: () => undefined })
}

/** Reads `CR_LOG_LEVEL`; an unknown value falls back to info rather than failing a run. */
export function levelFromEnv (env: NodeJS.ProcessEnv): LogLevel {
  const value = env.CR_LOG_LEVEL?.toLowerCase()
  return LOG_LEVELS.find((level) => level === value) ?? 'info'
}

/** One JSON object per line: `{"time":"...","level":"warn","component":"mesh","msg":"...",...fields}`. */
export function jsonLineSink (stream: NodeJS.WritableStream): LogSink {
  return (record) => {
    const { timeMs, level, component, msg, fields } = record
    const line = JSON.stringify({ ...fields, time: new Date(timeMs).toISOString(), level, component, msg }, plainValue)
    stream.write(`${line}\n`)
  }
}

/**
 * One line a person reads, for a short command's stderr, where JSON would be noise:
 * `cr: warning: mesh:sync: peer refused (peer=12D3..., reason=forged)`.
 */
export function humanLineSink (stream: NodeJS.WritableStream, prefix = 'cr'): LogSink {
  return (record) => {
    const { level, component, msg, fields } = record
    const details = Object.entries(fields).map(([key, value]) => `${key}=${detailOf(value)}`)
    const label = level === 'warn' ? 'warning' : level
    stream.write(`${prefix}: ${label}: ${component}: ${msg}${details.length === 0 ? '' : ` (${details.join(', ')})`}\n`)
  }
}

function detailOf (value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, plainValue)
}

/** Makes the values libraries hand us (errors, bytes, big integers) readable in JSON. */
function plainValue (_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  if (typeof value === 'bigint') return value.toString()
  return value
}
