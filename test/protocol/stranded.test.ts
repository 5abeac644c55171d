/**
 * Jobs and nodes carry the reason for their status: a job no node can run any more is
 * ERROR with the last failure, rather than QUEUE forever; a node's ERROR says which block
 * failed and why, and ends when the node starts afresh; STANDBY says who blocked a node
 * or until when its no-render window lasts.
 */
import test from 'ava'
import { nodeStatus } from '../../src/protocol/node-status.js'
import type { JobSpec } from '../../src/protocol/events.js'
import type { JobView, NodeView } from '../../src/protocol/view.js'
import type { Software } from '../../src/protocol/vocabulary.js'
import { makeSigners, World } from '../helpers/farm-events.js'
import { nth } from '../helpers/nth.js'

const signers = await makeSigners(3)

/** Nodes 1 and 2 (render01, render02) running `software`; a job of four one-frame blocks submitted by 0. */
function farm (software: readonly Software[] = ['blender', 'procedural'], overrides: Partial<JobSpec> = {}) {
  const world = new World(signers)
  for (const who of [1, 2]) world.write(who, { type: 'node.settings', node: world.author(who), changes: { name: `render0${who}`, software: [...software] } })
  const job = world.submit(0, { frameStart: 1, frameEnd: 4, blockSize: 1, maxRetries: 5, ...overrides })
  const sees = (): ReturnType<World['replicas'][number]['view']> => {
    for (let who = 0; who < world.replicas.length; who++) world.sync(who)
    return nth(world.replicas, 0).view()
  }
  const jobView = (): JobView => nth(sees().jobs, 0)
  const node = (who: number): NodeView => nth(sees().nodes.filter((entry) => entry.id === world.author(who)), 0)
  let epoch = 0
  const fail = (who: number, block: number, message = 'renderer crashed (signal SIGSEGV)'): void => {
    epoch = (jobView().blocks[block]?.epoch ?? 0) + 1
    world.write(who, { type: 'block.claimed', jobId: job.id, block, epoch })
    world.write(who, { type: 'block.failed', jobId: job.id, block, epoch, failure: 'retryable', message, outputTail: [] })
  }
  return { world, job, jobView, node, fail }
}

test('a job every node has failed twice is ERROR with the last failure, not QUEUE forever; a retry queues it again', (t) => {
  const { world, job, jobView, fail } = farm()
  fail(1, 0)
  fail(1, 1)
  fail(2, 2)
  t.like(jobView(), { status: 'QUEUE', error: null }, 'render02 may still take it')
  fail(2, 3, 'out of memory')
  t.like(jobView(), {
    status: 'ERROR',
    error: 'every node that can run it failed it 2 times (cr job retry runs it again): last failure on render02 (block 3): out of memory'
  })
  world.write(0, { type: 'job.retried', jobId: job.id })
  t.like(jobView(), { status: 'QUEUE', error: null })
})

test('a node that can run the job and has not failed it keeps it queued; one that joins later queues it again', (t) => {
  const { world, jobView, fail } = farm()
  fail(1, 0)
  fail(1, 1)
  fail(2, 2)
  fail(2, 3)
  t.is(jobView().status, 'ERROR')
  world.write(0, { type: 'node.settings', node: world.author(0), changes: { name: 'render00' } })
  t.like(jobView(), { status: 'QUEUE', error: null })
})

test('a job whose software no node runs is ERROR at once, saying so; before any node joined it waits', (t) => {
  const lonely = new World(signers)
  lonely.submit(0, { software: 'nuke' })
  t.is(nth(nth(lonely.replicas, 0).view().jobs, 0).status, 'QUEUE')
  const { jobView } = farm(['blender'], { software: 'nuke' })
  t.like(jobView(), { status: 'ERROR', error: 'no node can run nuke (none lists it in its [render] software, or it is not installed)' })
})

test('a node that finds its renderer missing withdraws it, and the job goes ERROR with that failure once no node runs it', (t) => {
  const { world, jobView, fail } = farm(['nuke', 'procedural'], { software: 'nuke' })
  const missing = 'no nuke executable found (looked in PATH, /usr/local); set the node\'s nuke path'
  for (const who of [1, 2]) {
    fail(who, who - 1, missing)
    world.write(who, { type: 'node.settings', node: world.author(who), changes: { software: ['procedural'] } })
  }
  t.like(jobView(), { status: 'ERROR', error: `no node can run nuke (none lists it in its [render] software, or it is not installed): last failure on render02 (block 1): ${missing}` })
  t.deepEqual(jobView().failuresByNode, { [world.author(1)]: 1, [world.author(2)]: 1 }, 'one attempt each, not every retry')
})

test('a block out of retries names itself and its last failure', (t) => {
  const { jobView, fail } = farm(['blender'], { maxRetries: 0 })
  fail(1, 2, 'exit code 1')
  t.like(jobView(), { status: 'ERROR', error: 'block 2 failed 1 times, more than its 0 retries: last failure on render01 (block 2): exit code 1' })
})

const noon = { weekday: 'mon', minuteOfDay: 12 * 60 } as const
const names = (world: World) => (peer: string): string => (peer === world.author(0) ? 'wrangler' : peer.slice(-8))

test('a node that failed its last block is ERROR with why, until it starts afresh', (t) => {
  const { world, job, node, fail } = farm()
  fail(1, 0, 'renderer crashed (signal SIGSEGV)')
  const short = job.id.replaceAll('-', '').slice(0, 8)
  t.deepEqual(nodeStatus(node(1), { live: true, at: noon, nameOf: names(world) }), { status: 'ERROR', reason: `last block failed: job ${short} block 0: renderer crashed (signal SIGSEGV)` })
  // Every start restates the node's software (render-node.ts).
  world.write(1, { type: 'node.settings', node: world.author(1), changes: { software: ['blender', 'procedural'] } })
  t.deepEqual(nodeStatus(node(1), { live: true, at: noon, nameOf: names(world) }), { status: 'STANDBY', reason: null })
  t.like(node(1), { lastOutcomeFailed: false, lastFailure: null })
})

test('a blocked node says by whom; a node in a no-render window says until when', (t) => {
  const { world, node } = farm()
  world.write(0, { type: 'node.settings', node: world.author(1), changes: { blocked: true } })
  t.deepEqual(nodeStatus(node(1), { live: true, at: noon, nameOf: names(world) }), { status: 'STANDBY', reason: 'blocked by wrangler' })
  world.write(2, { type: 'node.settings', node: world.author(2), changes: { schedule: [{ days: ['mon'], start: '09:00', end: '18:00', mode: 'no-render' }, { days: ['mon'], start: '22:00', end: '06:00', mode: 'no-render' }] } })
  t.deepEqual(nodeStatus(node(2), { live: true, at: noon, nameOf: names(world) }), { status: 'STANDBY', reason: 'no-render window until 18:00' })
  t.deepEqual(nodeStatus(node(2), { live: true, at: { weekday: 'mon', minuteOfDay: 23 * 60 }, nameOf: names(world) }), { status: 'STANDBY', reason: 'no-render window until 06:00' })
  t.deepEqual(nodeStatus(node(2), { live: false, at: noon, nameOf: names(world) }), { status: 'OFFLINE', reason: null })
})

test('a node taken out of the table no longer keeps a job waiting; one holding a lease stays until it is taken over; its own start puts it back', (t) => {
  const { world, job, jobView, node, fail } = farm()
  fail(1, 0)
  fail(1, 1)
  t.is(jobView().status, 'QUEUE', 'render02 could still take it')
  world.write(2, { type: 'block.claimed', jobId: job.id, block: 3, epoch: 1 })
  world.write(0, { type: 'node.settings', node: world.author(2), changes: { removed: true } })
  t.is(node(2).holding.length, 1, 'a removed node that holds a lease stays, to be hailed')
  world.write(2, { type: 'block.released', jobId: job.id, block: 3, epoch: 1, reason: 'node shutting down' })
  t.like(jobView(), { status: 'ERROR', error: 'every node that can run it failed it 2 times (cr job retry runs it again): last failure on render01 (block 1): renderer crashed (signal SIGSEGV)' })
  world.write(2, { type: 'node.settings', node: world.author(2), changes: { removed: false, software: ['blender'] } })
  t.is(jobView().status, 'QUEUE')
})
