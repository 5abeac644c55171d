/**
 * A re-render (`job.retried` with frames) sets the blocks holding those frames back to
 * QUEUE, done or not, counting from its stamp: their finishes before it are undone and
 * their attempts start afresh; only the job's submitter or a wrangler may ask for one.
 */
import test from 'ava'
import type { JobView } from '../../src/protocol/view.js'
import { makeSigners, World } from '../helpers/farm-events.js'
import { nth } from '../helpers/nth.js'

const signers = await makeSigners(3)

/** A DONE job of four frames in two blocks, submitted by 0 and rendered by node 1. */
function doneJob () {
  const world = new World(signers)
  const job = world.submit(0, { frameStart: 1, frameEnd: 4, blockSize: 2 })
  const view = (): JobView => {
    for (let who = 0; who < world.replicas.length; who++) world.sync(who)
    return nth(nth(world.replicas, 0).view().jobs, 0)
  }
  const render = (block: number, epoch: number): void => {
    world.write(1, { type: 'block.claimed', jobId: job.id, block, epoch })
    world.write(1, { type: 'block.finished', jobId: job.id, block, epoch, wallMs: 2000, frameMs: [1000, 1000] })
  }
  render(0, 1)
  render(1, 1)
  return { world, job, view, render }
}

test('a re-render of some frames queues the blocks holding them again, to replace their frames; rendered again, the job is DONE', (t) => {
  const { world, job, view, render } = doneJob()
  t.is(view().status, 'DONE')
  world.write(0, { type: 'job.retried', jobId: job.id, frames: { start: 3, end: 3 } })
  t.like(view(), { status: 'QUEUE', framesDone: 2 })
  t.like(view().blocks[0], { status: 'DONE', retryAsked: false })
  t.like(view().blocks[1], { status: 'QUEUE', epoch: 1, lease: null, finishedBy: null, retryAsked: true })
  render(1, 2)
  t.like(view(), { status: 'DONE', framesDone: 4 })
})

test('a re-render of the whole job queues every block; one from an artist who does not own the job changes nothing', (t) => {
  const { world, job, view } = doneJob()
  world.write(2, { type: 'job.retried', jobId: job.id, frames: { start: 1, end: 4 } })
  t.is(view().status, 'DONE')
  world.write(0, { type: 'job.retried', jobId: job.id, frames: { start: 1, end: 4 } })
  t.deepEqual(view().blocks.map((block) => block.status), ['QUEUE', 'QUEUE'])
  t.is(view().framesDone, 0)
})
