/**
 * The SQLite sink (`cr export sqlite FILE`), through node:sqlite. Each apply is one
 * transaction, so a failed run (disk full, read-only file) leaves the file as it was.
 * A first export into a file that does not exist yet is built in a temporary file beside
 * it, without a journal, and renamed into place once complete: nothing is there to roll
 * back to, and nothing appears at FILE unless the whole export does. Later applies
 * (incremental runs, --follow batches) write into FILE in an IMMEDIATE transaction.
 */
import { existsSync, fsyncSync, openSync, closeSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { indexAndViewStatements, tableStatements } from './ddl.js'
import { deleteStatement, markDeletedStatement, quoteName, timestampText, upsertStatement } from './dialect.js'
import { DestinationError, fileDestinationError } from './errors.js'
import { SCHEMA_VERSION, type Cell, type ColumnType, type Row, type Table, type TableName, tableNamed } from './schema.js'
import { cellBatches, rowsPerStatement } from './row-batches.js'
import { checkColumns, stateOf, type SchemaReader } from './state.js'
import type { ReportChange, ReportSink, SinkState } from './sink.js'

/** Result codes (sqlite3.h) that name a cause a person can act on. */
const SQLITE_REASONS: Readonly<Record<number, string>> = {
  8: 'the file is read-only',
  13: 'the disk is full',
  14: 'cannot open the file',
  26: 'not a SQLite database'
}

/** Page cache for a full export, in KiB (a negative cache_size): the indexes are built in it. */
const FULL_EXPORT_CACHE_KIB = 65_536

function isSqliteError (error: unknown): error is Error & { errcode: number, errstr: string } {
  return error instanceof Error && 'errcode' in error && typeof error.errcode === 'number'
}

function destinationError (path: string, error: unknown): Error {
  if (!isSqliteError(error)) return fileDestinationError(path, error)
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

/**
 * Rows per upsert statement: binding one statement of many rows costs SQLite much less
 * than running a statement per row (about 2.5x over a full export's million rows).
 */
const ROWS_PER_UPSERT = 32
/** SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32. */
const MAX_PARAMETERS = 32_766

/**
 * Prepared statements of one connection: an upsert per table and row count, a delete per
 * table and columns, the mark of a deleted job.
 */
class Statements {
  private readonly prepared = new Map<string, StatementSync>()
  constructor (private readonly db: DatabaseSync) {}

  private get (key: string, sql: () => string): StatementSync {
    let statement = this.prepared.get(key)
    if (statement === undefined) this.prepared.set(key, statement = this.db.prepare(sql()))
    return statement
  }

  upsert (table: Table, rows: readonly Row[]): void {
    const size = rowsPerStatement(table, MAX_PARAMETERS, ROWS_PER_UPSERT)
    for (const cells of cellBatches(table, rows, size, sqliteCell)) {
      const count = cells.length / table.columns.length
      this.get(`upsert ${table.name} ${count}`, () => upsertStatement('sqlite', table, count, () => '?')).run(...cells)
    }
  }

  markDeleted (jobs: readonly string[]): void {
    const statement = this.get('mark deleted', () => markDeletedStatement('sqlite', '?'))
    for (const job of jobs) statement.run(job)
  }

  remove (table: TableName, keys: readonly Row[]): void {
    for (const key of keys) {
      const columns = Object.keys(key)
      this.get(`delete ${table} ${columns.join(',')}`, () => deleteStatement('sqlite', table, columns, () => '?'))
        .run(...columns.map((name) => key[name] as string | number))
    }
  }
}

/** The change's rows and the schema_version row; the caller holds the transaction. */
async function writeRows (statements: Statements, change: ReportChange): Promise<void> {
  for (const { table, keys } of [...change.removals].reverse()) statements.remove(table, keys)
  for await (const { table, rows } of change.upserts) statements.upsert(tableNamed(table), rows)
  statements.markDeleted(change.markedDeleted)
  const versionRow: Row = { version: SCHEMA_VERSION, versionVector: JSON.stringify(change.vector), exportedAt: change.exportedAt }
  statements.upsert(tableNamed('schema_version'), [versionRow])
}

function connect (path: string, options: SqliteSinkOptions, pragmas: readonly string[]): DatabaseSync {
  const db = new DatabaseSync(path)
  try {
    for (const pragma of ['foreign_keys = ON', ...pragmas]) db.exec(`PRAGMA ${pragma}`)
    if (options.maxPageCount !== undefined) db.exec(`PRAGMA max_page_count = ${options.maxPageCount}`)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** Flushes a file's bytes to the disk before it is renamed into place. */
function syncFile (path: string): void {
  const fd = openSync(path, 'r+')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * A first export into `path`, which does not exist: built in a temporary file beside it
 * with no journal and no syncs (a failure discards the file, so there is nothing to roll
 * back), its indexes built once the rows are in, then synced and renamed over `path`.
 */
async function exportIntoNewFile (path: string, options: SqliteSinkOptions, change: ReportChange): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    // Only a run of this process that crashed can have left one.
    rmSync(temporary, { force: true })
    const db = connect(temporary, options, ['journal_mode = OFF', 'synchronous = OFF', `cache_size = -${FULL_EXPORT_CACHE_KIB}`])
    try {
      db.exec('BEGIN')
      for (const sql of tableStatements('sqlite')) db.exec(sql)
      await writeRows(new Statements(db), change)
      for (const sql of indexAndViewStatements('sqlite')) db.exec(sql)
      db.exec('COMMIT')
    } finally {
      db.close()
    }
    syncFile(temporary)
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw destinationError(path, error)
  }
}

export function createSqliteSink (path: string, options: SqliteSinkOptions = {}): ReportSink {
  let db: DatabaseSync | null = null
  let statements: Statements | null = null
  let state: SinkState = { kind: 'empty' }

  function writable (): { db: DatabaseSync, statements: Statements } {
    if (db === null || statements === null) {
      try {
        db = connect(path, options, [])
      } catch (error) {
        throw destinationError(path, error)
      }
      statements = new Statements(db)
    }
    return { db, statements }
  }

  /** One IMMEDIATE transaction in `path`, creating the schema there if it holds none yet. */
  async function applyInPlace (change: ReportChange): Promise<void> {
    const connection = writable()
    try {
      connection.db.exec('BEGIN IMMEDIATE')
    } catch (error) {
      throw destinationError(path, error)
    }
    try {
      // The schema may have changed since open (another exporter, a person): check again inside the lock.
      if (state.kind === 'exported') await checkColumns(path, reader(connection.db))
      else for (const sql of tableStatements('sqlite')) connection.db.exec(sql)
      await writeRows(connection.statements, change)
      if (state.kind === 'empty') for (const sql of indexAndViewStatements('sqlite')) connection.db.exec(sql)
      connection.db.exec('COMMIT')
    } catch (error) {
      if (connection.db.isTransaction) connection.db.exec('ROLLBACK')
      throw destinationError(path, error)
    }
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
      if (state.kind === 'empty' && db === null && !existsSync(path)) await exportIntoNewFile(path, options, change)
      else await applyInPlace(change)
      state = { kind: 'exported', schemaVersion: SCHEMA_VERSION, vector: change.vector }
    },
    close () {
      db?.close()
      db = null
      statements = null
      return Promise.resolve()
    }
  }
}
