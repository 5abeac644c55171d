import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import test from 'ava'
import { buildChange } from '../../src/report/change.js'
import { createDumpSink } from '../../src/report/dump.js'
import { exportOnce } from '../../src/report/export.js'
import { storeSource } from '../../src/report/source.js'
import { createSqliteSink } from '../../src/report/sqlite.js'
import { normalizedCell, normalizedRows, REPORT_QUERIES, startMariadb, type MariadbServer } from '../helpers/databases.js'
import { reportFarm, storeOf } from './rows-farm.js'

const NOW = 1_800_000_000_000

let server: MariadbServer | undefined
let dir: string | undefined

test.before(async () => {
  server = await startMariadb()
  dir = await mkdtemp(path.join(tmpdir(), 'cr-report-mariadb-'))
})

test.after.always(async () => {
  await server?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

test('the MySQL dump loads into MariaDB with its client and answers the report queries as SQLite does', async (t) => {
  if (server === undefined || dir === undefined) throw new Error('the server is started in test.before')
  const farm = await reportFarm()
  const store = await storeOf(farm, path.join(dir, 'store'))
  t.teardown(async () => { await store.close() })

  const sqliteFile = path.join(dir, 'report.sqlite')
  const sqlite = createSqliteSink(sqliteFile)
  await exportOnce(storeSource(store), sqlite, () => NOW)
  await sqlite.close()
  const db = new DatabaseSync(sqliteFile, { readOnly: true })
  const expected = REPORT_QUERIES.map((sql) => (db.prepare(sql).all() as Record<string, unknown>[]).map((row) => Object.values(row).map((cell) => normalizedCell(cell as number | string | null))))
  db.close()
  t.true(expected.every((rows) => rows.length > 0), 'every report query has rows to compare')

  const file = path.join(dir, 'report.mysql.sql')
  await createDumpSink(file, 'mysql').apply(await buildChange(storeSource(store), null, NOW))
  const database = await server.createDatabase('dump')
  await server.mariadb(database, { file })
  const answers = []
  // The portable queries quote names with double quotes, as ANSI SQL does.
  for (const sql of REPORT_QUERIES) answers.push(normalizedRows(await server.mariadb(database, { sql: `SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES'); ${sql}` })))
  t.deepEqual(answers, expected)
})
