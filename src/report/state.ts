/**
 * Reading what a destination holds, the same way for every database: which schema
 * version and version vector it records, and whether its tables still have the schema's
 * columns. A sink supplies the two queries (SchemaReader); this decides.
 */
import { AlteredTableError, NewerSchemaError } from './errors.js'
import { ALL_TABLES, SCHEMA_VERSION } from './schema.js'
import type { SinkState } from './sink.js'
import type { VersionVector } from '../protocol/version-vector.js'

export interface SchemaReader {
  /** The table's column names; empty when there is no such table. */
  columnsOf: (table: string) => Promise<readonly string[]>
  /** The schema_version rows (call only when the table exists). */
  storedVersion: () => Promise<readonly { readonly version: number, readonly versionVector: string }[]>
}

/** Refuses a table whose columns are not exactly the schema's, naming it. */
export async function checkColumns (destination: string, reader: SchemaReader): Promise<void> {
  for (const table of ALL_TABLES) {
    const found = new Set(await reader.columnsOf(table.name))
    if (found.size === 0) throw new AlteredTableError(destination, table.name, 'the table is missing')
    const expected = table.columns.map((column) => column.name)
    const missing = expected.filter((name) => !found.has(name))
    const extra = [...found].filter((name) => !expected.includes(name))
    if (missing.length > 0 || extra.length > 0) {
      const detail = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', extra.length > 0 ? `unexpected ${extra.join(', ')}` : ''].filter(Boolean).join('; ')
      throw new AlteredTableError(destination, table.name, detail)
    }
  }
}

function parseVector (destination: string, text: string): VersionVector {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new AlteredTableError(destination, 'schema_version', 'versionVector is not JSON')
  }
  const valid = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) &&
    Object.values(parsed).every((seq) => Number.isSafeInteger(seq) && (seq as number) >= 0)
  if (!valid) throw new AlteredTableError(destination, 'schema_version', 'versionVector is not a version vector')
  return parsed as VersionVector
}

/**
 * What the destination holds: nothing of ours (no report table at all), or an export
 * of this schema. Throws NewerSchemaError before anything else, since a newer schema
 * may legitimately have other columns; then AlteredTableError for any table that differs.
 */
export async function stateOf (destination: string, reader: SchemaReader): Promise<SinkState> {
  const present = []
  for (const table of ALL_TABLES) if ((await reader.columnsOf(table.name)).length > 0) present.push(table.name)
  if (present.length === 0) return { kind: 'empty' }
  if (present.includes('schema_version')) {
    const newest = Math.max(...(await reader.storedVersion()).map((row) => row.version))
    if (newest > SCHEMA_VERSION) throw new NewerSchemaError(destination, newest, SCHEMA_VERSION)
  }
  await checkColumns(destination, reader)
  const rows = await reader.storedVersion()
  const [row] = rows
  if (row === undefined || rows.length > 1) throw new AlteredTableError(destination, 'schema_version', `holds ${rows.length} rows, expected one`)
  if (row.version < SCHEMA_VERSION) throw new AlteredTableError(destination, 'schema_version', `version ${row.version} is older than ${SCHEMA_VERSION} and cannot be migrated`)
  return { kind: 'exported', schemaVersion: row.version, vector: parseVector(destination, row.versionVector) }
}
