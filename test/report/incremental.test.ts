/**
 * Incremental exports against a fresh full export of the same store, for the changes
 * that only show on a second run: a node leaving the farm's view, a job deleted long
 * after it was exported, and a job that came and went between two runs.
 */
import path from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { EventStore } from '../../src/node/store/event-store.js'
import { storeSource, type ExportSource } from '../../src/report/source.js'
import { ARTIST, ingest, NODE_A, NODE_B, render, reportFarm, storeOf, tempDir, type ReportFarm } from './rows-farm.js'
import { contents, exportToSqlite, query } from './sqlite-report.js'

interface Exported {
  readonly farm: ReportFarm
  readonly store: EventStore
  readonly dir: string
  /** Exported once, before the test's own events. */
  readonly file: string
}

async function exportedFarm (t: ExecutionContext): Promise<Exported> {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const store = await storeOf(farm, path.join(dir, 'store'))
  t.teardown(async () => { await store.close() })
  const file = path.join(dir, 'incremental.sqlite')
  t.like(await exportToSqlite(storeSource(store), file), { kind: 'full' })
  return { farm, store, dir, file }
}

/** Takes in what the world wrote since `from`, exports again, and checks the result against a fresh full export. */
async function incrementalEqualsFull (t: ExecutionContext, { farm, store, dir, file }: Exported, from: number, source: ExportSource = storeSource(store)): Promise<void> {
  await ingest(store, farm.world, from)
  t.like(await exportToSqlite(source, file), { kind: 'incremental' })
  const full = path.join(dir, `full-${from}.sqlite`)
  t.like(await exportToSqlite(storeSource(store), full), { kind: 'full' })
  t.deepEqual(contents(file), contents(full))
}

function clientIds (file: string): string[] {
  return query<{ clientId: string }>(file, 'SELECT clientId FROM constellationClientTable ORDER BY clientId').map((row) => row.clientId)
}

test('a node taken out of the farm leaves no client row behind', async (t) => {
  const exported = await exportedFarm(t)
  const { world } = exported.farm
  const removed = world.author(NODE_B)
  t.true(clientIds(exported.file).includes(removed))
  const from = world.events.length
  world.write(ARTIST, { type: 'node.settings', node: removed, changes: { removed: true } })
  await incrementalEqualsFull(t, exported, from)
  t.false(exported.store.view().nodes.some((node) => node.id === removed))
  t.deepEqual(clientIds(exported.file), [world.author(NODE_A)])
})

test('a job deleted after it was exported is marked deleted without reading the whole log again', async (t) => {
  const exported = await exportedFarm(t)
  const { world, jobs } = exported.farm
  const from = world.events.length
  world.write(ARTIST, { type: 'job.deleted', jobId: jobs.done.id })
  let logReads = 0
  const source = storeSource(exported.store)
  const counting: ExportSource = { ...source, allEvents: () => { logReads++; return source.allEvents() } }
  await incrementalEqualsFull(t, exported, from, counting)
  t.is(logReads, 0)
  t.like(query(exported.file, `SELECT jobDeleted, jobFramesDone FROM constellationJobTable WHERE jobUuid = '${jobs.done.id}'`)[0], { jobDeleted: 1, jobFramesDone: 4 })
})

test('a job submitted, rendered and deleted between two runs keeps its rows, rebuilt from the log', async (t) => {
  const exported = await exportedFarm(t)
  const { world } = exported.farm
  const from = world.events.length
  const job = world.submit(ARTIST, { frameStart: 1, frameEnd: 2, blockSize: 2, name: 'shot090', project: 'feature' })
  render(world, NODE_A, job, 0, 1, [700, 900])
  world.write(ARTIST, { type: 'job.deleted', jobId: job.id })
  await incrementalEqualsFull(t, exported, from)
  t.like(query(exported.file, `SELECT jobDeleted, jobFramesDone FROM constellationJobTable WHERE jobUuid = '${job.id}'`)[0], { jobDeleted: 1, jobFramesDone: 2 })
  t.is(query<{ n: number }>(exported.file, `SELECT COUNT(*) AS n FROM constellationFrameTable WHERE jobUuid = '${job.id}'`)[0]?.n, 2)
})
