/**
 * Rows packed for the SQLite build thread come out as the cells the in-place writer binds
 * (sqliteCell): every column type, nulls, empty and non-ASCII text, in column order.
 */
import test from 'ava'
import fc from 'fast-check'
import { packRows, unpackedCells } from '../../src/report/packed-rows.js'
import { ALL_TABLES, type Cell, type Column, type Row } from '../../src/report/schema.js'
import { sqliteCell } from '../../src/report/sqlite-statements.js'

/** Timestamps within the years a text timestamp holds. */
const MAX_MS = 253_402_300_799_998

function cellOf (column: Column): fc.Arbitrary<Cell> {
  const value: fc.Arbitrary<Cell> = {
    text: fc.string({ unit: 'grapheme', maxLength: 12 }),
    integer: fc.integer(),
    real: fc.double({ noNaN: true, noDefaultInfinity: true }),
    timestamp: fc.integer({ min: -62_135_596_800_000, max: MAX_MS }),
    boolean: fc.boolean()
  }[column.type]
  return fc.option(value, { nil: null, freq: 4 })
}

test('every table\'s rows unpack to the cells sqliteCell binds, row by row in column order', (t) => {
  for (const table of ALL_TABLES) {
    const row: fc.Arbitrary<Row> = fc.record(Object.fromEntries(table.columns.map((column) => [column.name, cellOf(column)])))
    fc.assert(fc.property(fc.array(row, { maxLength: 20 }), (rows) => {
      const expected = rows.flatMap((each) => table.columns.map((column) => sqliteCell(column.type, each[column.name] ?? null)))
      t.deepEqual(unpackedCells(table, packRows(table, rows)), expected)
    }), { numRuns: 200 })
  }
})

test('a batch without rows packs to nothing', (t) => {
  for (const table of ALL_TABLES) t.deepEqual(unpackedCells(table, packRows(table, [])), [])
})
