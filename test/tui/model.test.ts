/** The view model on its own: rows cached per job revision, the ETA's arithmetic, the window kept around the selection. */
import test from 'ava'
import { etaOf, JobRows } from '../../src/tui/model/jobs.js'
import { windowOf } from '../../src/tui/model/window.js'
import { MemoryFarmSource } from './memory-source.js'

test('job rows are derived again only for the jobs an event changed', async (t) => {
  const source = await MemoryFarmSource.create()
  const jobs = Array.from({ length: 50 }, (_, index) => source.submit({ name: `job${index}` }))
  const rows = new JobRows()
  const before = rows.rows(source.snapshot().view.jobs, new Set())
  const changed = jobs[7]
  if (changed === undefined) throw new Error('no job 7')
  source.renders(1, changed, 0)
  const after = rows.rows(source.snapshot().view.jobs, new Set())
  const rebuilt = after.filter((row, index) => row !== before[index])
  t.deepEqual(rebuilt.map((row) => row.name), ['job7'])
  t.is(rebuilt[0]?.status, 'RENDERING')
  // A holder found gone changes every ETA it shared in: the rows are derived afresh.
  const gone = rows.rows(source.snapshot().view.jobs, new Set([source.author(1)]))
  t.not(gone[7], after[7])
})

test('the ETA is the frames left at the average frame time, shared by the nodes on the job', async (t) => {
  const source = await MemoryFarmSource.create()
  const spec = source.submit({ frameStart: 1, frameEnd: 10, blockSize: 2 })
  source.renders(1, spec, 0)
  source.finishes(1, spec, 0, [3000, 1000])
  const job = source.snapshot().view.jobs[0]
  if (job === undefined) throw new Error('no job')
  t.is(etaOf(job, 2), '8.0 s', '8 frames left at 2 s each, shared by 2 nodes')
  t.is(etaOf(job, 0), 'waiting')
})

test('the window keeps the selection in sight and never runs past either end', (t) => {
  t.deepEqual(windowOf(5, 3, 10), { start: 0, end: 5 })
  t.deepEqual(windowOf(1000, 0, 20), { start: 0, end: 20 })
  t.deepEqual(windowOf(1000, 500, 20), { start: 490, end: 510 })
  t.deepEqual(windowOf(1000, 999, 20), { start: 980, end: 1000 })
})
