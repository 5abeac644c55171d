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

const local: LocalRenderSettings = { executables: { blender: '/opt/blender/blender' }, software: DEFAULT_ACCEPTED_SOFTWARE, blenderScripts: false }
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
