/**
 * The kept view does the work an event asks for and no more: the jobs it did not touch are
 * the very objects the last read gave, a job moves in the scheduling order only when its
 * priority moves it, and explanations that read the client table follow the table.
 * (authority.property.test.ts checks the kept view equals one derived from scratch.)
 */
import test from 'ava'
import { makeSigners, World } from '../helpers/farm-events.js'
import { nth } from '../helpers/nth.js'

const signers = await makeSigners(2)

function jobsFarm (count: number): { world: World, ids: string[] } {
  const world = new World(signers)
  const ids = Array.from({ length: count }, (_, index) => world.submit(0, { name: `shot${index}`, frameStart: 1, frameEnd: 4, blockSize: 1 }).id)
  return { world, ids }
}

test('an event on one job leaves every other job the same object, and the job its place', (t) => {
  const { world, ids } = jobsFarm(50)
  const replica = nth(world.replicas, 0)
  const before = replica.view()
  const target = nth(ids, 20)
  world.write(0, { type: 'block.claimed', jobId: target, block: 0, epoch: 1 })
  const after = replica.view()
  t.not(after.jobs, before.jobs, 'a new list: the one handed out earlier never changes')
  t.deepEqual(after.jobs.map((job) => job.id), before.jobs.map((job) => job.id))
  for (const [index, job] of after.jobs.entries()) {
    if (job.id === target) t.like(job, { status: 'RENDERING' })
    else t.is(job, nth(before.jobs, index), `job ${job.name} was not derived again`)
  }
  t.is(nth(before.jobs, before.jobs.findIndex((job) => job.id === target)).status, 'QUEUE', 'the earlier view still says what it said')
})

test('a priority edit moves the job to its place in the scheduling order, and back', (t) => {
  const { world, ids } = jobsFarm(30)
  const replica = nth(world.replicas, 0)
  const order = replica.view().jobs.map((job) => job.id)
  t.deepEqual(order, ids, 'same priority: registered order')
  world.write(0, { type: 'job.edited', jobId: nth(ids, 17), changes: { priority: 90 } })
  t.deepEqual(replica.view().jobs.map((job) => job.id), [nth(ids, 17), ...ids.filter((_, index) => index !== 17)])
  world.write(0, { type: 'job.edited', jobId: nth(ids, 17), changes: { priority: 10 } })
  t.deepEqual(replica.view().jobs.map((job) => job.id), [...ids.filter((_, index) => index !== 17), nth(ids, 17)])
  world.write(0, { type: 'job.deleted', jobId: nth(ids, 3) })
  t.false(replica.view().jobs.some((job) => job.id === nth(ids, 3)), 'a deleted job leaves the order')
})

test('a reason that names a node follows the node\'s new name, though the job did not change', (t) => {
  const world = new World(signers)
  world.write(1, { type: 'node.settings', node: world.author(1), changes: { name: 'render01', software: ['blender'] } })
  const job = world.submit(0, { frameStart: 1, frameEnd: 1, blockSize: 1, maxRetries: 5 })
  for (const epoch of [1, 2]) {
    world.write(1, { type: 'block.claimed', jobId: job.id, block: 0, epoch })
    world.write(1, { type: 'block.failed', jobId: job.id, block: 0, epoch, failure: 'retryable', message: 'out of memory', outputTail: [] })
  }
  world.sync(0)
  const replica = nth(world.replicas, 0)
  t.regex(nth(replica.view().jobs, 0).error ?? '', /on render01 \(block 0\): out of memory/)
  world.write(1, { type: 'node.settings', node: world.author(1), changes: { name: 'gpu-01' } })
  world.sync(0)
  t.regex(nth(replica.view().jobs, 0).error ?? '', /on gpu-01 \(block 0\): out of memory/)
})
