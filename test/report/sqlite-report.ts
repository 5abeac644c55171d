/** A SQLite report in tests: exported from a source, then read back (one query, or every row). */
import { DatabaseSync } from 'node:sqlite'
import { exportOnce, type ExportSummary } from '../../src/report/export.js'
import { ALL_TABLES } from '../../src/report/schema.js'
import type { ExportSource } from '../../src/report/source.js'
import { createSqliteSink, type SqliteSinkOptions } from '../../src/report/sqlite.js'

/** The clock every test export reads. */
export const NOW = 1_800_000_000_000

/** One export run into `file`, full or incremental. */
export async function exportToSqlite (source: ExportSource, file: string, options: SqliteSinkOptions = {}): Promise<ExportSummary> {
  const sink = createSqliteSink(file, options)
  try {
    return await exportOnce(source, sink, () => NOW)
  } finally {
    await sink.close()
  }
}

export function query<T> (file: string, sql: string): T[] {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    return db.prepare(sql).all() as T[]
  } finally {
    db.close()
  }
}

/** Every row of every table, in primary-key order: what two exports must agree on. */
export function contents (file: string): Record<string, unknown[]> {
  return Object.fromEntries(ALL_TABLES.map((table) =>
    [table.name, query(file, `SELECT * FROM "${table.name}" ORDER BY ${table.primaryKey.map((name) => `"${name}"`).join(', ')}`)]))
}
