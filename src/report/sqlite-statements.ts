/**
 * What both SQLite writers share: the export into a file of its own (sqlite-build-worker.ts,
 * on a thread of its own) and the in-place applies of sqlite.ts. How a connection is set
 * up, how a cell is bound, and the prepared statements that write rows.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import type { VersionVector } from '../protocol/version-vector.js'
import { deleteStatement, insertStatement, markDeletedStatement, timestampText, upsertStatement } from './dialect.js'
import { cellBatches, rowsPerStatement } from './row-batches.js'
import { SCHEMA_VERSION, type Cell, type ColumnType, type Row, type Table, type TableName, tableNamed } from './schema.js'

/** What node:sqlite binds. */
export type SqliteValue = string | number | null

/** Options for tests and tuning; a studio never needs them. */
export interface SqliteSinkOptions {
  /** Caps the file's size in pages (PRAGMA max_page_count): how tests make a disk "fill". */
  readonly maxPageCount?: number
}

export function sqliteCell (type: ColumnType, cell: Cell): SqliteValue {
  if (cell === null) return null
  if (type === 'boolean') return cell === true ? 1 : 0
  if (type === 'timestamp') return timestampText(Number(cell))
  return typeof cell === 'boolean' ? Number(cell) : cell
}

/** A row's cells in column order, as sqliteCell binds them. */
export function sqliteCells (table: Table, rows: readonly Row[]): SqliteValue[] {
  const [cells = []] = cellBatches(table, rows, Math.max(1, rows.length), sqliteCell)
  return cells
}

export function connect (path: string, options: SqliteSinkOptions, pragmas: readonly string[]): DatabaseSync {
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

/**
 * Rows per statement: binding one statement of many rows costs SQLite much less than
 * running a statement per row (about 2.5x over a full export's million rows).
 */
const ROWS_PER_STATEMENT = 32
/** SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32. */
const MAX_PARAMETERS = 32_766

/**
 * How rows go in: `upsert` replaces a row of the same key, as an export into a file that
 * holds an earlier one must; `insert` is for a new file, where every row is new (a
 * repeated key is then a fault, and fails the build). SQLite runs an INSERT without an
 * ON CONFLICT clause about a quarter faster.
 */
export type RowWrite = 'insert' | 'upsert'

const WRITE_STATEMENTS = { insert: insertStatement, upsert: upsertStatement } as const

/**
 * Prepared statements of one connection: an insert or upsert per table and row count, a
 * delete per table and columns, the mark of a deleted job.
 */
export class Statements {
  private readonly prepared = new Map<string, StatementSync>()
  constructor (private readonly db: DatabaseSync) {}

  private get (key: string, sql: () => string): StatementSync {
    let statement = this.prepared.get(key)
    if (statement === undefined) this.prepared.set(key, statement = this.db.prepare(sql()))
    return statement
  }

  write (how: RowWrite, table: Table, rows: readonly Row[]): void {
    this.writeCells(how, table, sqliteCells(table, rows))
  }

  /** Rows already bound as cells (sqliteCells), laid end to end. */
  writeCells (how: RowWrite, table: Table, cells: readonly SqliteValue[]): void {
    const width = table.columns.length
    const step = rowsPerStatement(table, MAX_PARAMETERS, ROWS_PER_STATEMENT) * width
    for (let from = 0; from < cells.length; from += step) {
      const statementCells = cells.slice(from, from + step)
      const count = statementCells.length / width
      this.get(`${how} ${table.name} ${count}`, () => WRITE_STATEMENTS[how]('sqlite', table, count, () => '?')).run(...statementCells)
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

  /** The schema_version row of an export that reflects `vector`. */
  versionRow (vector: VersionVector, exportedAt: number): void {
    this.write('upsert', tableNamed('schema_version'), [{ version: SCHEMA_VERSION, versionVector: JSON.stringify(vector), exportedAt }])
  }
}
