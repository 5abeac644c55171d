import { mkdir, readFile, writeFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import test from 'ava'
import { literal } from '../../src/report/dialect.js'
import { buildChange } from '../../src/report/change.js'
import { createDumpSink } from '../../src/report/dump.js'
import { DestinationError } from '../../src/report/errors.js'
import { storeSource } from '../../src/report/source.js'
import { batchesOf, reportFarm, storeOf, tempDir } from './rows-farm.js'

const NOW = 1_800_000_000_000

test('literals escape quotes per dialect, backslashes for MySQL, and timestamps as UTC', (t) => {
  t.is(literal('postgres', 'text', "o'brien \\ x"), "'o''brien \\ x'")
  t.is(literal('sqlite', 'text', "o'brien \\ x"), "'o''brien \\ x'")
  t.is(literal('mysql', 'text', "o'brien \\ x"), "'o''brien \\\\ x'")
  t.is(literal('postgres', 'timestamp', 0), "'1970-01-01 00:00:00.000+00'::timestamptz")
  t.is(literal('mysql', 'timestamp', 1500), "'1970-01-01 00:00:01.500'")
  t.is(literal('postgres', 'boolean', true), 'TRUE')
  t.is(literal('sqlite', 'boolean', false), '0')
  t.is(literal('mysql', 'real', null), 'NULL')
  t.throws(() => literal('sqlite', 'real', Number.NaN), { instanceOf: RangeError })
})

test('a dump of the same state is byte for byte the same, whatever order rows came in', async (t) => {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const store = await storeOf(farm, path.join(dir, 'store'))
  t.teardown(async () => { await store.close() })
  const change = await buildChange(storeSource(store), null, NOW)
  const reversed = { ...change, upserts: (await batchesOf(change)).reverse().map(({ table, rows }) => ({ table, rows: [...rows].reverse() })) }
  for (const dialect of ['sqlite', 'postgres', 'mysql'] as const) {
    const a = path.join(dir, `a.${dialect}.sql`)
    const b = path.join(dir, `b.${dialect}.sql`)
    await createDumpSink(a, dialect).apply(change)
    await createDumpSink(b, dialect).apply(reversed)
    t.is(await readFile(a, 'utf8'), await readFile(b, 'utf8'))
    t.regex(await readFile(a, 'utf8'), /o''brien/)
  }
  const loaded = new DatabaseSync(':memory:')
  loaded.exec(await readFile(path.join(dir, 'a.sqlite.sql'), 'utf8'))
  t.is((loaded.prepare('SELECT COUNT(*) AS n FROM constellationJobTable WHERE jobDeleted = 1').get() as { n: number }).n, 1)
  loaded.close()
})

test('a dump that cannot be written leaves FILE as it was and no temporary file behind', async (t) => {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const store = await storeOf(farm, path.join(dir, 'store'))
  t.teardown(async () => { await store.close() })
  const change = await buildChange(storeSource(store), null, NOW)
  // FILE is a directory holding something: the rename over it fails after the dump was written.
  const target = path.join(dir, 'out')
  await mkdir(target)
  await writeFile(path.join(target, 'keep'), 'precious')
  const error = await t.throwsAsync(createDumpSink(target, 'postgres').apply(change), { instanceOf: DestinationError })
  t.regex(error.message, /out: /)
  t.is(await readFile(path.join(target, 'keep'), 'utf8'), 'precious')
  t.deepEqual((await readdir(dir)).sort(), ['out', 'store'])
})
