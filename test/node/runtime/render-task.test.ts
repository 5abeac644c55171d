/**
 * From a job in the view to the task the renderer runs: this node's own config decides
 * what runs (the software it accepts, whether Blender may run scene scripts), whatever
 * the view says.
 */
import test from 'ava'
import { refusalOf, renderTaskFor, type LocalRenderSettings } from '../../../src/node/runtime/render-task.js'
import { DEFAULT_ACCEPTED_SOFTWARE, type JobView } from '../../../src/protocol/view.js'
import { jobSpec, makeSigners, World } from '../../helpers/farm-events.js'
import { nth } from '../../helpers/nth.js'

const signers = await makeSigners(1)

function viewOf (overrides: Parameters<typeof jobSpec>[0]): JobView {
  const world = new World(signers)
  world.write(0, { type: 'job.submitted', job: jobSpec(overrides) })
  return nth(nth(world.replicas, 0).view().jobs, 0)
}

const local: LocalRenderSettings = { executables: { blender: '/opt/blender/blender' }, software: DEFAULT_ACCEPTED_SOFTWARE, blenderScripts: false, timeoutPerFrameS: undefined, timeoutGraceS: 30 }
const block = { jobId: 'unused', block: 0, epoch: 1 }
const limits = { threads: 4, memoryMb: -1 }

test('a node refuses software its config does not list, naming what it does run', (t) => {
  const command = viewOf({ software: 'command', commandTemplate: ['povray', '+I{scene}'] })
  t.regex(refusalOf(command, local) ?? '', /does not run software "command": its config's \[render\] software lists maya-mray, .*procedural$/)
  t.is(refusalOf(command, { ...local, software: ['command'] }), null)
  t.is(refusalOf(viewOf({ software: 'blender' }), local), null)
  t.regex(refusalOf(viewOf({ software: 'blender' }), { ...local, software: [] }) ?? '', /lists nothing$/)
})

test('Blender jobs carry the node\'s permission for scene scripts; other renderers never see it', (t) => {
  const blender = viewOf({ software: 'blender' })
  t.false(renderTaskFor(blender, block, { start: 1, end: 2 }, limits, local).blenderScripts)
  t.true(renderTaskFor(blender, block, { start: 1, end: 2 }, limits, { ...local, blenderScripts: true }).blenderScripts)
  const maya = renderTaskFor(viewOf({ software: 'maya-arnold' }), block, { start: 1, end: 2 }, limits, { ...local, blenderScripts: true })
  t.false('blenderScripts' in maya)
  t.deepEqual(maya.executables, { blender: '/opt/blender/blender' })
})

test('frames at the target are replaced only by a re-render asked for: a retry after the block failed', (t) => {
  const world = new World(signers)
  const job = world.submit(0, { frameStart: 1, frameEnd: 4, blockSize: 2, maxRetries: 0 })
  const at = (blockIndex: number, epoch: number) => ({ jobId: job.id, block: blockIndex, epoch })
  const taskOf = (blockIndex: number, epoch: number) => renderTaskFor(nth(nth(world.replicas, 0).view().jobs, 0), at(blockIndex, epoch), { start: 1, end: 2 }, limits, local)
  // Block 0: its first holder died after copying its frames, before block.finished; nobody asked for anything.
  world.write(0, { type: 'block.claimed', ...at(0, 1) })
  world.write(0, { type: 'block.claimed', ...at(0, 2) })
  t.false('replaceExisting' in taskOf(0, 2))
  // Block 1: failed, then the job was retried: its next render was asked for.
  world.write(0, { type: 'block.claimed', ...at(1, 1) })
  world.write(0, { type: 'block.failed', ...at(1, 1), failure: 'retryable', message: 'renderer crashed', outputTail: [] })
  world.write(0, { type: 'job.retried', jobId: job.id })
  world.write(0, { type: 'block.claimed', ...at(1, 2) })
  t.true(taskOf(1, 2).replaceExisting)
  t.false('replaceExisting' in taskOf(0, 2), 'a retry asks nothing of a block that never failed')
})

test('the render timeout: the job\'s own wins over the node\'s default, the node\'s grace is added; with neither there is none', (t) => {
  const frames = { start: 1, end: 3 }
  t.false('timeout' in renderTaskFor(viewOf({}), block, frames, limits, local))
  t.deepEqual(renderTaskFor(viewOf({}), block, frames, limits, { ...local, timeoutPerFrameS: 600 }).timeout, { perFrameMs: 600_000, startupMs: 30_000 })
  t.deepEqual(renderTaskFor(viewOf({ timeoutPerFrameS: 90 }), block, frames, limits, { ...local, timeoutPerFrameS: 600, timeoutGraceS: 5 }).timeout, { perFrameMs: 90_000, startupMs: 5_000 })
})
