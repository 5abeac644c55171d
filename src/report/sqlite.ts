/**
 * The SQLite sink (`cr export sqlite FILE`), through node:sqlite. Each apply is one
 * IMMEDIATE transaction that creates the schema if the file had none, so a failed run
 * (disk full, read-only file) rolls back and leaves the file as it was; a file this run
 * created and could not fill is removed again.
 */
import { existsSync, rmSync } from 'node:fs'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { schemaStatements } from './ddl.js'
import { quoteName, timestampText, upsertStatement } from './dialect.js'
import { DestinationError } from './errors.js'
import { SCHEMA_VERSION, type Cell, type ColumnType, type Row, type Table, type TableName, tableNamed } from './schema.js'
import { checkColumns, stateOf, type SchemaReader } from './state.js'
import type { ReportChange, ReportSink, SinkState } from './sink.js'

/** Result codes (sqlite3.h) that name a cause a person can act on. */
const SQLITE_REASONS: Readonly<Record<number, string>> = {
  8: 'the file is read-only',
  13: 'the disk is full',
  14: 'cannot open the file',
  26: 'not a SQLite database'
}

function isSqliteError (error: unknown): error is Error & { errcode: number, errstr: string } {
  return error instanceof Error && 'errcode' in error && typeof error.errcode === 'number'
}

function destinationError (path: string, error: unknown): Error {
  if (!isSqliteError(error)) return error instanceof Error ? error : new Error(String(error))
  // Extended result codes keep the primary code in the low byte.
  const reason = SQLITE_REASONS[error.errcode & 0xff] ?? error.message
  return new DestinationError(path, reason, { cause: error })
}

function sqliteCell (type: ColumnType, cell: Cell): string | number | null {
  if (cell === null) return null
  if (type === 'boolean') return cell === true ? 1 : 0
  if (type === 'timestamp') return timestampText(Number(cell))
  return typeof cell === 'boolean' ? Number(cell) : cell
}

function upsertSql (table: Table): string {
  return upsertStatement('sqlite', table, () => '?')
}

function reader (db: DatabaseSync): SchemaReader {
  return {
    columnsOf: (table) => Promise.resolve((db.prepare(`PRAGMA table_info(${quoteName('sqlite', table)})`).all() as { name: string }[]).map((row) => row.name)),
    storedVersion: () => Promise.resolve(db.prepare(`SELECT version, versionVector FROM ${quoteName('sqlite', 'schema_version')}`).all() as { version: number, versionVector: string }[])
  }
}

/** Options for tests and tuning; a studio never needs them. */
export interface SqliteSinkOptions {
  /** Caps the file's size in pages (PRAGMA max_page_count): how tests make a disk "fill". */
  readonly maxPageCount?: number
}

export function createSqliteSink (path: string, options: SqliteSinkOptions = {}): ReportSink {
  let db: DatabaseSync | null = null
  let state: SinkState = { kind: 'empty' }
  let createdByUs = false
  const statements = new Map<TableName, StatementSync>()

  function writable (): DatabaseSync {
    if (db !== null) return db
    createdByUs = !existsSync(path)
    try {
      db = new DatabaseSync(path)
      db.exec('PRAGMA foreign_keys = ON')
      if (options.maxPageCount !== undefined) db.exec(`PRAGMA max_page_count = ${options.maxPageCount}`)
      return db
    } catch (error) {
      throw destinationError(path, error)
    }
  }

  function statement (connection: DatabaseSync, table: Table): StatementSync {
    let prepared = statements.get(table.name)
    if (prepared === undefined) statements.set(table.name, prepared = connection.prepare(upsertSql(table)))
    return prepared
  }

  function write (connection: DatabaseSync, change: ReportChange): void {
    if (state.kind === 'empty') for (const sql of schemaStatements('sqlite')) connection.exec(sql)
    for (const { table, keys } of [...change.removals].reverse()) {
      for (const key of keys) {
        const columns = Object.keys(key)
        connection.prepare(`DELETE FROM ${quoteName('sqlite', table)} WHERE ${columns.map((name) => `${quoteName('sqlite', name)} = ?`).join(' AND ')}`)
          .run(...columns.map((name) => key[name] as string | number))
      }
    }
    for (const { table: name, rows } of change.upserts) {
      const table = tableNamed(name)
      const insert = statement(connection, table)
      for (const row of rows) insert.run(...table.columns.map((column) => sqliteCell(column.type, row[column.name] ?? null)))
    }
    connection.exec(`DELETE FROM ${quoteName('sqlite', 'schema_version')}`)
    const versionRow: Row = { version: SCHEMA_VERSION, versionVector: JSON.stringify(change.vector), exportedAt: change.exportedAt }
    const versionTable = tableNamed('schema_version')
    statement(connection, versionTable).run(...versionTable.columns.map((column) => sqliteCell(column.type, versionRow[column.name] ?? null)))
  }

  return {
    destination: path,
    async open () {
      if (!existsSync(path)) return state
      let inspect: DatabaseSync | null = null
      try {
        inspect = new DatabaseSync(path, { readOnly: true })
        state = await stateOf(path, reader(inspect))
      } catch (error) {
        throw destinationError(path, error)
      } finally {
        inspect?.close()
      }
      return state
    },
    async apply (change) {
      const connection = writable()
      try {
        connection.exec('BEGIN IMMEDIATE')
      } catch (error) {
        throw destinationError(path, error)
      }
      try {
        // The schema may have changed since open (another exporter, a person): check again inside the lock.
        if (state.kind === 'exported') await checkColumns(path, reader(connection))
        write(connection, change)
        connection.exec('COMMIT')
        state = { kind: 'exported', schemaVersion: SCHEMA_VERSION, vector: change.vector }
        createdByUs = false
      } catch (error) {
        if (connection.isTransaction) connection.exec('ROLLBACK')
        statements.clear()
        throw destinationError(path, error)
      }
    },
    close () {
      if (db !== null) {
        db.close()
        db = null
        statements.clear()
        if (createdByUs) rmSync(path, { force: true })
      }
      return Promise.resolve()
    }
  }
}
