/**
 * The derived farm: job, block and client statuses, leases and their epochs, retries,
 * Error Return, and Average Render Time, as the seed's tables show them.
 */
import test from 'ava'
import { deriveView } from '../../src/protocol/farm-view.js'
import { reduce } from '../../src/protocol/records.js'
import { blockKey, rankPeers } from '../../src/protocol/rendezvous.js'
import { clientStatus, type JobView, type NodeView } from '../../src/protocol/view.js'
import { jobSpec, makeSigners, World } from '../helpers/farm-events.js'
import { nth } from '../helpers/nth.js'

const signers = await makeSigners(3)

/** A job of four frames in two blocks, submitted by `submitter` (author 0, the founder, by default). */
function farm (overrides: Parameters<typeof jobSpec>[0] = {}, submitter = 0) {
  const world = new World(signers)
  const job = world.submit(submitter, { frameStart: 1, frameEnd: 4, blockSize: 2, maxRetries: 1, ...overrides })
  world.sync(1)
  world.sync(2)
  const view = (): JobView => {
    const everyone = world.replicas.length
    for (let who = 0; who < everyone; who++) world.sync(who)
    return nth(nth(world.replicas, 0).view().jobs, 0)
  }
  return { world, job, view, block: (block: number, epoch = 1) => ({ jobId: job.id, block, epoch }) }
}

/** Author `who` as peer 0 sees it in the client table. */
function nodeView (world: World, who: number): NodeView {
  return nth(nth(world.replicas, 0).view().nodes.filter((node) => node.id === world.author(who)), 0)
}

test('a new job is queued, its frames cut into blocks', (t) => {
  const { view, job } = farm({ frameStart: 10, frameEnd: 14, blockSize: 2 })
  const seen = view()
  t.is(seen.status, 'QUEUE')
  t.deepEqual(seen.blocks.map((block) => [block.frameStart, block.frameEnd]), [[10, 11], [12, 13], [14, 14]])
  t.is(seen.shortId, job.id.replaceAll('-', '').slice(0, 8))
  t.is(seen.framesTotal, 5)
})

test('claim, start and finish move a block through CLAIMED, RENDERING and DONE', (t) => {
  const { world, view, block } = farm()
  world.write(1, { type: 'block.claimed', ...block(0) })
  t.like(view().blocks[0], { status: 'CLAIMED', lease: { holder: world.author(1), epoch: 1 } })
  t.is(view().status, 'RENDERING')
  world.write(1, { type: 'block.started', ...block(0) })
  t.is(view().blocks[0]?.status, 'RENDERING')
  world.write(1, { type: 'block.finished', ...block(0), wallMs: 3000, frameMs: [1000, 2000] })
  t.like(view().blocks[0], { status: 'DONE', finishedBy: world.author(1), lease: null, frameTimes: [{ frame: 1, ms: 1000 }, { frame: 2, ms: 2000 }] })
  world.write(2, { type: 'block.claimed', ...block(1) })
  world.write(2, { type: 'block.finished', ...block(1), wallMs: 1000, frameMs: [500, 500] })
  const done = view()
  t.is(done.status, 'DONE')
  t.deepEqual(done.renderTime, { totalMs: 4000, frames: 4, averageFrameMs: 1000 })
  t.deepEqual(nodeView(world, 1).renderTime, { totalMs: 3000, frames: 2, averageFrameMs: 1500 })
})

test('colliding claims at one epoch are settled by rendezvous rank, the same on every peer', (t) => {
  const { world, view, block, job } = farm()
  world.write(1, { type: 'block.claimed', ...block(0) })
  world.write(2, { type: 'block.claimed', ...block(0) })
  const [winner] = rankPeers(blockKey(job.id, 0, 1), [world.author(1), world.author(2)])
  t.is(view().blocks[0]?.lease?.holder, winner)
  t.is(nth(world.replicas, 2).view().jobs[0]?.blocks[0]?.lease?.holder, winner)
})

test('a higher epoch takes the lease from the old holder (takeover)', (t) => {
  const { world, view, block } = farm()
  world.write(1, { type: 'block.claimed', ...block(0, 1) })
  world.write(1, { type: 'block.started', ...block(0, 1) })
  world.write(2, { type: 'block.claimed', ...block(0, 2) })
  t.like(view().blocks[0], { status: 'CLAIMED', epoch: 2, lease: { holder: world.author(2), epoch: 2 } })
  t.is(clientStatus(nodeView(world, 1), true), 'STANDBY')
  t.is(clientStatus(nodeView(world, 2), true), 'RENDERING')
})

test('a release frees the block at once for the next epoch', (t) => {
  const { world, view, block } = farm()
  world.write(1, { type: 'block.claimed', ...block(0) })
  world.write(1, { type: 'block.released', ...block(0), reason: 'node shutting down' })
  t.like(view().blocks[0], { status: 'QUEUE', epoch: 1, lease: null })
})

test('retryable failures retry up to the limit, then the block and the job are ERROR', (t) => {
  const { world, view, block } = farm({ maxRetries: 1 })
  const fail = (who: number, epoch: number): void => {
    world.write(who, { type: 'block.claimed', ...block(0, epoch) })
    world.write(who, { type: 'block.failed', ...block(0, epoch), failure: 'retryable', message: 'renderer crashed (signal SIGSEGV)', outputTail: ['Segmentation fault'] })
  }
  fail(1, 1)
  t.like(view().blocks[0], { status: 'QUEUE', attempts: 1 })
  t.is(view().status, 'QUEUE')
  fail(2, 2)
  t.like(view().blocks[0], { status: 'ERROR', attempts: 2, lastFailure: { node: world.author(2), failure: 'retryable' } })
  t.is(view().status, 'ERROR')
  t.deepEqual(view().failuresByNode, { [world.author(1)]: 1, [world.author(2)]: 1 })
  world.write(0, { type: 'job.retried', jobId: view().id })
  t.like(view().blocks[0], { status: 'QUEUE', attempts: 0 })
  t.is(view().status, 'QUEUE')
})

test('a fatal failure disables the job and says why (Error Return); enabling it again is a later write', (t) => {
  const { world, view, block } = farm()
  world.write(1, { type: 'block.claimed', ...block(0) })
  world.write(1, { type: 'block.failed', ...block(0), failure: 'fatal', message: 'scene file not found: /projects/x.ma', outputTail: [] })
  t.like(view(), { status: 'ERROR', enabled: false, error: 'scene file not found: /projects/x.ma' })
  t.is(clientStatus(nodeView(world, 1), true), 'ERROR')
  world.write(0, { type: 'job.retried', jobId: view().id })
  t.like(view(), { status: 'QUEUE', enabled: true, error: null })
})

test('halt and edits are last-writer-wins between the submitter and a wrangler; a deleted job disappears', (t) => {
  const { world, view, job } = farm({}, 1)
  world.write(1, { type: 'job.edited', jobId: job.id, changes: { halted: true, priority: 90 } })
  t.like(view(), { status: 'HALT', halted: true, priority: 90 })
  world.write(0, { type: 'role.changed', peer: world.author(2), role: 'wrangler', granted: true })
  world.write(2, { type: 'job.edited', jobId: job.id, changes: { halted: false } })
  t.like(view(), { status: 'QUEUE', halted: false, priority: 90 })
  world.write(2, { type: 'job.deleted', jobId: job.id })
  world.sync(0)
  t.is(nth(world.replicas, 0).view().jobs.length, 0)
})

test('jobs are ordered by priority, then registered time, then id', (t) => {
  const world = new World(signers)
  const low = world.submit(0, { priority: 10 })
  const mid = world.submit(0, { priority: 50 })
  const highLater = world.submit(0, { priority: 90 })
  const midLater = world.submit(0, { priority: 50 })
  t.deepEqual(nth(world.replicas, 0).view().jobs.map((job) => job.id), [highLater.id, mid.id, midLater.id, low.id])
})

test('node settings fill the client table; unset fields show the seed\'s defaults', (t) => {
  const world = new World(signers)
  world.write(0, { type: 'node.settings', node: world.author(1), changes: { name: 'render01', memoryLimitMb: 8192, classifications: ['C', 'A'] } })
  const node = nth(nth(world.replicas, 0).view().nodes, 0)
  t.like(node, { name: 'render01', memoryLimitMb: 8192, threadLimit: -1, blocked: false, classifications: ['A', 'C'], schedule: [] })
  t.is(clientStatus(node, false), 'OFFLINE')
  t.is(clientStatus(node, true), 'STANDBY')
})

test('a farm without a founder has no wranglers: a job is steered by its submitter alone', (t) => {
  const world = new World(signers, { founder: null })
  const job = world.submit(1)
  world.write(0, { type: 'role.changed', peer: world.author(0), role: 'wrangler', granted: true })
  world.write(0, { type: 'job.edited', jobId: job.id, changes: { priority: 5 } })
  world.sync(0)
  const farmView = nth(world.replicas, 0).view()
  t.like(farmView, { founder: null, wranglers: [] })
  t.is(nth(farmView.jobs, 0).priority, 50)
  world.write(1, { type: 'job.edited', jobId: job.id, changes: { priority: 60 } })
  world.sync(0)
  t.is(nth(nth(world.replicas, 0).view().jobs, 0).priority, 60)
})

test('a fact about a block the job does not have changes nothing, and never breaks the view', (t) => {
  const { world, view, job } = farm()
  // The view is derived, and cached, before the fact arrives.
  t.is(view().blocks.length, 2)
  world.write(1, { type: 'block.claimed', jobId: job.id, block: 5, epoch: 1 })
  t.like(view(), { status: 'QUEUE', framesDone: 0 })
  t.is(view().blocks.length, 2)
})

test('the view is the same whatever order the events arrived in, down to what a node holds', (t) => {
  const world = new World(signers)
  const first = world.submit(0, { frameEnd: 2 })
  const second = world.submit(0, { frameEnd: 2 })
  world.write(1, { type: 'block.claimed', jobId: first.id, block: 0, epoch: 1 })
  world.write(1, { type: 'block.claimed', jobId: second.id, block: 0, epoch: 1 })
  const [submitFirst, submitSecond, ...claims] = world.events
  if (submitFirst === undefined || submitSecond === undefined) throw new Error('two submissions expected')
  const authority = { founder: world.author(0) }
  const inOrder = deriveView(reduce(world.events), authority)
  t.is(nth(inOrder.nodes, 0).holding.length, 2)
  t.deepEqual(deriveView(reduce([submitSecond, submitFirst, ...claims]), authority), inOrder)
})
