import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import test from 'ava'
import { execa } from 'execa'
import type { EventStore } from '../../src/node/store/event-store.js'
import { buildChange } from '../../src/report/change.js'
import { createDumpSink } from '../../src/report/dump.js'
import { AlteredTableError, DestinationError, NewerSchemaError } from '../../src/report/errors.js'
import { exportOnce } from '../../src/report/export.js'
import { createPostgresSink } from '../../src/report/postgres.js'
import { ALL_TABLES } from '../../src/report/schema.js'
import type { ReportSink } from '../../src/report/sink.js'
import { storeSource } from '../../src/report/source.js'
import { createSqliteSink } from '../../src/report/sqlite.js'
import { normalizedCell, normalizedRows, REPORT_QUERIES, startPostgres, type PostgresServer } from '../helpers/databases.js'
import { batchesOf, nodeDir, reportFarm, storeOf, tempDir } from './rows-farm.js'

const NOW = 1_800_000_000_000

async function exportInto (store: EventStore, sink: ReportSink) {
  try {
    return await exportOnce(storeSource(store), sink, () => NOW)
  } finally {
    await sink.close()
  }
}

function sqliteAnswers (file: string): string[][][] {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    return REPORT_QUERIES.map((sql) => (db.prepare(sql).all() as Record<string, unknown>[]).map((row) => Object.values(row).map((cell) => normalizedCell(cell as number | string | null))))
  } finally {
    db.close()
  }
}

async function postgresAnswers (server: PostgresServer, database: string): Promise<string[][][]> {
  return await Promise.all(REPORT_QUERIES.map(async (sql) => normalizedRows(await server.psql(database, { sql }))))
}

/** Every row of every table in key order, as psql prints it: what "unchanged" compares. */
async function contents (server: PostgresServer, database: string): Promise<string[]> {
  const present = await server.psql(database, { sql: "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'" })
  if (present.trim() === '0') return []
  return await Promise.all(ALL_TABLES.map(async (table) =>
    await server.psql(database, { sql: `SELECT * FROM "${table.name}" ORDER BY ${table.primaryKey.map((name) => `"${name}"`).join(', ')}` })))
}

interface Fixture {
  readonly server: PostgresServer
  readonly store: EventStore
  readonly dir: string
  /** The report queries' answers from a SQLite export of the same store. */
  readonly expected: string[][][]
}

let shared: Fixture | undefined

/** One server and one populated store for the file, made once before its tests. */
function fixture (): Fixture {
  if (shared === undefined) throw new Error('the fixture is made in test.before')
  return shared
}

/** What the hook has made so far, so a hook that fails halfway still cleans up after itself. */
const made: { server?: PostgresServer, dir?: string, store?: EventStore } = {}

test.before(async () => {
  const server = made.server = await startPostgres()
  const dir = made.dir = await mkdtemp(path.join(tmpdir(), 'cr-report-pg-'))
  const store = made.store = await storeOf(await reportFarm(), path.join(dir, 'store'))
  const sqliteFile = path.join(dir, 'report.sqlite')
  await exportInto(store, createSqliteSink(sqliteFile))
  shared = { server, store, dir, expected: sqliteAnswers(sqliteFile) }
})

test.after.always(async () => {
  await made.store?.close()
  await made.server?.stop()
  if (made.dir !== undefined) await rm(made.dir, { recursive: true, force: true })
})

/** A database holding a full export of the farm. */
async function exportedDatabase (prefix: string) {
  const { server, store } = fixture()
  const database = await server.createDatabase(prefix)
  await exportInto(store, createPostgresSink(server.url(database)))
  return { server, store, database }
}

test('export postgres answers the report queries as SQLite does, and a second run changes nothing', async (t) => {
  const { expected } = fixture()
  t.true(expected.every((rows) => rows.length > 0), 'every report query has rows to compare')
  const { server, store, database } = await exportedDatabase('sink')
  t.deepEqual(await postgresAnswers(server, database), expected)
  const before = await contents(server, database)
  await exportInto(store, createPostgresSink(server.url(database)))
  t.deepEqual(await contents(server, database), before)
})

test('the postgres dump loaded with psql answers the report queries as SQLite does', async (t) => {
  const { server, store, dir, expected } = fixture()
  const database = await server.createDatabase('dump')
  const file = path.join(dir, 'report.postgres.sql')
  await createDumpSink(file, 'postgres').apply(await buildChange(storeSource(store), null, NOW))
  await server.psql(database, { file })
  t.deepEqual(await postgresAnswers(server, database), expected)
})

test('a wrong password fails naming the cause, and the database is left as it was', async (t) => {
  const { server, store, database } = await exportedDatabase('password')
  const before = await contents(server, database)
  const error = await t.throwsAsync(exportInto(store, createPostgresSink(server.url(database, 'not-the-password'))), { instanceOf: DestinationError })
  t.regex(error.message, /wrong password/)
  t.notRegex(error.message, /not-the-password/)
  t.deepEqual(await contents(server, database), before)
})

test('an unreachable server fails naming the cause', async (t) => {
  const dir = await tempDir(t)
  const error = await t.throwsAsync(exportInto(fixture().store, createPostgresSink(`postgres://postgres:x@localhost/none?host=${encodeURIComponent(dir)}`)), { instanceOf: DestinationError })
  t.regex(error.message, /cannot reach the server/)
  t.is(error.message.split('\n').length, 1)
})

test('a table someone altered is refused by name, and the database is left as it was', async (t) => {
  const { server, store, database } = await exportedDatabase('altered')
  await server.psql(database, { sql: 'ALTER TABLE "constellationBlockTable" ADD COLUMN "studioNote" TEXT' })
  const before = await contents(server, database)
  const error = await t.throwsAsync(exportInto(store, createPostgresSink(server.url(database))), { instanceOf: AlteredTableError })
  t.regex(error.message, /constellationBlockTable.*studioNote/)
  t.deepEqual(await contents(server, database), before)
})

test('a newer schema_version is refused, and the database is left as it was', async (t) => {
  const { server, store, database } = await exportedDatabase('newer')
  await server.psql(database, { sql: 'UPDATE "schema_version" SET "version" = "version" + 1' })
  const before = await contents(server, database)
  await t.throwsAsync(exportInto(store, createPostgresSink(server.url(database))), { instanceOf: NewerSchemaError })
  t.deepEqual(await contents(server, database), before)
})

test('a failing apply rolls back the whole change, and the connection carries the next one', async (t) => {
  const { server, store } = fixture()
  const database = await server.createDatabase('rollback')
  const sink = createPostgresSink(server.url(database))
  t.teardown(async () => { await sink.close() })
  t.deepEqual(await sink.open(), { kind: 'empty' })
  const change = await buildChange(storeSource(store), null, NOW)
  const broken = { ...change, upserts: [...await batchesOf(change), { table: 'constellationJobTable' as const, rows: [{ jobUuid: 'broken' }] }] }
  await t.throwsAsync(sink.apply(broken))
  t.deepEqual(await contents(server, database), [])
  // Repeated small transactions on one connection, as --follow makes them.
  await sink.apply(change)
  await sink.apply({ ...change, upserts: [], removals: [] })
  t.deepEqual(await postgresAnswers(server, database), fixture().expected)
})

test('a server that goes away between transactions fails the next one naming the cause', async (t) => {
  const own = await startPostgres()
  t.teardown(own.stop)
  const database = await own.createDatabase('gone')
  const sink = createPostgresSink(own.url(database))
  t.teardown(async () => { await sink.close() })
  await sink.open()
  const change = await buildChange(storeSource(fixture().store), null, NOW)
  await sink.apply(change)
  await own.stop()
  const error = await t.throwsAsync(sink.apply({ ...change, upserts: [], removals: [] }), { instanceOf: DestinationError })
  t.regex(error.message, /shut down|connection to the server was lost|cannot reach/)
  t.is(error.message.split('\n').length, 1)
})

test('cr export postgres --from writes the same report; a wrong password exits 6 naming the cause, without the password', async (t) => {
  const { server, expected } = fixture()
  const { dir } = await nodeDir(t)
  const database = await server.createDatabase('cli')
  const cr = path.resolve('bin/cr.js')
  const first = await execa(process.execPath, [cr, 'export', 'postgres', server.url(database), '--from', dir])
  t.regex(first.stdout, /^exported to postgres:.*\*\*\*.*: full, \d+ rows written/)
  t.false(first.stdout.includes(server.password), 'the password is never printed')
  t.deepEqual(await postgresAnswers(server, database), expected)
  const before = await contents(server, database)
  const refused = await execa(process.execPath, [cr, 'export', 'postgres', server.url(database, 'not-the-password'), '--from', dir], { reject: false })
  t.is(refused.exitCode, 6)
  t.regex(refused.stderr, /^cr: .*password/)
  t.is(refused.stderr.trim().split('\n').length, 1)
  t.deepEqual(await contents(server, database), before)
})
