/**
 * The report schema as each dialect's DDL: CREATE TABLE (types, primary and foreign
 * keys, CHECKed enums), CREATE INDEX and the report views. Sinks run these statements
 * inside their first transaction (the indexes and views after the rows); the SQL dump
 * writes them at its head.
 */
import { quoteName, storageType, type Dialect } from './dialect.js'
import { ALL_TABLES, type Column, type Table } from './schema.js'
import { reportViews } from './views.js'

function keyedColumns (table: Table): Set<string> {
  return new Set([...table.primaryKey, ...table.foreignKeys.flatMap((key) => key.columns)])
}

function columnDefinition (dialect: Dialect, column: Column, keyed: boolean): string {
  const name = quoteName(dialect, column.name)
  const parts = [name, storageType(dialect, column, keyed)]
  if (column.nullable !== true) parts.push('NOT NULL')
  if (column.oneOf !== undefined) parts.push(`CHECK (${name} IN (${column.oneOf.map((value) => `'${value}'`).join(', ')}))`)
  if (column.type === 'boolean' && dialect === 'sqlite') parts.push(`CHECK (${name} IN (0, 1))`)
  return parts.join(' ')
}

const list = (dialect: Dialect, names: readonly string[]): string => names.map((name) => quoteName(dialect, name)).join(', ')

export function createTable (dialect: Dialect, table: Table): string {
  const keyed = keyedColumns(table)
  const lines = [
    ...table.columns.map((column) => columnDefinition(dialect, column, keyed.has(column.name))),
    `PRIMARY KEY (${list(dialect, table.primaryKey)})`,
    ...table.foreignKeys.map((key) => `FOREIGN KEY (${list(dialect, key.columns)}) REFERENCES ${quoteName(dialect, key.references)} (${list(dialect, key.referencedColumns)})`)
  ]
  const suffix = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : ''
  return `CREATE TABLE ${quoteName(dialect, table.name)} (\n  ${lines.join(',\n  ')}\n)${suffix}`
}

/** MySQL indexes TEXT only by a prefix; 191 characters fit InnoDB's key limit in utf8mb4. */
const MYSQL_TEXT_PREFIX = 191

function indexColumn (dialect: Dialect, table: Table, name: string): string {
  const column = table.columns.find((candidate) => candidate.name === name)
  const quoted = quoteName(dialect, name)
  const unkeyedText = column?.type === 'text' && !keyedColumns(table).has(name) && column.oneOf === undefined
  return dialect === 'mysql' && unkeyedText ? `${quoted}(${MYSQL_TEXT_PREFIX})` : quoted
}

export function createIndexes (dialect: Dialect, table: Table): string[] {
  return table.indexes.map((index) =>
    `CREATE INDEX ${quoteName(dialect, index.name)} ON ${quoteName(dialect, table.name)} (${index.columns.map((name) => indexColumn(dialect, table, name)).join(', ')})`)
}

/** The tables, parents first: what must exist before rows go in. */
export function tableStatements (dialect: Dialect): string[] {
  return ALL_TABLES.map((table) => createTable(dialect, table))
}

/**
 * The indexes and views. A full export creates them once its rows are in: building an
 * index from a million rows at once is much faster than growing it row by row.
 */
export function indexAndViewStatements (dialect: Dialect): string[] {
  return [...ALL_TABLES.flatMap((table) => createIndexes(dialect, table)), ...viewStatements(dialect)]
}

/** The report views, which read the tables and their indexes. */
export function viewStatements (dialect: Dialect): string[] {
  return reportViews(dialect).map((view) => `CREATE VIEW ${quoteName(dialect, view.name)} AS\n${view.select}`)
}

/** Every statement that creates the schema from nothing, in order (no trailing semicolons). */
export function schemaStatements (dialect: Dialect): string[] {
  return [...tableStatements(dialect), ...indexAndViewStatements(dialect)]
}
