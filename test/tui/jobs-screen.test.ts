/** The Jobs screen: rows in scheduling order with status, progress, ETA; `/` filters; a 1,000-job farm is windowed. */
import test from 'ava'
import { KEYS, mount } from './tui-kit.js'
import { MemoryFarmSource } from './memory-source.js'

test('the Jobs screen says so when the farm has no jobs, and the header shows the farm and this peer', async (t) => {
  const app = await mount(await MemoryFarmSource.create())
  t.teardown(app.unmount)
  const frame = await app.until((text) => text.includes('No jobs on the farm yet'), 'the empty state')
  t.regex(frame, /farm _test\._udp\.local {2}3 peers {2}caught up {2}me …1234abcd/)
})

test('the header says when no peer answered and how far behind heartbeats say this peer is', async (t) => {
  const source = await MemoryFarmSource.create()
  source.mesh = { ...source.mesh, peersConnected: 0, sync: { phase: 'alone' } }
  const app = await mount(source)
  t.teardown(app.unmount)
  t.regex(await app.until((text) => text.includes('no peer reachable'), 'no peers'), /0 peers {2}no peer reachable/)
  source.mesh = { ...source.mesh, peersConnected: 1, sync: { phase: 'live' } }
  source.beat(1, { feedSeq: 7 })
  t.regex(await app.until((text) => text.includes('events behind'), 'the events behind'), /1 peer {2}7 events behind/)
})

test('jobs show in scheduling order with status, progress, frames, priority, average frame time and ETA', async (t) => {
  const source = await MemoryFarmSource.create()
  const low = source.submit({ name: 'low_priority', priority: 10 })
  const high = source.submit({ name: 'high_priority', priority: 90, frameStart: 1, frameEnd: 8, blockSize: 2 })
  source.renders(1, high, 0)
  source.finishes(1, high, 0, [1000, 1000])
  source.renders(1, high, 1)
  source.renders(2, high, 2)
  source.as(0, { type: 'job.edited', jobId: low.id, changes: { halted: true } })
  const app = await mount(source)
  t.teardown(app.unmount)
  const frame = await app.until((text) => text.includes('low_priority'), 'both jobs')
  const lines = frame.split('\n')
  const highLine = lines.findIndex((line) => line.includes('high_priority'))
  const lowLine = lines.findIndex((line) => line.includes('low_priority'))
  t.true(highLine < lowLine, 'the higher priority first')
  // 2 of 8 frames done at 1 s each, two nodes on it: 6 frames x 1 s / 2 = 3 s.
  t.regex(lines[highLine] ?? '', /RENDERING\s+high_priority\s+\[##\.{6}\]\s+2\/8\s+90\s+A\s+andrew\s+1\.0 s\s+3\.0 s/)
  t.regex(lines[lowLine] ?? '', /HALT\s+low_priority\s+\[\.{8}\]\s+0\/8\s+10\s+A\s+andrew\s+-\s+-/)
})

test('a new event shows on the screen without any key', async (t) => {
  const source = await MemoryFarmSource.create()
  const job = source.submit({ name: 'live_one', frameStart: 1, frameEnd: 2, blockSize: 1 })
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.until((text) => /QUEUE\s+live_one/.test(text), 'the queued job')
  source.renders(1, job, 0)
  await app.until((text) => /RENDERING\s+live_one/.test(text), 'the job rendering')
  source.finishes(1, job, 0, [500])
  source.renders(1, job, 1)
  source.finishes(1, job, 1, [500])
  const frame = await app.until((text) => /DONE\s+live_one/.test(text), 'the job done')
  t.regex(frame, /2\/2 .*done/)
})

test('/ filters by name, project, user or status as it is typed, and says when nothing matches', async (t) => {
  const source = await MemoryFarmSource.create()
  source.submit({ name: 'shot010_beauty', project: 'feature' })
  source.submit({ name: 'shot020_shadow', project: 'commercial', user: 'maria' })
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.until((text) => text.includes('shot020_shadow'), 'both jobs')
  await app.press('/', 'm', 'a', 'r')
  let frame = await app.until((text) => !text.includes('shot010_beauty'), 'the filter applied')
  t.true(frame.includes('shot020_shadow'))
  t.true(frame.includes('filter jobs: mar'))
  await app.press(KEYS.backspace, KEYS.backspace, KEYS.backspace, 'f', 'e', 'a', 't', KEYS.enter)
  frame = await app.until((text) => text.includes('shot010_beauty') && !text.includes('shot020_shadow'), 'the project filter')
  t.true(frame.includes('ready'))
  await app.press('/', 'z', 'z', 'z', KEYS.enter)
  t.regex(await app.until((text) => text.includes('No job matches'), 'the no-match state'), /No job matches "featzzz"/)
})

test('a farm of 1,000 jobs renders only the rows the terminal holds, and the selection scrolls the window', async (t) => {
  const source = await MemoryFarmSource.create()
  for (let index = 0; index < 1000; index++) source.submit({ name: `job_${String(index).padStart(4, '0')}`, priority: 50 })
  const app = await mount(source, { columns: 100, rows: 24 })
  t.teardown(app.unmount)
  let frame = await app.until((text) => text.includes('job_0000'), 'the first job')
  t.is(frame.split('\n').length, 24, 'exactly the terminal\'s height')
  t.is(frame.split('\n').filter((line) => line.includes('job_')).length, 19, '24 lines less header, tabs, column titles and status')
  t.false(frame.includes('job_0019'))
  await app.press(...Array.from({ length: 30 }, () => 'j'))
  frame = await app.until((text) => text.includes('job_0030'), 'the window scrolled')
  t.false(frame.includes('job_0000'))
})
