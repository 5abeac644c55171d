/**
 * What differs between the SQL dialects a report is written in: how names are quoted,
 * how each portable column type is stored, and how a cell is written as a literal.
 * ddl.ts (the schema and views) and dump.ts (INSERTs) both speak through this.
 */
import type { Cell, Column, ColumnType, Table } from './schema.js'

export const DIALECTS = ['sqlite', 'postgres', 'mysql'] as const
export type Dialect = (typeof DIALECTS)[number]

export function quoteName (dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`
}

/**
 * MySQL cannot key a TEXT column without a prefix length, so keyed text (ids, enums) is
 * VARCHAR there; ids here are uuids, event ids and peer ids, all far below 255 chars.
 */
const MYSQL_KEY_TEXT = 'VARCHAR(255)'

const STORAGE: Record<Dialect, Record<ColumnType, string>> = {
  // SQLite keeps timestamps as ISO-8601 UTC text, which its date functions read.
  sqlite: { text: 'TEXT', integer: 'INTEGER', real: 'REAL', timestamp: 'TEXT', boolean: 'INTEGER' },
  postgres: { text: 'TEXT', integer: 'BIGINT', real: 'DOUBLE PRECISION', timestamp: 'TIMESTAMP(3) WITH TIME ZONE', boolean: 'BOOLEAN' },
  // DATETIME holds no zone: every value written is UTC.
  mysql: { text: 'TEXT', integer: 'BIGINT', real: 'DOUBLE', timestamp: 'DATETIME(3)', boolean: 'BOOLEAN' }
}

export function storageType (dialect: Dialect, column: Column, keyed: boolean): string {
  if (dialect === 'mysql' && column.type === 'text' && (keyed || column.oneOf !== undefined)) return MYSQL_KEY_TEXT
  return STORAGE[dialect][column.type]
}

const DAY_MS = 86_400_000
/** The day timestampText last wrote: a report's timestamps come a few days at a time, millions of them. */
let lastDay = { day: Number.NaN, text: '' }

const twoDigits = (value: number): string => value < 10 ? `0${value}` : String(value)

/** A timestamp as 'YYYY-MM-DD HH:MM:SS.sss' UTC: what every dialect parses, and sorts as text in SQLite. */
export function timestampText (ms: number): string {
  // Whole ms, as Date keeps them; Date also refuses what it cannot represent (RangeError).
  const whole = Math.trunc(ms)
  const day = Math.floor(whole / DAY_MS)
  if (day !== lastDay.day) lastDay = { day, text: new Date(day * DAY_MS).toISOString().slice(0, 10) }
  const inDay = whole - day * DAY_MS
  const millis = inDay % 1000
  const seconds = Math.floor(inDay / 1000)
  return `${lastDay.text} ${twoDigits(Math.floor(seconds / 3600))}:${twoDigits(Math.floor(seconds / 60) % 60)}:${twoDigits(seconds % 60)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}`
}

function stringLiteral (dialect: Dialect, text: string): string {
  const quoted = text.replaceAll("'", "''")
  // MySQL treats backslash as an escape inside strings (unless NO_BACKSLASH_ESCAPES).
  const escaped = dialect === 'mysql' ? quoted.replaceAll('\\', '\\\\') : quoted
  if (dialect === 'postgres' && text.includes('\0')) throw new RangeError('PostgreSQL text cannot hold NUL characters')
  return `'${escaped}'`
}

/** A cell as a SQL literal of its column's type. */
export function literal (dialect: Dialect, type: ColumnType, cell: Cell): string {
  if (cell === null) return 'NULL'
  if (type === 'boolean') return dialect === 'postgres' ? (cell === true ? 'TRUE' : 'FALSE') : (cell === true ? '1' : '0')
  if (type === 'timestamp') {
    const text = timestampText(Number(cell))
    // PostgreSQL would read a zoneless literal in the session's zone: say UTC.
    return dialect === 'postgres' ? `'${text}+00'::timestamptz` : `'${text}'`
  }
  if (type === 'integer' || type === 'real') {
    const value = Number(cell)
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${String(cell)}`)
    return String(value)
  }
  return stringLiteral(dialect, String(cell))
}

/**
 * An INSERT of `rows` rows; `placeholder` is the dialect's parameter for the cell at
 * `index` (0-based) of the rows' cells laid end to end.
 */
export function insertStatement (dialect: 'sqlite' | 'postgres', table: Table, rows: number, placeholder: (index: number) => string): string {
  const names = table.columns.map((column) => quoteName(dialect, column.name))
  const values = Array.from({ length: rows }, (_, row) => `(${names.map((_, column) => placeholder(row * names.length + column)).join(', ')})`)
  return `INSERT INTO ${quoteName(dialect, table.name)} (${names.join(', ')}) VALUES ${values.join(', ')}`
}

/**
 * Insert-or-replace of `rows` rows by primary key, in the form SQLite and PostgreSQL
 * share (placeholders as insertStatement's). The rows of one statement must have
 * distinct keys (PostgreSQL refuses to update one row twice in a statement).
 */
export function upsertStatement (dialect: 'sqlite' | 'postgres', table: Table, rows: number, placeholder: (index: number) => string): string {
  const quoted = (name: string): string => quoteName(dialect, name)
  const updates = table.columns.filter((column) => !table.primaryKey.includes(column.name))
    .map((column) => `${quoted(column.name)} = excluded.${quoted(column.name)}`)
  const onConflict = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`
  return `${insertStatement(dialect, table, rows, placeholder)}
    ON CONFLICT (${table.primaryKey.map(quoted).join(', ')}) ${onConflict}`
}

/** Deletes the rows matching every one of `columns` (none: every row of the table). */
export function deleteStatement (dialect: 'sqlite' | 'postgres', table: string, columns: readonly string[], placeholder: (index: number) => string): string {
  const where = columns.map((name, index) => `${quoteName(dialect, name)} = ${placeholder(index)}`).join(' AND ')
  return `DELETE FROM ${quoteName(dialect, table)}${where === '' ? '' : ` WHERE ${where}`}`
}

/** Marks one job's row deleted (ReportChange.markedDeleted). */
export function markDeletedStatement (dialect: 'sqlite' | 'postgres', placeholder: string): string {
  const quoted = (name: string): string => quoteName(dialect, name)
  return `UPDATE ${quoted('constellationJobTable')} SET ${quoted('jobDeleted')} = ${dialect === 'sqlite' ? '1' : 'TRUE'} WHERE ${quoted('jobUuid')} = ${placeholder}`
}
