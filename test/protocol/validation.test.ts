/**
 * A job as a person types it: each kind of mistake is refused with the field it is in and
 * a reason a person can act on.
 */
import test from 'ava'
import { decodeEvent, encodeEvent, validateBody, validateJobFields } from '../../src/protocol/encoding.js'
import { InvalidEventError } from '../../src/protocol/errors.js'
import type { JobFields } from '../../src/protocol/events.js'
import { jobIdFor } from '../../src/protocol/job-id.js'
import { Replica } from '../../src/protocol/replica.js'
import { typedNodeChangesSchema } from '../../src/protocol/schemas.js'
import { jobSpec, makeSigners, World } from '../helpers/farm-events.js'

const invalidJobs: [string, Record<string, unknown>, string, RegExp][] = [
  ['frame end before frame start', { frameStart: 10, frameEnd: 5 }, 'frameEnd', /frame end 5 is before frame start 10/],
  ['priority above 99', { priority: 120 }, 'priority', /priority 120 is above 99/],
  ['negative priority', { priority: -1 }, 'priority', /priority -1 is below 0/],
  ['fractional priority', { priority: 5.5 }, 'priority', /whole number/],
  ['unknown software', { software: 'houdini' }, 'software', /unknown software "houdini"/],
  ['lower-case classification', { classification: 'a' }, 'classification', /unknown classification "a"/],
  ['two-letter classification', { classification: 'AB' }, 'classification', /unknown classification/],
  ['zero block size', { blockSize: 0 }, 'blockSize', /block size 0 is below 1/],
  ['negative retries', { maxRetries: -1 }, 'maxRetries', /max retries -1 is below 0/],
  ['empty project', { project: '' }, 'project', /project must not be empty/],
  ['missing user', { user: undefined }, 'user', /user must be text/],
  ['chosen id (an id comes from the submit event)', { id: '7d0c8a52-3f7e-4f0e-9a55-4a4f3c1b2d10' }, 'event', /id/],
  ['fractional frame', { frameStart: 1.5 }, 'frameStart', /whole number/],
  ['block size above 10000 frames', { blockSize: 10_001 }, 'blockSize', /block size 10001 is above 10000/],
  ['more than 50000 blocks', { frameStart: 1, frameEnd: 50_001, blockSize: 1 }, 'blockSize', /50001 blocks; at most 50000.*at least 2/],
  ['a million and one frames', { frameStart: 0, frameEnd: 1_000_000 }, 'frameEnd', /more than 1000000 frames/],
  ['command without a template', { software: 'command' }, 'commandTemplate', /needs a command template/],
  ['template on a Maya job', { software: 'maya-software', commandTemplate: ['render'] }, 'commandTemplate', /only for software "command"/],
  ['odd image format', { imageFormat: '.PNG' }, 'imageFormat', /short lower-case extension/],
  ['unknown field', { colour: 'blue' }, 'event', /colour/],
  ['a name with an ANSI escape', { name: 'shot\u001b[2J' }, 'name', /name must not hold control characters such as newline, tab or ESC; got "shot\\u001b\[2J"/],
  ['a project with a newline', { project: 'a\nb' }, 'project', /project must not hold control characters/],
  ['a user with a tab', { user: 'ann\tbob' }, 'user', /user must not hold control characters/],
  ['a camera with DEL', { camera: 'cam\u007f' }, 'camera', /camera must not hold control characters/],
  ['a layer with a C1 CSI', { layer: 'beauty\u009b2J' }, 'layer', /layer must not hold control characters/],
  ['a scene path with a carriage return', { scenePath: '/projects/a\r.blend' }, 'scenePath', /scene path must not hold control characters/],
  ['a name of spaces', { name: '   ' }, 'name', /name must not be only spaces/],
  ['an image name of spaces', { imageName: ' ' }, 'imageName', /image name must not be only spaces/]
]

for (const [what, overrides, field, reason] of invalidJobs) {
  test(`a job with ${what} is refused, naming ${field}`, (t) => {
    const input: Record<string, unknown> = { ...jobSpec(), ...overrides }
    for (const [key, value] of Object.entries(overrides)) if (value === undefined) Reflect.deleteProperty(input, key)
    const error = t.throws(() => validateJobFields(input), { instanceOf: InvalidEventError })
    t.is(error.field, field)
    t.regex(error.why, reason)
  })
}

test('a valid job passes unchanged', (t) => {
  const job: JobFields = jobSpec({ software: 'command', commandTemplate: ['povray', '+I{scene}', '+O{output}'], layer: 'beauty', camera: 'shotCam' })
  t.deepEqual(validateJobFields(job), job)
})

test('bodies name the nested field that is wrong', (t) => {
  const jobId = jobIdFor('12D3KooWFS7RwHAugMm7iknKRPaW63tW65sXFfDQpAhiDs6pJsz7', 1)
  const job = { id: jobId, ...jobSpec({ priority: 120 }) }
  const error = t.throws(() => validateBody({ type: 'job.submitted', job }), { instanceOf: InvalidEventError })
  t.is(error.field, 'job.priority')
  const edit = t.throws(() => validateBody({ type: 'job.edited', jobId, changes: {} }), { instanceOf: InvalidEventError })
  t.regex(edit.why, /at least one field/)
  const unknown = t.throws(() => validateBody({ type: 'job.exploded', jobId }), { instanceOf: InvalidEventError })
  t.regex(unknown.why, /unknown event type "job.exploded"/)
})

test('node settings refuse limits that are neither -1 nor positive, and bad schedules', (t) => {
  const node = '12D3KooWFS7RwHAugMm7iknKRPaW63tW65sXFfDQpAhiDs6pJsz7'
  const limit = t.throws(() => validateBody({ type: 'node.settings', node, changes: { memoryLimitMb: 0 } }), { instanceOf: InvalidEventError })
  t.is(limit.field, 'changes.memoryLimitMb')
  t.regex(limit.why, /-1 \(unlimited\) or at least 1/)
  const window = { days: ['mon'], start: '25:00', end: '18:00', mode: 'work-hours' }
  const schedule = t.throws(() => validateBody({ type: 'node.settings', node, changes: { schedule: [window] } }), { instanceOf: InvalidEventError })
  t.is(schedule.field, 'changes.schedule.0.start')
  t.notThrows(() => validateBody({ type: 'node.settings', node, changes: { memoryLimitMb: -1, threadLimit: 4, schedule: [{ ...window, start: '09:00' }] } }))
})

test('a finished block carries one whole, non-negative render time per frame', (t) => {
  const jobId = jobIdFor('12D3KooWFS7RwHAugMm7iknKRPaW63tW65sXFfDQpAhiDs6pJsz7', 1)
  const finished = (frameMs: unknown): unknown => ({ type: 'block.finished', jobId, block: 0, epoch: 1, wallMs: 1000, frameMs })
  t.notThrows(() => validateBody(finished([400, 600])))
  t.regex(t.throws(() => validateBody(finished([])), { instanceOf: InvalidEventError }).why, /at least one frame/)
  t.is(t.throws(() => validateBody(finished([400, -1])), { instanceOf: InvalidEventError }).field, 'frameMs.1')
  t.is(t.throws(() => validateBody(finished([0.5])), { instanceOf: InvalidEventError }).field, 'frameMs.0')
  t.is(t.throws(() => validateBody(finished([{ frame: 1, ms: 400 }])), { instanceOf: InvalidEventError }).field, 'frameMs.0')
  t.is(t.throws(() => validateBody({ ...finished([1]) as object, frames: [{ frame: 1, ms: 1 }] }), { instanceOf: InvalidEventError }).field, 'event')
})

test('a name with control characters in the log still loads: the log is not where names are refused', async (t) => {
  // Events written before the rule (or signed by a key holder on purpose) must not be
  // refused on decode: that would cut their author's feed off there for every peer and
  // mark any store holding them damaged. They are refused where people type them and
  // escaped where they are shown (test/cli/typed-text.test.ts).
  const world = new World(await makeSigners(1))
  const job = world.submit(0, { name: 'evil\u001b[2J' })
  world.write(0, { type: 'job.edited', jobId: job.id, changes: { priority: 80 } })
  const receiver = new Replica()
  for (const verified of world.events) {
    t.notThrows(() => decodeEvent(encodeEvent(verified.event)))
    receiver.commit(verified)
  }
  t.like(receiver.view().jobs[0], { name: 'evil\u001b[2J', priority: 80 })
})

test('node settings as a person gives them: a name without control characters, at least one class', (t) => {
  t.true(typedNodeChangesSchema.safeParse({ name: 'render-07', classifications: ['A'] }).success)
  t.is(typedNodeChangesSchema.safeParse({ name: 'render\n07' }).error?.issues[0]?.message, 'node name must not hold control characters such as newline, tab or ESC; got "render\\n07"')
  t.is(typedNodeChangesSchema.safeParse({ classifications: [] }).error?.issues[0]?.message, 'a node takes at least one class; to stop it taking work, block it (cr node block)')
  t.is(typedNodeChangesSchema.safeParse({ name: '\u3000' }).error?.issues[0]?.message, 'node name must not be only spaces')
})
