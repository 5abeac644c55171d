/** The submit form: each field checked as it is typed by cr submit's own rules, errors named by field, the job written on enter. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { KEYS, mount, type Mounted } from './tui-kit.js'
import { MemoryFarmSource } from './memory-source.js'

/** From field `from`, moves to each field `index` of the form in turn and types `text` there. */
async function fill (app: Mounted, fields: readonly (readonly [index: number, text: string])[], from = 0): Promise<void> {
  let at = from
  for (const [index, text] of fields) {
    await app.press(...Array.from({ length: index - at }, () => KEYS.tab), ...Array.from(text))
    at = index
  }
}

test('the form names the field a value breaks as it is typed, and clears it once fixed', async (t) => {
  const app = await mount(await MemoryFarmSource.create(), { columns: 120, rows: 30 })
  t.teardown(app.unmount)
  await app.press('n')
  await app.until((text) => text.includes('Submit a job'), 'the form')
  // software (field 3): not a renderer.
  await fill(app, [[3, 'blendr']])
  let frame = await app.until((text) => text.includes('software:'), 'the software error')
  t.regex(frame, /software\s+blendr\s+software: /)
  await app.press(KEYS.backspace, 'e', 'r')
  t.regex(await app.until((text) => !text.includes('software:'), 'the error gone'), /software\s+blender/)
  // Priority (field 9) out of range, then a last frame before the first.
  await fill(app, [[6, '10'], [7, '5'], [9, '120']], 3)
  frame = await app.until((text) => text.includes('priority:') && text.includes('frameEnd:'), 'both errors')
  t.regex(frame, /priority\s+120\s+priority: priority 120 is above 99/)
  t.regex(frame, /last frame\s+5\s+frameEnd: frame end 5 is before frame start 10/)
})

test('enter with a required field empty focuses it and says which; a complete form submits the job', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-tui-form-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const scene = path.join(dir, 'shot.blend')
  await writeFile(scene, 'scene')
  const source = await MemoryFarmSource.create()
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.press('n')
  await app.until((text) => text.includes('Submit a job'), 'the form')
  await fill(app, [[0, 'form_job'], [1, 'feature']])
  await app.press(KEYS.enter)
  let frame = await app.until((text) => text.includes('software:'), 'the missing field')
  t.regex(frame, /> software\s+software: unknown software/, 'the focus moved to it')
  await fill(app, [[3, 'blender'], [4, scene], [5, path.join(dir, 'frames')], [6, '1'], [7, '10'], [8, '5']], 3)
  await app.press(KEYS.enter)
  frame = await app.until((text) => /QUEUE\s+form_job\s+\[\.+\]\s+0\/10/.test(text), 'the job listed')
  t.regex(frame, /submitted form_job/)
  const [body] = source.written
  t.is(body?.type, 'job.submitted')
  t.like(body?.type === 'job.submitted' ? body.job : {}, { name: 'form_job', project: 'feature', user: 'artist', software: 'blender', scenePath: scene, frameStart: 1, frameEnd: 10, blockSize: 5, priority: 50 })
})

test('a scene that is not on this machine is refused at its field, as cr submit refuses it', async (t) => {
  const source = await MemoryFarmSource.create()
  const app = await mount(source)
  t.teardown(app.unmount)
  await app.press('n')
  await app.until((text) => text.includes('Submit a job'), 'the form')
  await fill(app, [[0, 'j'], [1, 'p'], [3, 'blender'], [4, '/nowhere/shot.blend'], [5, '/renders'], [6, '1'], [7, '1']])
  await app.press(KEYS.enter)
  const frame = await app.until((text) => text.includes('not found on this machine'), 'the refusal')
  t.regex(frame, /scene\s+\/nowhere\/shot\.blend\s+scenePath: not found on this machine/)
  t.is(source.written.length, 0)
  await app.press(KEYS.escape)
  await app.until((text) => text.includes('No jobs on the farm yet'), 'the form closed')
})
