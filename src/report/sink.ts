/**
 * The contract between the exporter and a destination database (SQLite, PostgreSQL, ...).
 * The exporter derives rows from the farm state and hands a sink one `ReportChange` per
 * run (or per batch with --follow); the sink applies it in ONE transaction, so a failed
 * apply leaves the destination exactly as it was. The schema lives in schema.ts, the DDL
 * and views per dialect in ddl.ts.
 */
import type { VersionVector } from '../protocol/version-vector.js'
import type { Row, TableName } from './schema.js'

export { SCHEMA_VERSION, type Cell, type Column, type ColumnType, type Row, type Table, type TableName } from './schema.js'

/** What a destination already holds, read by `open()`. */
export type SinkState =
  /** No report schema yet: the first apply creates it and writes a full export. */
  | { readonly kind: 'empty' }
  /** A schema this build knows, reflecting `vector`. */
  | { readonly kind: 'exported', readonly schemaVersion: number, readonly vector: VersionVector }

/** Rows of one table. */
export interface TableRows {
  readonly table: TableName
  readonly rows: readonly Row[]
}

/** Keys of rows of one table that the farm state no longer derives. */
export interface TableKeys {
  readonly table: TableName
  /**
   * Each key: columns and values that rows to delete match, the whole primary key or a
   * leading part of it (say { jobUuid } for every frame of a job); {} matches every row.
   */
  readonly keys: readonly Row[]
}

/**
 * One transaction's worth of change. Deleted jobs are not removals: their rows stay with
 * jobDeleted = true. `removals` is for rows that stop being derived at all (rare).
 */
export interface ReportChange {
  /**
   * Insert-or-replace by primary key, a batch at a time, each parent row before its
   * children. Read while the transaction is open; each apply reads it afresh.
   */
  readonly upserts: AsyncIterable<TableRows> | Iterable<TableRows>
  /** Delete by primary key; applied before the upserts, children first. */
  readonly removals: readonly TableKeys[]
  /**
   * Jobs deleted since, whose rows the destination already holds as they stood before:
   * only their jobDeleted becomes true (after the upserts).
   */
  readonly markedDeleted: readonly string[]
  /** The version vector the destination reflects once this change is applied. */
  readonly vector: VersionVector
  /** When the export ran (ms since the epoch), for schema_version.exportedAt. */
  readonly exportedAt: number
}

/**
 * A destination. Lifecycle: `open()` once, then any number of `apply()`, then `close()`
 * (idempotent). Errors are the typed ones in errors.ts:
 * - open(): NewerSchemaError for a newer schema_version, AlteredTableError naming a table
 *   whose columns differ from the schema, DestinationError when it cannot be reached,
 *   read, or (for a file) written.
 * - apply(): creates the schema if the state was empty, writes the change and the new
 *   schema_version row in one transaction; on any failure rolls back and throws
 *   DestinationError (disk full, read-only, connection lost) with the cause.
 */
export interface ReportSink {
  /** A name for messages: the file path, or the URL without its password. */
  readonly destination: string
  open: () => Promise<SinkState>
  apply: (change: ReportChange) => Promise<void>
  close: () => Promise<void>
}
