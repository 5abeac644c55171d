/** Nodes: the live client table, blocking with a confirmation, and the node editor's field errors. */
import test from 'ava'
import { KEYS, mount, type Mounted } from './tui-kit.js'
import { MemoryFarmSource } from './memory-source.js'

async function farmWithNodes () {
  const source = await MemoryFarmSource.create()
  const job = source.submit({ name: 'shot040', frameStart: 1, frameEnd: 4, blockSize: 2 })
  source.as(1, { type: 'node.settings', node: source.author(1), changes: { name: 'render01', threadLimit: 8, workThreadLimit: 2, memoryLimitMb: 16384, classifications: ['A', 'B'] } })
  source.as(2, { type: 'node.settings', node: source.author(2), changes: { name: 'render02' } })
  source.renders(1, job, 0)
  source.beat(1, { lease: { jobId: job.id, block: 0, epoch: 1 }, progressPct: 10 })
  return { source, job }
}

/** The farm above on the Nodes screen, render01 selected. */
async function onNodes (t: { teardown: (fn: () => void) => void }): Promise<Mounted> {
  const { source } = await farmWithNodes()
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.press('3')
  await app.until((text) => text.includes('render01'), 'the nodes')
  return app
}

/** The node editor open on render01. */
async function editingRender01 (t: { teardown: (fn: () => void) => void }): Promise<Mounted> {
  const app = await onNodes(t)
  await app.press('E')
  await app.until((text) => text.includes('Edit node render01'), 'the editor')
  return app
}

test('Nodes says so when no node is known', async (t) => {
  const app = await mount(await MemoryFarmSource.create())
  t.teardown(app.unmount)
  await app.press('3')
  t.regex(await app.until((text) => text.includes('No render nodes'), 'the empty state'), /No render nodes known yet/)
})

test('Nodes shows status, the current block with live progress, blocked, last seen, classes and limits', async (t) => {
  const { source, job } = await farmWithNodes()
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.press('3')
  let frame = await app.until((text) => text.includes('render02'), 'both nodes')
  const short = job.id.replaceAll('-', '').slice(0, 8)
  t.regex(frame, new RegExp(`render01\\s+RENDERING\\s+${short} #0 10%\\s+no\\s+[\\d.]+ s ago\\s+AB\\s+8\\s+16384 MB\\s+always`))
  t.regex(frame, /render02\s+OFFLINE\s+-\s+no\s+never\s+all\s+unlimited\s+unlimited/)
  source.beat(1, { lease: { jobId: job.id, block: 0, epoch: 1 }, progressPct: 64 })
  frame = await app.until((text) => text.includes('#0 64%'), 'the progress moving')
  t.regex(frame, /render01\s+RENDERING/)
})

test('b asks before blocking a node, then blocks it; b again unblocks it at once', async (t) => {
  const app = await onNodes(t)
  const { source } = app
  await app.press('b')
  await app.until((text) => text.includes('block node render01? It finishes its block and takes no new ones. (y/n)'), 'the question')
  await app.press('y')
  let frame = await app.until((text) => /render01\s+RENDERING\s+\S+ #0 10%\s+BLOCKED/.test(text), 'the node blocked')
  t.regex(frame, /blocked node render01/)
  await app.press('b')
  frame = await app.until((text) => /render01\s+RENDERING\s+\S+ #0 10%\s+no/.test(text), 'the node unblocked')
  t.regex(frame, /unblocked node render01/)
  t.deepEqual(source.written.map((body) => body.type === 'node.settings' ? body.changes : null), [{ blocked: true }, { blocked: false }])
})

test('E edits a node: each field checked as typed, only the changed fields written', async (t) => {
  const app = await editingRender01(t)
  const { source } = app
  // To the threads field, replace 8 with -5.
  await app.press(KEYS.down, KEYS.backspace, '-', '5')
  let frame = await app.until((text) => text.includes('threadLimit:'), 'the field error')
  t.regex(frame, /threads\s+-5.*threadLimit: .*-1/)
  await app.press(KEYS.enter)
  t.regex(await app.until((text) => text.includes('Edit node render01'), 'the editor kept open'), /threadLimit:/)
  await app.press(KEYS.backspace, KEYS.backspace, '4', KEYS.down, KEYS.down, KEYS.down, KEYS.down)
  await app.press(KEYS.backspace, KEYS.backspace, 'A', 'C')
  t.regex(await app.until((text) => !text.includes('threadLimit:') && text.includes('AC'), 'the fields fixed'), /threads\s+4/)
  await app.press(KEYS.enter)
  frame = await app.until((text) => /render01\s+RENDERING.*\s+AC\s+4\s/.test(text), 'the node edited')
  t.regex(frame, /updated node render01/)
  t.deepEqual(source.written, [{ type: 'node.settings', node: source.author(1), changes: { threadLimit: 4, classifications: ['A', 'C'] } }])
})

test('E edits a node\'s schedule as cr node set reads it, refusing a window it cannot read', async (t) => {
  const app = await editingRender01(t)
  const { source } = app
  // Down to the schedule, which shows "always"; replace it with a window missing its mode.
  await app.press(...Array.from({ length: 6 }, () => KEYS.down), ...Array.from({ length: 6 }, () => KEYS.backspace), ...Array.from('mon-fri 09:00-18:00'))
  const frame = await app.until((text) => text.includes('a window is DAYS START-END MODE'), 'the schedule error')
  t.regex(frame, /schedule\s+mon-fri 09:00-18:00/)
  await app.press(...Array.from(' work-hours'), KEYS.enter)
  await app.until((text) => text.includes('updated node render01'), 'the node edited')
  t.deepEqual(source.written, [{
    type: 'node.settings',
    node: source.author(1),
    changes: { schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00', mode: 'work-hours' }] }
  }])
})
