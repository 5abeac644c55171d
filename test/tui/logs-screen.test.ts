/** Logs: the log report, filtered by job, node and severity, following new records. */
import test from 'ava'
import { KEYS, mount } from './tui-kit.js'
import { MemoryFarmSource } from './memory-source.js'

async function farmWithLog () {
  const source = await MemoryFarmSource.create()
  const first = source.submit({ name: 'first', priority: 90, frameStart: 1, frameEnd: 2, blockSize: 1 })
  const second = source.submit({ name: 'second', priority: 10, frameStart: 1, frameEnd: 1, blockSize: 1 })
  source.as(1, { type: 'node.settings', node: source.author(1), changes: { name: 'render01' } })
  source.as(2, { type: 'node.settings', node: source.author(2), changes: { name: 'render02' } })
  source.renders(1, first, 0)
  source.as(2, { type: 'block.claimed', jobId: second.id, block: 0, epoch: 1 })
  source.as(2, { type: 'block.failed', jobId: second.id, block: 0, epoch: 1, failure: 'fatal', message: 'scene not found', outputTail: ['Error: cannot read file'] })
  return { source, first, second }
}

test('Logs shows every record, newest last, with the renderer output under a failure', async (t) => {
  const { source } = await farmWithLog()
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.press('4')
  const frame = await app.until((text) => text.includes('following'), 'the log')
  t.regex(frame, /all jobs, all nodes, info and above {2}following {2}6 records/)
  t.regex(frame, /render02\s+\w{8}\s+block 0 failed \(fatal\): scene not found\n\s+\| Error: cannot read file/)
  t.regex(frame, /render01\s+\w{8}\s+started rendering block 0/)
})

test('s narrows to warnings and errors, l from Jobs shows one job\'s records, c clears, and new records are followed', async (t) => {
  const { source, first } = await farmWithLog()
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.press('4', 's')
  let frame = await app.until((text) => text.includes('warn and above'), 'the severity filter')
  t.regex(frame, /1 records/)
  t.false(frame.includes('started rendering'))
  await app.press('s', 's', '1', 'l')
  frame = await app.until((text) => text.includes('job '), 'the job filter')
  t.regex(frame, new RegExp(`job ${first.id.replaceAll('-', '').slice(0, 8)}, all nodes, info and above {2}following {2}3 records`))
  t.false(frame.includes('scene not found'))
  source.finishes(1, first, 0, [800])
  frame = await app.until((text) => text.includes('finished block 0'), 'the new record followed')
  t.regex(frame, /4 records/)
  await app.press('c')
  t.regex(await app.until((text) => text.includes('all jobs'), 'the filter cleared'), /7 records/)
})

test('l on Nodes shows one node\'s records; scrolling back stops following until End', async (t) => {
  const { source } = await farmWithLog()
  const app = await mount(source, { columns: 120, rows: 8 })
  t.teardown(app.unmount)
  await app.press('3')
  await app.until((text) => text.includes('render02'), 'the nodes')
  await app.press(KEYS.down, 'l')
  const frame = await app.until((text) => text.includes('node render02'), 'the node filter')
  t.regex(frame, /2 records/)
  await app.press('4', 'c', KEYS.up)
  t.regex(await app.until((text) => text.includes('back (End to follow)'), 'scrolled back'), /1 back/)
  await app.press('G')
  t.regex(await app.until((text) => text.includes('following'), 'following again'), /following/)
})

test('Logs says so when no record matches', async (t) => {
  const app = await mount(await MemoryFarmSource.create())
  t.teardown(app.unmount)
  await app.press('4')
  t.regex(await app.until((text) => text.includes('No log records'), 'the empty state'), /0 records/)
})
