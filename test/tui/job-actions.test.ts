/** Job actions by key: each written as the CLI's verb writes it, destructive ones confirmed, the outcome or error in the status line. */
import test from 'ava'
import { KEYS, mount } from './tui-kit.js'
import { MemoryFarmSource } from './memory-source.js'

async function oneJob (name = 'shot010_beauty') {
  const source = await MemoryFarmSource.create()
  const job = source.submit({ name })
  const app = await mount(source)
  await app.until((text) => text.includes(name), 'the job')
  return { source, job, app }
}

test('h halts and r resumes the selected job, saying so in the status line', async (t) => {
  const { source, job, app } = await oneJob()
  t.teardown(app.unmount)
  await app.press('h')
  let frame = await app.until((text) => /HALT\s+shot010_beauty/.test(text), 'the job halted')
  t.regex(frame, new RegExp(`halted job ${job.id.replaceAll('-', '').slice(0, 8)} \\(shot010_beauty\\)`))
  t.deepEqual(source.written.at(-1), { type: 'job.edited', jobId: job.id, changes: { halted: true } })
  await app.press('r')
  frame = await app.until((text) => /QUEUE\s+shot010_beauty/.test(text), 'the job resumed')
  t.regex(frame, /resumed job/)
})

test('d disables and e enables the job', async (t) => {
  const { source, job, app } = await oneJob()
  t.teardown(app.unmount)
  await app.press('d')
  await app.until((text) => /DISABLED\s+shot010_beauty/.test(text), 'the job disabled')
  await app.press('e')
  await app.until((text) => /QUEUE\s+shot010_beauty/.test(text), 'the job enabled')
  t.deepEqual(source.written.map((body) => body.type === 'job.edited' ? body.changes : null), [{ enabled: false }, { enabled: true }])
  t.is(source.written[0]?.type === 'job.edited' ? source.written[0].jobId : null, job.id)
})

test('+ and - move the priority by one, p sets it, and a refused value is named by its field', async (t) => {
  const { app } = await oneJob()
  t.teardown(app.unmount)
  await app.press('+', '+')
  await app.until((text) => /shot010_beauty.*\s52\s/.test(text), 'priority 52')
  await app.press('-')
  await app.until((text) => /shot010_beauty.*\s51\s/.test(text), 'priority 51')
  await app.press('p', KEYS.backspace, KEYS.backspace, '7', '5', KEYS.enter)
  await app.until((text) => /shot010_beauty.*\s75\s/.test(text), 'priority 75')
  await app.press('p', KEYS.backspace, KEYS.backspace, '1', '5', '0', KEYS.enter)
  const frame = await app.until((text) => text.includes('invalid changes.priority'), 'the refusal')
  t.regex(frame, /invalid changes\.priority: priority 150 is above 99/)
  t.regex(frame, /shot010_beauty.*\s75\s/, 'unchanged')
})

test('D asks before deleting: n keeps the job, y deletes it', async (t) => {
  const { source, app } = await oneJob()
  t.teardown(app.unmount)
  await app.press('D')
  await app.until((text) => /delete job \w{8} \(shot010_beauty\) from the farm\? \(y\/n\)/.test(text), 'the question')
  await app.press('n')
  let frame = await app.until((text) => text.includes('cancelled'), 'cancelled')
  t.true(frame.includes('shot010_beauty'))
  t.is(source.written.length, 0)
  await app.press('D', 'y')
  frame = await app.until((text) => text.includes('No jobs on the farm yet'), 'the job gone')
  t.regex(frame, /deleted job \w{8} \(shot010_beauty\)/)
})

test('R asks before retrying the failed blocks, then writes the retry', async (t) => {
  const source = await MemoryFarmSource.create()
  const job = source.submit({ name: 'failing', frameStart: 1, frameEnd: 1, blockSize: 1, maxRetries: 0 })
  source.as(1, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 1 })
  source.as(1, { type: 'block.failed', jobId: job.id, block: 0, epoch: 1, failure: 'retryable', message: 'out of memory', outputTail: ['Error: out of memory'] })
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.until((text) => /ERROR\s+failing/.test(text), 'the job in error')
  await app.press('R')
  await app.until((text) => text.includes('retry the failed blocks of job'), 'the question')
  await app.press('y')
  await app.until((text) => /QUEUE\s+failing/.test(text), 'the job queued again')
  t.deepEqual(source.written, [{ type: 'job.retried', jobId: job.id }])
})

test('a write the controller refuses shows its message and changes nothing', async (t) => {
  const { source, app } = await oneJob()
  t.teardown(app.unmount)
  source.failNext = new Error('not allowed: only the job\'s submitter or a wrangler may steer it')
  await app.press('h')
  const frame = await app.until((text) => text.includes('not allowed'), 'the refusal')
  t.regex(frame, /QUEUE\s+shot010_beauty/)
  t.is(source.written.length, 0)
})

test('? lists the keys of the screen, and where the logs go', async (t) => {
  const { app } = await oneJob()
  t.teardown(app.unmount)
  await app.press('?')
  const frame = await app.until((text) => text.includes('Keys on this screen'), 'the help')
  for (const line of [/h\s+halt the job/, /D\s+delete the job \(asks first\)/, /\/\s+filter by name/, /n\s+submit a job/, /q\s+quit/]) t.regex(frame, line)
  t.false(frame.includes('block (asks first)'), 'the Nodes screen\'s keys are not listed')
  t.regex(frame, /mesh and node messages go to \/tmp\/data\/tui\.log/)
  await app.press('x')
  await app.until((text) => !text.includes('Keys on this screen'), 'the help closed')
})

test('keys that arrive in one chunk act on the rows the keys before them left, not on the rows last drawn', async (t) => {
  const source = await MemoryFarmSource.create()
  source.submit({ name: 'tui_quick' })
  const slow = source.submit({ name: 'tui_slow' })
  const detailed = source.submit({ name: 'tui_third' })
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.until((text) => text.includes('tui_quick') && text.includes('tui_slow'), 'the jobs')
  // A filter typed and closed, then a halt, all before the app draws again: the halt is the filtered row's.
  await app.press(`/slow${KEYS.enter}h`)
  await app.until((text) => /HALT\s+tui_slow/.test(text), 'the filtered job halted')
  t.deepEqual(source.written, [{ type: 'job.edited', jobId: slow.id, changes: { halted: true } }])
  // The same for a job opened from the list and disabled on its detail screen in one chunk
  // (the filter prompt opens on the filter as it is: four backspaces clear it).
  await app.press(`/${KEYS.backspace.repeat(4)}third${KEYS.enter}${KEYS.enter}d`)
  await app.until((text) => text.includes('disabled job'), 'the opened job disabled')
  t.deepEqual(source.written.at(-1), { type: 'job.edited', jobId: detailed.id, changes: { enabled: false } })
})
