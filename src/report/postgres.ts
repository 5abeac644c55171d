/**
 * The PostgreSQL sink (`cr export postgres URL`), through `pg` on one connection. Each
 * apply is one BEGIN/COMMIT that creates the schema if the database had none, so a failed
 * run (server gone, disk full, a table altered meanwhile) rolls back and leaves the
 * database as it was. With --follow the same connection carries one small transaction per
 * batch; the upserts are multi-row named prepared statements, parsed once per connection.
 */
import pg from 'pg'
import { indexAndViewStatements, tableStatements } from './ddl.js'
import { deleteStatement, markDeletedStatement, quoteName, upsertStatement } from './dialect.js'
import { DestinationError } from './errors.js'
import { cellBatches, rowsPerStatement } from './row-batches.js'
import { SCHEMA_VERSION, type Cell, type ColumnType, type Row, type Table, tableNamed } from './schema.js'
import { checkColumns, stateOf, type SchemaReader } from './state.js'
import type { ReportChange, ReportSink, SinkState } from './sink.js'

/** SQLSTATE classes and codes (PostgreSQL appendix A) that name a cause a person can act on. */
const SQLSTATE_REASONS: Readonly<Record<string, string>> = {
  '28P01': 'wrong password',
  28000: 'the server refused this user (pg_hba.conf)',
  '3D000': 'no such database',
  '42501': 'this user may not write here',
  '25006': 'the server is read-only',
  53100: 'the server\'s disk is full',
  '57P01': 'the server shut down',
  '57P03': 'the server is starting up or shutting down'
}

/** Socket errors while connecting: the server cannot be reached at all. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'])

function codeOf (error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined
}

/** The URL as messages may show it: the password replaced. */
function redactedUrl (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@')
  }
}

function destinationError (destination: string, error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error))
  const code = codeOf(error)
  if (code === undefined) {
    if (/Connection terminated/i.test(error.message)) return new DestinationError(destination, 'the connection to the server was lost', { cause: error })
    return error
  }
  if (UNREACHABLE_CODES.has(code)) return new DestinationError(destination, `cannot reach the server (${code})`, { cause: error })
  const reason = SQLSTATE_REASONS[code]
  // Any other SQLSTATE is the server refusing a statement: its own message says why.
  if (reason !== undefined) return new DestinationError(destination, reason, { cause: error })
  if (/^[0-9A-Z]{5}$/.test(code)) return new DestinationError(destination, error.message, { cause: error })
  return error
}

/** A cell as `pg` sends it: timestamps as Dates (timestamptz keeps them UTC), the rest as is. */
function postgresCell (type: ColumnType, cell: Cell): string | number | boolean | Date | null {
  if (cell === null) return null
  if (type === 'timestamp') return new Date(Number(cell))
  if (type === 'boolean') return cell === true || cell === 1
  return cell
}

/** The protocol's limit on a statement's parameters. */
const MAX_PARAMETERS = 65_535
/** Rows per INSERT: enough that round trips stop mattering. */
const ROWS_PER_INSERT = 500

function reader (client: pg.Client): SchemaReader {
  return {
    columnsOf: async (table) => (await client.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1', [table])).rows.map((row) => row.column_name),
    storedVersion: async () => (await client.query<{ version: string, versionVector: string }>(
      `SELECT version, "versionVector" FROM ${quoteName('postgres', 'schema_version')}`)).rows.map((row) => ({ version: Number(row.version), versionVector: row.versionVector }))
  }
}

/** Multi-row upserts, as named prepared statements: parsed once per connection and row count. */
async function upsert (client: pg.Client, table: Table, rows: readonly Row[]): Promise<void> {
  const size = rowsPerStatement(table, MAX_PARAMETERS, ROWS_PER_INSERT)
  for (const values of cellBatches(table, rows, size, postgresCell)) {
    const count = values.length / table.columns.length
    await client.query({ name: `cr-upsert-${table.name}-${count}`, text: upsertStatement('postgres', table, count, (index) => `$${index + 1}`), values })
  }
}

async function write (client: pg.Client, state: SinkState, change: ReportChange): Promise<void> {
  if (state.kind === 'empty') for (const sql of tableStatements('postgres')) await client.query(sql)
  for (const { table, keys } of [...change.removals].reverse()) {
    for (const key of keys) {
      const columns = Object.keys(key)
      await client.query(deleteStatement('postgres', table, columns, (index) => `$${index + 1}`), columns.map((name) => key[name] ?? null))
    }
  }
  for await (const { table, rows } of change.upserts) await upsert(client, tableNamed(table), rows)
  for (const job of change.markedDeleted) await client.query({ name: 'cr-mark-deleted', text: markDeletedStatement('postgres', '$1'), values: [job] })
  await client.query(`DELETE FROM ${quoteName('postgres', 'schema_version')}`)
  await upsert(client, tableNamed('schema_version'), [{ version: SCHEMA_VERSION, versionVector: JSON.stringify(change.vector), exportedAt: change.exportedAt }])
  // Built once the rows are in: faster than growing each index row by row.
  if (state.kind === 'empty') for (const sql of indexAndViewStatements('postgres')) await client.query(sql)
}

/** A sink writing into the database `url` names (postgres://user:password@host/db, or ?host=/socket/dir). */
export function createPostgresSink (url: string): ReportSink {
  const destination = redactedUrl(url)
  let client: pg.Client | null = null
  let lost: Error | null = null
  let state: SinkState = { kind: 'empty' }

  async function connected (): Promise<pg.Client> {
    if (lost !== null) throw destinationError(destination, lost)
    if (client !== null) return client
    const fresh = new pg.Client({ connectionString: url })
    // A server that goes away between queries emits 'error' on the client: keep it for the next call rather than crash.
    fresh.on('error', (error) => { lost = error })
    try {
      await fresh.connect()
    } catch (error) {
      await fresh.end().catch(() => undefined)
      throw destinationError(destination, error)
    }
    client = fresh
    return fresh
  }

  return {
    destination,
    async open () {
      const connection = await connected()
      try {
        state = await stateOf(destination, reader(connection))
      } catch (error) {
        throw destinationError(destination, error)
      }
      return state
    },
    async apply (change) {
      const connection = await connected()
      try {
        await connection.query('BEGIN')
      } catch (error) {
        throw destinationError(destination, error)
      }
      try {
        // The schema may have changed since open (another exporter, a person): check again inside the transaction.
        if (state.kind === 'exported') await checkColumns(destination, reader(connection))
        await write(connection, state, change)
        await connection.query('COMMIT')
        state = { kind: 'exported', schemaVersion: SCHEMA_VERSION, vector: change.vector }
      } catch (error) {
        // A lost connection has rolled back on the server already; otherwise roll back here.
        if (lost === null) await connection.query('ROLLBACK').catch(() => undefined)
        throw destinationError(destination, error)
      }
    },
    async close () {
      const open = client
      client = null
      if (open !== null) await open.end().catch(() => undefined)
    }
  }
}
