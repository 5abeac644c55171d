import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import test, { type ExecutionContext } from 'ava'
import { CorruptStoreError } from '../../src/node/store/errors.js'
import { EventStore } from '../../src/node/store/event-store.js'
import { AlteredTableError, DestinationError, NewerSchemaError } from '../../src/report/errors.js'
import { exportOnce, followExport } from '../../src/report/export.js'
import { liveStoreSource, storeSource } from '../../src/report/source.js'
import { createSqliteSink, type SqliteSinkOptions } from '../../src/report/sqlite.js'
import { ARTIST, damageFirstEvent, ingest, NODE_A, NODE_B, reportFarm, storeOf, tempDir, type ReportFarm } from './rows-farm.js'
import { contents, exportToSqlite, NOW, query } from './sqlite-report.js'

async function exportTo (store: EventStore, file: string, options: SqliteSinkOptions = {}) {
  return exportToSqlite(storeSource(store), file, options)
}

async function exported (t: ExecutionContext): Promise<{ farm: ReportFarm, store: EventStore, file: string, dir: string }> {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const store = await storeOf(farm, path.join(dir, 'store'))
  t.teardown(async () => { await store.close() })
  const file = path.join(dir, 'report.sqlite')
  await exportTo(store, file)
  return { farm, store, file, dir }
}

test('jobs done, failed, halted, deleted and retried have the statuses the view gives', async (t) => {
  const { farm, store, file } = await exported(t)
  const rows = query<{ jobUuid: string, jobStatus: string, jobDeleted: number, jobFramesDone: number, jobBlocked: string }>(file, 'SELECT jobUuid, jobStatus, jobDeleted, jobFramesDone, jobBlocked FROM constellationJobTable')
  const byId = new Map(rows.map((row) => [row.jobUuid, row]))
  for (const job of store.view().jobs) {
    t.like(byId.get(job.id), { jobStatus: job.status, jobDeleted: 0, jobFramesDone: job.framesDone, jobBlocked: job.enabled ? 'ENABLED' : 'DISABLED' })
  }
  t.like(byId.get(farm.jobs.done.id), { jobStatus: 'DONE' })
  t.like(byId.get(farm.jobs.failed.id), { jobStatus: 'ERROR', jobBlocked: 'DISABLED' })
  t.like(byId.get(farm.jobs.halted.id), { jobStatus: 'HALT' })
  t.like(byId.get(farm.jobs.retried.id), { jobStatus: 'DONE' })
  // The submitter's delete compacted the job in the store; its row stays, marked, as it stood.
  t.is(store.records().jobs[farm.jobs.deleted.id]?.submission, null)
  t.like(byId.get(farm.jobs.deleted.id), { jobDeleted: 1, jobFramesDone: 2 })
  t.is(rows.length, 5)
})

test('a first export, built without checking its foreign keys as rows go in, holds every one of them', async (t) => {
  const { file } = await exported(t)
  const counts = query<{ blocks: number, frames: number, logs: number }>(file, 'SELECT (SELECT COUNT(*) FROM constellationBlockTable) AS blocks, (SELECT COUNT(*) FROM constellationFrameTable) AS frames, (SELECT COUNT(*) FROM constellationLogTable) AS logs')[0]
  t.true((counts?.blocks ?? 0) > 0 && (counts?.frames ?? 0) > 0 && (counts?.logs ?? 0) > 0, 'rows in every table the keys join')
  t.deepEqual(query(file, 'PRAGMA foreign_key_check'), [])
})

test('the report views give the render times and failures the farm view says', async (t) => {
  const { farm, store, file } = await exported(t)
  const view = store.view()
  const perJob = query<{ jobUuid: string, averageFrameMs: number, frames: number }>(file, 'SELECT jobUuid, averageFrameMs, frames FROM constellationJobRenderTimeView')
  for (const job of view.jobs.filter((candidate) => candidate.renderTime.frames > 0)) {
    t.like(perJob.find((row) => row.jobUuid === job.id), { averageFrameMs: job.renderTime.averageFrameMs, frames: job.renderTime.frames })
  }
  t.like(perJob.find((row) => row.jobUuid === farm.jobs.deleted.id), { averageFrameMs: 500, frames: 2 })
  const perNode = query<{ clientId: string, clientName: string, averageFrameMs: number }>(file, 'SELECT clientId, clientName, averageFrameMs FROM constellationNodeRenderTimeView')
  const liveNodes = view.nodes.map((node) => node.id)
  for (const node of view.nodes) {
    // The node view no longer counts the deleted job's frames; the report keeps its history.
    const deletedMs = node.id === farm.world.author(NODE_B) ? 1000 : 0
    const deletedFrames = node.id === farm.world.author(NODE_B) ? 2 : 0
    const expected = (node.renderTime.totalMs + deletedMs) / (node.renderTime.frames + deletedFrames)
    t.like(perNode.find((row) => row.clientId === node.id), { clientName: node.name, averageFrameMs: expected })
  }
  t.is(perNode.length, liveNodes.length)
  const failures = query<{ clientId: string, failures: number, jobs: number }>(file, 'SELECT clientId, failures, jobs FROM constellationNodeFailureView')
  t.deepEqual(failures, [{ clientId: farm.world.author(NODE_A), failures: 2, jobs: 2 }])
  const jobFailures = query<{ jobUuid: string, failures: number }>(file, 'SELECT jobUuid, failures FROM constellationJobFailureView ORDER BY jobUuid')
  t.deepEqual(jobFailures, [{ jobUuid: farm.jobs.failed.id, failures: 1 }, { jobUuid: farm.jobs.retried.id, failures: 1 }].sort((a, b) => (a.jobUuid < b.jobUuid ? -1 : 1)))
  const frames = query<{ frames: number }>(file, 'SELECT SUM(frames) AS frames FROM constellationFramesDayView')
  t.is(frames[0]?.frames, view.jobs.reduce((sum, job) => sum + job.framesDone, 0) + 2)
  const hours = query<{ utilisation: number, onlineNodeHours: number }>(file, 'SELECT utilisation, onlineNodeHours FROM constellationUtilisationHourView')
  t.true(hours.length > 0)
  for (const hour of hours) t.true(hour.utilisation >= 0 && hour.onlineNodeHours >= 1)
})

test('an incremental export equals a fresh full export, and a second run writes nothing new', async (t) => {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const half = Math.floor(farm.world.events.length / 2)
  const store = await storeOf(farm, path.join(dir, 'store'), half)
  t.teardown(async () => { await store.close() })
  const incremental = path.join(dir, 'incremental.sqlite')
  t.like(await exportTo(store, incremental), { kind: 'full' })
  await ingest(store, farm.world, half)
  const second = await exportTo(store, incremental)
  t.is(second.kind, 'incremental')
  const full = path.join(dir, 'full.sqlite')
  await exportTo(store, full)
  t.deepEqual(contents(incremental), contents(full))
  const again = await exportTo(store, incremental)
  t.like(again, { kind: 'incremental' })
  t.deepEqual(contents(incremental), contents(full))
})

function unchangedBy (t: ExecutionContext, file: string): () => void {
  const before = readFileSync(file)
  return () => { t.deepEqual(readFileSync(file), before, 'the file is exactly as before') }
}

test('a table someone altered is refused by name, and the file is left as it was', async (t) => {
  const { store, file } = await exported(t)
  const db = new DatabaseSync(file)
  db.exec('ALTER TABLE constellationBlockTable ADD COLUMN mine TEXT')
  db.close()
  const check = unchangedBy(t, file)
  const error = await t.throwsAsync(exportTo(store, file), { instanceOf: AlteredTableError })
  t.is(error.table, 'constellationBlockTable')
  t.regex(error.message, /constellationBlockTable.*unexpected mine/)
  check()
})

test('a newer schema_version is refused, and the file is left as it was', async (t) => {
  const { store, file } = await exported(t)
  const db = new DatabaseSync(file)
  db.exec('UPDATE schema_version SET version = 99')
  db.close()
  const check = unchangedBy(t, file)
  const error = await t.throwsAsync(exportTo(store, file), { instanceOf: NewerSchemaError })
  t.is(error.found, 99)
  check()
})

test('a read-only file fails naming the cause, and is left as it was', async (t) => {
  const { farm, store, file, dir } = await exported(t)
  const more = await storeOf(farm, path.join(dir, 'more'))
  t.teardown(async () => { await more.close() })
  // The tests run as root, which file modes do not stop: make the file immutable instead.
  execFileSync('chattr', ['+i', file])
  t.teardown(() => { execFileSync('chattr', ['-i', file]) })
  await store.close()
  const check = unchangedBy(t, file)
  const { world } = farm
  world.write(NODE_A, { type: 'log.recorded', clientName: 'render-a', jobId: null, block: null, description: 'one more', outputTail: [] })
  await ingest(more, world, world.events.length - 1)
  const error = await t.throwsAsync(exportTo(more, file), { instanceOf: DestinationError })
  t.regex(error.message, /read-only/)
  check()
})

test('a disk that fills rolls the run back: an existing file is left as it was, a new one is not left behind', async (t) => {
  const { farm, file, dir } = await exported(t)
  const { world } = farm
  for (let i = 0; i < 200; i++) world.write(NODE_A, { type: 'log.recorded', clientName: 'render-a', jobId: null, block: null, description: `line ${i} ${'x'.repeat(900)}`, outputTail: [] })
  const more = await storeOf(farm, path.join(dir, 'more'))
  t.teardown(async () => { await more.close() })
  const pages = query<{ page_count: number }>(file, 'PRAGMA page_count')[0]?.page_count ?? 0
  const check = unchangedBy(t, file)
  const error = await t.throwsAsync(exportTo(more, file, { maxPageCount: pages + 2 }), { instanceOf: DestinationError })
  t.regex(error.message, /disk is full/)
  check()
  const fresh = path.join(dir, 'fresh.sqlite')
  await t.throwsAsync(exportTo(more, fresh, { maxPageCount: 8 }), { instanceOf: DestinationError, message: /disk is full/ })
  t.false(existsSync(fresh))
})

test('a first export whose store turns out damaged fails with the damage, and leaves no file behind', async (t) => {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const location = path.join(dir, 'store')
  await (await storeOf(farm, location)).close()
  await damageFirstEvent(farm, location, NODE_B)
  const store = await EventStore.open(location, farm.exporter, { authority: { founder: farm.world.author(ARTIST) } })
  t.teardown(async () => { await store.close() })
  const reports = path.join(dir, 'reports')
  mkdirSync(reports)
  // The job rows go to the writer thread first; the damage shows once the log is read.
  const error = await t.throwsAsync(exportTo(store, path.join(reports, 'report.sqlite')), { instanceOf: CorruptStoreError })
  t.regex(error.part, new RegExp(`events/${farm.world.author(NODE_B)}!0+1$`))
  t.deepEqual(readdirSync(reports), [], 'neither the file nor its temporary file')
})

test.serial('following applies new events in small transactions, and stopping leaves the mirror equal to a full export', async (t) => {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const half = Math.floor(farm.world.events.length / 2)
  const store = await storeOf(farm, path.join(dir, 'store'), half)
  t.teardown(async () => { await store.close() })
  const mirror = path.join(dir, 'mirror.sqlite')
  const sink = createSqliteSink(mirror)
  const start = await exportOnce(storeSource(store), sink, () => NOW)
  const errors: unknown[] = []
  const follower = followExport(liveStoreSource(store), sink, start.vector, { now: () => NOW, onError: (error) => { errors.push(error) } })
  const startedAt = Date.now()
  await ingest(store, farm.world, half)
  while (follower.batches() === 0 && Date.now() - startedAt < 5_000) await new Promise((resolve) => setTimeout(resolve, 20))
  const lagMs = Date.now() - startedAt
  await follower.stop()
  await sink.close()
  t.deepEqual(errors, [])
  t.true(lagMs < 1_000, `the mirror caught up after ${lagMs} ms`)
  const full = path.join(dir, 'full.sqlite')
  await exportTo(store, full)
  t.deepEqual(contents(mirror), contents(full))
})
