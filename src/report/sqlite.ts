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
import { DatabaseSync } from 'node:sqlite'
import { indexAndViewStatements, tableStatements } from './ddl.js'
import { quoteName } from './dialect.js'
import { DestinationError, fileDestinationError } from './errors.js'
import { packRows } from './packed-rows.js'
import { REPORT_TABLES, SCHEMA_VERSION, tableNamed } from './schema.js'
import { SqliteBuild } from './sqlite-build.js'
import { connect, Statements, type SqliteSinkOptions } from './sqlite-statements.js'
import { checkColumns, stateOf, type SchemaReader } from './state.js'
import type { ReportChange, ReportSink, SinkState } from './sink.js'

/** Result codes (sqlite3.h) that name a cause a person can act on. */
const SQLITE_REASONS: Readonly<Record<number, string>> = {
  8: 'the file is read-only',
  13: 'the disk is full',
  14: 'cannot open the file',
  26: 'not a SQLite database'
}

export type { SqliteSinkOptions } from './sqlite-statements.js'

/** Page cache for a full export, in KiB (a negative cache_size): the indexes are built in it. */
const FULL_EXPORT_CACHE_KIB = 65_536

/**
 * A new file: no journal and no syncs (a failed build is discarded, not rolled back), and
 * 16 KiB pages, on which SQLite inserts and indexes a million log rows some 15 % faster
 * than on its default 4 KiB (report queries scan as much as they seek). Foreign keys are
 * not checked while it is built: its rows are derived from one state, every block and
 * frame from its job's view, so they hold their keys by construction, and looking up each
 * frame's block and job as it went in cost a tenth of the build. They stay declared, and
 * every later run, which opens the file through connect(), checks them.
 */
const NEW_FILE_PRAGMAS = ['foreign_keys = OFF', 'page_size = 16384', 'journal_mode = OFF', 'synchronous = OFF', `cache_size = -${FULL_EXPORT_CACHE_KIB}`]

function isSqliteError (error: unknown): error is Error & { errcode: number, errstr: string } {
  return error instanceof Error && 'errcode' in error && typeof error.errcode === 'number'
}

function destinationError (path: string, error: unknown): Error {
  if (!isSqliteError(error)) return fileDestinationError(path, error)
  // Extended result codes keep the primary code in the low byte.
  const reason = SQLITE_REASONS[error.errcode & 0xff] ?? error.message
  return new DestinationError(path, reason, { cause: error })
}

function reader (db: DatabaseSync): SchemaReader {
  return {
    columnsOf: (table) => Promise.resolve((db.prepare(`PRAGMA table_info(${quoteName('sqlite', table)})`).all() as { name: string }[]).map((row) => row.name)),
    storedVersion: () => Promise.resolve(db.prepare(`SELECT version, versionVector FROM ${quoteName('sqlite', 'schema_version')}`).all() as { version: number, versionVector: string }[])
  }
}

/** The change's rows and the schema_version row; the caller holds the transaction. */
async function writeRows (statements: Statements, change: ReportChange): Promise<void> {
  for (const { table, keys } of [...change.removals].reverse()) statements.remove(table, keys)
  for await (const { table, rows } of change.upserts) statements.write('upsert', tableNamed(table), rows)
  statements.markDeleted(change.markedDeleted)
  statements.versionRow(change.vector, change.exportedAt)
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
 * The tables filled before the log, whose indexes SQLite builds while the log (the last
 * and by far the largest table) is still being read and decoded.
 */
const FILLED_BEFORE_LOG = REPORT_TABLES.map((table) => table.name).filter((name) => name !== 'constellationLogTable')

/** The change's rows, handed to the build thread a batch at a time, then its commit. */
async function buildRows (build: SqliteBuild, change: ReportChange): Promise<void> {
  let logStarted = false
  // A new file holds no rows to remove: change.removals has nothing to do here.
  for await (const { table, rows } of change.upserts) {
    if (table === 'constellationLogTable' && !logStarted) {
      logStarted = true
      build.index(FILLED_BEFORE_LOG)
    }
    await build.rows(table, packRows(tableNamed(table), rows))
  }
  await build.finish({ markedDeleted: change.markedDeleted, vector: change.vector, exportedAt: change.exportedAt })
}

/**
 * A first export into `path`, which does not exist: built by a thread of its own
 * (sqlite-build.ts) in a temporary file beside it, with no journal and no syncs (a
 * failure discards the file, so there is nothing to roll back), then synced and renamed
 * over `path`.
 */
async function exportIntoNewFile (path: string, options: SqliteSinkOptions, change: ReportChange): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  try {
    // Only a run of this process that crashed can have left one.
    rmSync(temporary, { force: true })
    const build = new SqliteBuild({ path: temporary, options, pragmas: NEW_FILE_PRAGMAS })
    try {
      await buildRows(build, change)
    } finally {
      await build.stop()
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
