/**
 * Rows cut into multi-row statements: one INSERT of many rows costs a database about as
 * much as one of a single row, so both sinks write a table's rows a batch at a time.
 */
import type { Cell, ColumnType, Row, Table } from './schema.js'

/** Rows per statement: as many as `maxParameters` allows, at most `cap`. */
export function rowsPerStatement (table: Table, maxParameters: number, cap: number): number {
  return Math.max(1, Math.min(cap, Math.floor(maxParameters / table.columns.length)))
}

/**
 * `rows` in batches of at most `size`, each as its cells laid end to end in column
 * order, each converted by `cell` into what the driver binds.
 */
export function * cellBatches<T> (table: Table, rows: readonly Row[], size: number, cell: (type: ColumnType, value: Cell) => T): Generator<T[]> {
  const { columns } = table
  for (let from = 0; from < rows.length; from += size) {
    const batch = rows.slice(from, from + size)
    const cells = new Array<T>(batch.length * columns.length)
    let index = 0
    for (const row of batch) {
      for (const column of columns) cells[index++] = cell(column.type, row[column.name] ?? null)
    }
    yield cells
  }
}
