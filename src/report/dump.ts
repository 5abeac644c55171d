/**
 * The SQL dump sink (`cr export sql FILE --dialect ...`): the whole report as DDL and
 * INSERTs in one transaction, which psql, mysql/mariadb or sqlite3 load as they are. It is
 * written to a temporary file beside FILE and renamed over it only once complete, so a
 * failed run (a full disk, a directory we may not write) leaves FILE as it was.
 */
import { open as openFile, rename, rm } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { schemaStatements } from './ddl.js'
import { literal, quoteName, type Dialect } from './dialect.js'
import { fileDestinationError } from './errors.js'
import { REPORT_TABLES, SCHEMA_VERSION, tableNamed, type Row, type Table, type TableName } from './schema.js'
import type { ReportChange, ReportSink } from './sink.js'

/** Rows per INSERT statement: short enough for any client's statement limit. */
const ROWS_PER_INSERT = 500

const PREAMBLE: Record<Dialect, readonly string[]> = {
  sqlite: ['PRAGMA foreign_keys = ON', 'BEGIN'],
  postgres: ["SET client_encoding = 'UTF8'", 'SET standard_conforming_strings = on', 'BEGIN'],
  // Timestamps are UTC; the dump's strings are utf8mb4.
  mysql: ['SET NAMES utf8mb4', "SET time_zone = '+00:00'", 'START TRANSACTION']
}

function keyOf (table: Table, row: Row): string {
  return JSON.stringify(table.primaryKey.map((name) => row[name] ?? null))
}

/** One table's rows as INSERT statements, in primary-key order so equal states give equal dumps. */
export function insertStatements (dialect: Dialect, table: Table, rows: readonly Row[]): string[] {
  const sorted = [...rows].sort((a, b) => { const ka = keyOf(table, a); const kb = keyOf(table, b); return ka < kb ? -1 : ka > kb ? 1 : 0 })
  const head = `INSERT INTO ${quoteName(dialect, table.name)} (${table.columns.map((column) => quoteName(dialect, column.name)).join(', ')}) VALUES\n`
  const statements: string[] = []
  for (let from = 0; from < sorted.length; from += ROWS_PER_INSERT) {
    const values = sorted.slice(from, from + ROWS_PER_INSERT)
      .map((row) => `(${table.columns.map((column) => literal(dialect, column.type, row[column.name] ?? null)).join(', ')})`)
    statements.push(head + values.join(',\n'))
  }
  return statements
}

/** Every row of `change`, table by table: a dump writes each table's rows sorted, so it holds them all. */
async function rowsByTable (change: ReportChange): Promise<Map<TableName, Row[]>> {
  const tables = new Map<TableName, Row[]>(REPORT_TABLES.map((table) => [table.name, []]))
  for await (const { table, rows } of change.upserts) tables.get(table)?.push(...rows)
  return tables
}

/** The statements of a full dump of `change` (a change from an empty destination). */
export async function * dumpStatements (dialect: Dialect, change: ReportChange): AsyncGenerator<string> {
  yield * PREAMBLE[dialect]
  yield * schemaStatements(dialect)
  for (const [table, rows] of await rowsByTable(change)) yield * insertStatements(dialect, tableNamed(table), rows)
  yield * insertStatements(dialect, tableNamed('schema_version'), [{ version: SCHEMA_VERSION, versionVector: JSON.stringify(change.vector), exportedAt: change.exportedAt }])
  yield 'COMMIT'
}

export function createDumpSink (path: string, dialect: Dialect): ReportSink {
  return {
    destination: path,
    // A dump is always whole: it starts from nothing, whatever FILE held.
    open: () => Promise.resolve({ kind: 'empty' }),
    async apply (change) {
      if (change.removals.length > 0 || change.markedDeleted.length > 0) throw new RangeError('a SQL dump is a full export: it has nothing to remove or mark')
      const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
      try {
        const handle = await openFile(temporary, 'wx')
        try {
          await handle.write(`-- Constellation Render report, schema ${SCHEMA_VERSION}, ${dialect} dialect\n`)
          for await (const statement of dumpStatements(dialect, change)) await handle.write(`${statement};\n`)
          await handle.sync()
        } finally {
          await handle.close()
        }
        await rename(temporary, path)
      } catch (error) {
        await rm(temporary, { force: true })
        throw fileDestinationError(path, error)
      }
    },
    close: () => Promise.resolve()
  }
}
