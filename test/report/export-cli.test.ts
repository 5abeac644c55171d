/**
 * `cr export` as a pipeline developer runs it: a real process reading a stopped node's
 * store (`--from`), writing a real SQLite file and SQL dumps.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import test from 'ava'
import { execa } from 'execa'
import { REPORT_TABLES, SCHEMA_VERSION } from '../../src/report/schema.js'
import { nodeDir, tempDir } from './rows-farm.js'

const cr = path.resolve('bin/cr.js')

function reportRows (db: DatabaseSync): Record<string, unknown[]> {
  return Object.fromEntries(REPORT_TABLES.map((table) =>
    [table.name, db.prepare(`SELECT * FROM "${table.name}" ORDER BY ${table.primaryKey.map((name) => `"${name}"`).join(', ')}`).all()]))
}

test('export sqlite --from writes the report, and a second run is incremental', async (t) => {
  const { dir, farm } = await nodeDir(t)
  const file = path.join(dir, 'report.sqlite')
  const first = await execa(process.execPath, [cr, 'export', 'sqlite', file, '--from', dir])
  t.regex(first.stdout, new RegExp(`full, \\d+ rows written, reflecting ${farm.world.events.length} events`))
  const second = await execa(process.execPath, [cr, 'export', 'sqlite', file, '--from', dir])
  t.regex(second.stdout, /incremental/)
  const db = new DatabaseSync(file, { readOnly: true })
  t.teardown(() => { db.close() })
  t.is((db.prepare('SELECT COUNT(*) AS jobs FROM constellationJobTable').get() as { jobs: number }).jobs, 5)
})

/** Every file under `dir`: its path, size, modification time and content hash. */
async function snapshot (dir: string): Promise<string[]> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile())
  return (await Promise.all(files.map(async (entry) => {
    const file = path.join(entry.parentPath, entry.name)
    const { size, mtimeMs } = await stat(file)
    return `${path.relative(dir, file)} ${size} ${mtimeMs} ${createHash('sha256').update(await readFile(file)).digest('hex')}`
  }))).sort()
}

test('export --from leaves the node\'s data dir exactly as it was', async (t) => {
  const { dir } = await nodeDir(t)
  const out = await tempDir(t)
  const before = await snapshot(dir)
  await execa(process.execPath, [cr, 'export', 'sqlite', path.join(out, 'report.sqlite'), '--from', dir])
  await execa(process.execPath, [cr, 'export', 'sql', path.join(out, 'report.sql'), '--from', dir])
  t.deepEqual(await snapshot(dir), before)
  const missing = await execa(process.execPath, [cr, 'export', 'sqlite', path.join(out, 'other.sqlite'), '--from', out], { reject: false })
  t.not(missing.exitCode, 0)
  t.deepEqual((await readdir(out)).sort(), ['report.sql', 'report.sqlite'])
})

test('the sqlite dialect dump loads into SQLite with the same rows as export sqlite', async (t) => {
  const { dir } = await nodeDir(t)
  const file = path.join(dir, 'report.sqlite')
  await execa(process.execPath, [cr, 'export', 'sqlite', file, '--from', dir])
  const dump = path.join(dir, 'report.sql')
  await execa(process.execPath, [cr, 'export', 'sql', dump, '--dialect', 'sqlite', '--from', dir])
  const loaded = new DatabaseSync(':memory:')
  loaded.exec(await readFile(dump, 'utf8'))
  const exported = new DatabaseSync(file, { readOnly: true })
  t.teardown(() => { loaded.close(); exported.close() })
  t.deepEqual(reportRows(loaded), reportRows(exported))
})

test('bad input exits with the documented codes and a one-line cause', async (t) => {
  const { dir } = await nodeDir(t)
  const dialect = await execa(process.execPath, [cr, 'export', 'sql', path.join(dir, 'x.sql'), '--dialect', 'oracle', '--from', dir], { reject: false })
  t.is(dialect.exitCode, 2)
  const file = path.join(dir, 'report.sqlite')
  await execa(process.execPath, [cr, 'export', 'sqlite', file, '--from', dir])
  const db = new DatabaseSync(file)
  db.exec('UPDATE schema_version SET version = 7')
  db.close()
  const newer = await execa(process.execPath, [cr, 'export', 'sqlite', file, '--from', dir], { reject: false })
  t.is(newer.exitCode, 6)
  t.regex(newer.stderr, new RegExp(`^cr: .*schema_version 7 is newer than this cr supports \\(${SCHEMA_VERSION}\\)`))
  t.is(newer.stderr.trim().split('\n').length, 1)
})
