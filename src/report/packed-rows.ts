/**
 * Rows as they cross to the SQLite build thread (sqlite-build.ts): a batch's text cells
 * laid end to end in one string, its numbers in one Float64Array. Posting a batch as an
 * array of cells cost the sending thread more than deriving the rows did, as structured
 * cloning walks and tags every one of a full export's millions of values; a string and
 * three typed arrays are copied whole.
 */
import type { Cell, Row, Table } from './schema.js'
import { timestampText } from './dialect.js'
import type { SqliteValue } from './sqlite-statements.js'

export interface PackedRows {
  readonly rows: number
  /** The text columns' cells, row by row, end to end. */
  readonly text: string
  /** Each text cell's length in `text`, in the same order; NULL_TEXT for a null. */
  readonly textLengths: Int32Array<ArrayBuffer>
  /** The other columns' cells, row by row: integers, reals, booleans as 0 or 1, timestamps as ms since the epoch. */
  readonly numbers: Float64Array<ArrayBuffer>
  /** 1 where that numeric cell is null. */
  readonly numberNulls: Uint8Array<ArrayBuffer>
}

const NULL_TEXT = -1

/** A table's columns as packing walks them, worked out once per table. */
interface Layout {
  readonly names: readonly string[]
  readonly text: readonly boolean[]
  readonly textColumns: number
}

const layouts = new WeakMap<Table, Layout>()

function layoutOf (table: Table): Layout {
  let layout = layouts.get(table)
  if (layout === undefined) {
    const text = table.columns.map((column) => column.type === 'text')
    layout = { names: table.columns.map((column) => column.name), text, textColumns: text.filter(Boolean).length }
    layouts.set(table, layout)
  }
  return layout
}

/** `rows` of `table`, packed in column order. */
export function packRows (table: Table, rows: readonly Row[]): PackedRows {
  const { names, text: isText, textColumns } = layoutOf(table)
  const width = names.length
  const textLengths = new Int32Array(rows.length * textColumns)
  const numbers = new Float64Array(rows.length * (width - textColumns))
  const numberNulls = new Uint8Array(numbers.length)
  let text = ''
  let textIndex = 0
  let numberIndex = 0
  for (const row of rows) {
    for (let column = 0; column < width; column++) {
      const cell: Cell = row[names[column] ?? ''] ?? null
      if (isText[column] === true) {
        if (cell === null) {
          textLengths[textIndex++] = NULL_TEXT
        } else {
          const value = typeof cell === 'string' ? cell : String(cell)
          textLengths[textIndex++] = value.length
          text += value
        }
      } else {
        if (cell === null) numberNulls[numberIndex] = 1
        else numbers[numberIndex] = Number(cell)
        numberIndex++
      }
    }
  }
  return { rows: rows.length, text, textLengths, numbers, numberNulls }
}

/** The cells of packed rows in column order, as node:sqlite binds them (timestamps as timestampText). */
export function unpackedCells (table: Table, packed: PackedRows): SqliteValue[] {
  const cells = new Array<SqliteValue>(packed.rows * table.columns.length)
  let cellIndex = 0
  let textIndex = 0
  let textOffset = 0
  let numberIndex = 0
  for (let row = 0; row < packed.rows; row++) {
    for (const { type } of table.columns) {
      if (type === 'text') {
        const length = packed.textLengths[textIndex++] ?? NULL_TEXT
        cells[cellIndex++] = length === NULL_TEXT ? null : packed.text.slice(textOffset, textOffset += length)
      } else {
        const value = packed.numbers[numberIndex] ?? 0
        cells[cellIndex++] = packed.numberNulls[numberIndex] === 1 ? null : type === 'timestamp' ? timestampText(value) : value
        numberIndex++
      }
    }
  }
  return cells
}
