/**
 * Every fact is bound to the peer allowed to state it. Each test is one attack a key
 * holder could make (found in the security review), written as the honest farm meets it:
 * the attack's event is admitted into the log (its chain is sound) and has no effect.
 */
import test from 'ava'
import { decodeEvent, encodeEvent, MAX_EVENT_BYTES } from '../../src/protocol/encoding.js'
import { ClockAheadError, InvalidEventError, OversizedEventError } from '../../src/protocol/errors.js'
import type { EventBody, JobSpec, VerifiedEvent } from '../../src/protocol/events.js'
import { judgeFact } from '../../src/protocol/fact-rules.js'
import { deriveView } from '../../src/protocol/farm-view.js'
import { CLOCK_TICKS_PER_MS } from '../../src/protocol/feed.js'
import { jobIdFor } from '../../src/protocol/job-id.js'
import { emptyRecords, type FarmRecords } from '../../src/protocol/records.js'
import { Replica } from '../../src/protocol/replica.js'
import { blockKey, rankPeers } from '../../src/protocol/rendezvous.js'
import { signEvent, type Signer } from '../../src/protocol/signing.js'
import { stampKey } from '../../src/protocol/stamp.js'
import { MAX_BLOCKS_PER_JOB, MAX_FRAMES_PER_BLOCK } from '../../src/protocol/vocabulary.js'
import { jobSpec, makeSigners, World } from '../helpers/farm-events.js'

const signers = await makeSigners(5)
const [FOUNDER, NODE_A, NODE_B, ARTIST, ROGUE] = [0, 1, 2, 3, 4] as const

function world (): World {
  return new World(signers)
}

function everyoneSyncs (farm: World): void {
  for (let who = 0; who < signers.length; who++) farm.sync(who)
}

/** The view of a replica that holds every event written so far. */
function viewOf (farm: World): ReturnType<Replica['view']> {
  farm.sync(FOUNDER)
  return farm.replicas[FOUNDER]?.view() ?? deriveView(emptyRecords())
}

function jobIn (farm: World, id: string): ReturnType<Replica['view']>['jobs'][number] {
  const job = viewOf(farm).jobs.find((candidate) => candidate.id === id)
  if (job === undefined) throw new Error(`job ${id} not in the view`)
  return job
}

/** A job with one block of two frames that node A holds at epoch 1 and has started. */
function renderingJob (farm: World): JobSpec {
  const job = farm.submit(FOUNDER, { frameStart: 1, frameEnd: 2, blockSize: 2 })
  farm.sync(NODE_A)
  farm.write(NODE_A, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 1 })
  farm.write(NODE_A, { type: 'block.started', jobId: job.id, block: 0, epoch: 1 })
  everyoneSyncs(farm)
  return job
}

test('a collision loser that finished its block before it heard it lost: the work counts, and the winner\'s rank does not undo it', (t) => {
  const farm = world()
  const job = farm.submit(FOUNDER, { frameStart: 1, frameEnd: 2, blockSize: 2 })
  everyoneSyncs(farm)
  // Both claim epoch 1 without seeing each other's claim (a partition, a stale log).
  farm.write(NODE_A, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 1 })
  farm.write(NODE_B, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 1 })
  const [winner, loser] = rankPeers(blockKey(job.id, 0, 1), [farm.author(NODE_A), farm.author(NODE_B)])
  const loserIndex = loser === farm.author(NODE_A) ? NODE_A : NODE_B
  t.is(jobIn(farm, job.id).blocks[0]?.lease?.holder, winner)
  farm.write(loserIndex, { type: 'block.finished', jobId: job.id, block: 0, epoch: 1, wallMs: 10, frameMs: [4, 6] })
  const done = jobIn(farm, job.id)
  t.is(done.status, 'DONE', 'the frames are delivered: rendering them again would be redone work')
  t.is(done.blocks[0]?.finishedBy, loser)
  t.is(judgeFact(viewOf(farm), loser ?? '', { type: 'block.finished', jobId: job.id, block: 0, epoch: 1, wallMs: 10, frameMs: [4, 6] }), null)
})

test('a job id is derived from its submit event, and a submission naming another id is refused at decode', (t) => {
  const farm = world()
  const job = farm.submit(ARTIST)
  const submitted = farm.events.at(-1)
  t.is(job.id, jobIdFor(signers[ARTIST]?.author ?? '', submitted?.event.seq ?? 0))
  // The rogue signs a submission that names the artist's job id, with an early clock.
  const rogue = signers[ROGUE] as Signer
  const forged = signEvent({
    v: 1, author: rogue.author, seq: 1, prev: null, lamport: 1, wallTime: 0,
    body: { type: 'job.submitted', job: { ...jobSpec({ commandTemplate: ['rm', '-rf', '/'], software: 'command' }), id: job.id } }
  }, rogue)
  const error = t.throws(() => decodeEvent(encodeEvent(forged.event)), { instanceOf: InvalidEventError })
  t.is(error.field, 'job.id')
  t.is(jobIn(farm, job.id).software, 'blender')
})

test('only the submitter or a wrangler steers a job', (t) => {
  const farm = world()
  const job = farm.submit(ARTIST, { priority: 40 })
  farm.sync(ROGUE)
  farm.write(ROGUE, { type: 'job.edited', jobId: job.id, changes: { priority: 99, halted: true } })
  farm.write(ROGUE, { type: 'job.deleted', jobId: job.id })
  t.is(jobIn(farm, job.id).priority, 40)
  t.false(jobIn(farm, job.id).halted)
  t.truthy(judgeFact(viewOf(farm), farm.author(ROGUE), { type: 'job.deleted', jobId: job.id }))

  farm.write(ARTIST, { type: 'job.edited', jobId: job.id, changes: { priority: 60 } })
  t.is(jobIn(farm, job.id).priority, 60)
  farm.sync(FOUNDER)
  farm.write(FOUNDER, { type: 'job.edited', jobId: job.id, changes: { priority: 70 } })
  t.is(jobIn(farm, job.id).priority, 70)
})

test('wranglers are granted by the founder or a wrangler; a revocation ends later acts, not earlier ones', (t) => {
  const farm = world()
  const job = farm.submit(ARTIST, { priority: 10 })
  // A grant from someone who is no wrangler counts for nothing.
  farm.write(ROGUE, { type: 'role.changed', peer: farm.author(ROGUE), role: 'wrangler', granted: true })
  t.deepEqual(viewOf(farm).wranglers, [farm.author(FOUNDER)])
  everyoneSyncs(farm)
  farm.write(ROGUE, { type: 'job.edited', jobId: job.id, changes: { priority: 99 } })
  t.is(jobIn(farm, job.id).priority, 10)

  farm.write(FOUNDER, { type: 'role.changed', peer: farm.author(NODE_A), role: 'wrangler', granted: true })
  everyoneSyncs(farm)
  t.deepEqual(viewOf(farm).wranglers, [farm.author(FOUNDER), farm.author(NODE_A)])
  farm.write(NODE_A, { type: 'job.edited', jobId: job.id, changes: { priority: 20 } })
  // A wrangler may make another.
  farm.write(NODE_A, { type: 'role.changed', peer: farm.author(NODE_B), role: 'wrangler', granted: true })
  everyoneSyncs(farm)
  t.is(jobIn(farm, job.id).priority, 20)
  t.true(viewOf(farm).wranglers.includes(farm.author(NODE_B)))

  farm.write(FOUNDER, { type: 'role.changed', peer: farm.author(NODE_A), role: 'wrangler', granted: false })
  everyoneSyncs(farm)
  farm.write(NODE_A, { type: 'job.edited', jobId: job.id, changes: { halted: true } })
  const after = jobIn(farm, job.id)
  t.is(after.priority, 20, 'what the wrangler did while a wrangler stands')
  t.false(after.halted, 'what it does after the revocation counts for nothing')
  t.true(viewOf(farm).wranglers.includes(farm.author(NODE_B)), 'the wranglers it made stay wranglers')
})

test('a node\'s settings come from the node or a wrangler; what it runs from the node alone', (t) => {
  const farm = world()
  const node = farm.author(NODE_A)
  farm.write(NODE_A, { type: 'node.settings', node, changes: { name: 'render01', threadLimit: 8, software: ['blender'] } })
  everyoneSyncs(farm)
  farm.write(ROGUE, { type: 'node.settings', node, changes: { blocked: true, name: 'hijacked' } })
  farm.write(FOUNDER, { type: 'node.settings', node, changes: { threadLimit: 4, software: ['command', 'blender'] } })
  const row = viewOf(farm).nodes.find((candidate) => candidate.id === node)
  t.is(row?.name, 'render01')
  t.false(row?.blocked)
  t.is(row?.threadLimit, 4, 'a wrangler may change its limits')
  t.deepEqual(row?.software, ['blender'], 'but not what it runs')
  t.is(judgeFact(viewOf(farm), farm.author(FOUNDER), { type: 'node.settings', node, changes: { software: ['command'] } })?.reason, 'software-only-by-node')
})

test('block facts count only from the lease holder at their epoch', (t) => {
  const farm = world()
  const job = renderingJob(farm)
  farm.write(ROGUE, { type: 'block.finished', jobId: job.id, block: 0, epoch: 1, wallMs: 10, frameMs: [5, 5] })
  farm.write(ROGUE, { type: 'block.failed', jobId: job.id, block: 0, epoch: 1, failure: 'fatal', message: 'scene gone', outputTail: [] })
  farm.write(ROGUE, { type: 'block.released', jobId: job.id, block: 0, epoch: 1, reason: 'mine now' })
  const held = jobIn(farm, job.id)
  t.is(held.blocks[0]?.status, 'RENDERING')
  t.is(held.blocks[0]?.lease?.holder, farm.author(NODE_A))
  t.true(held.enabled, 'a fatal failure from a non-holder disables nothing')
  t.is(judgeFact(viewOf(farm), farm.author(ROGUE), { type: 'block.started', jobId: job.id, block: 0, epoch: 1 })?.reason, 'not-lease-holder')

  farm.write(NODE_A, { type: 'block.finished', jobId: job.id, block: 0, epoch: 1, wallMs: 10, frameMs: [5] })
  t.is(jobIn(farm, job.id).blocks[0]?.status, 'RENDERING', 'a finish with the wrong number of frames does not count')
  farm.write(NODE_A, { type: 'block.finished', jobId: job.id, block: 0, epoch: 1, wallMs: 10, frameMs: [4, 6] })
  const done = jobIn(farm, job.id)
  t.is(done.status, 'DONE')
  t.deepEqual(done.blocks[0]?.frameTimes, [{ frame: 1, ms: 4 }, { frame: 2, ms: 6 }])
})

test('a claim counts only one epoch past the current one, so a far epoch can neither take a lease nor stop takeover', (t) => {
  const farm = world()
  const job = renderingJob(farm)
  farm.write(ROGUE, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 1_000_000_000 })
  farm.write(ROGUE, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 3 })
  const block = jobIn(farm, job.id).blocks[0]
  t.is(block?.epoch, 1)
  t.is(block?.lease?.holder, farm.author(NODE_A))
  t.is(judgeFact(viewOf(farm), farm.author(ROGUE), { type: 'block.claimed', jobId: job.id, block: 0, epoch: 3 })?.reason, 'epoch-jump')
  // Takeover at epoch 2 still works (node A was found dead), and then the rogue's claim
  // at epoch 3 becomes a legitimate next claim: it may take the lease, as anyone could.
  farm.sync(NODE_B)
  farm.write(NODE_B, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 2 })
  const taken = jobIn(farm, job.id).blocks[0]
  t.is(taken?.epoch, 3)
  t.not(taken?.lease?.holder, farm.author(NODE_A))
})

test('a block with 150,000 claims derives without overflowing the stack', (t) => {
  const farm = world()
  const job = farm.submit(FOUNDER, { frameStart: 1, frameEnd: 1, blockSize: 1 })
  farm.sync(FOUNDER)
  const records: FarmRecords = structuredClone(farm.replicas[FOUNDER]?.records ?? emptyRecords())
  const claims: Record<string, { epoch: number, stamp: { lamport: number, author: string, seq: number }, wallTime: number }> = {}
  for (let epoch = 1; epoch <= 150_000; epoch++) {
    const stamp = { lamport: epoch, author: farm.author(ROGUE), seq: epoch }
    claims[stampKey(stamp)] = { epoch, stamp, wallTime: 0 }
  }
  const record = records.jobs[job.id]
  if (record === undefined) throw new Error('job record missing')
  record.blocks['0'] = { claims, starts: {}, finishes: {}, failures: {}, releases: {} }
  const block = deriveView(records, { founder: farm.author(FOUNDER) }).jobs[0]?.blocks[0]
  t.is(block?.epoch, 150_000)
  t.is(block?.status, 'CLAIMED')
})

/** No event is held below a feed's head in these tests: a replay lookup would be a bug. */
function nothingHeld (): Promise<Uint8Array> {
  return Promise.reject(new Error('no held event was expected to be looked up'))
}

/** Signs `body` as the next event of `signer`'s feed after `previous`, with a chosen clock. */
function nextOf (signer: Signer, previous: VerifiedEvent | null, body: EventBody, lamport: number): VerifiedEvent {
  return signEvent({
    v: 1, author: signer.author, seq: (previous?.event.seq ?? 0) + 1, prev: previous?.link ?? null, lamport, wallTime: 1_700_000_000_000, body
  }, signer)
}

test('an event whose clock runs far ahead of ours is refused, and cannot push an honest writer past what peers accept', async (t) => {
  const rogue = signers[ROGUE] as Signer
  const honest = signers[NODE_A] as Signer
  const nowMs = 1_700_000_000_000
  const receiver = new Replica()
  const poison = nextOf(rogue, null, { type: 'log.recorded', clientName: 'x', jobId: null, block: null, description: 'tick', outputTail: [] }, Number.MAX_SAFE_INTEGER)
  const refused = await t.throwsAsync(receiver.admit(encodeEvent(poison.event), nothingHeld, nowMs), { instanceOf: ClockAheadError })
  t.regex(refused.message, /ahead of this peer's/)
  // An hour and a bit ahead is refused too; a minute ahead is a skewed clock, and taken in.
  const hourAhead = nextOf(rogue, null, { type: 'log.recorded', clientName: 'x', jobId: null, block: null, description: 'tick', outputTail: [] }, (nowMs + 61 * 60_000) * CLOCK_TICKS_PER_MS)
  await t.throwsAsync(receiver.admit(encodeEvent(hourAhead.event), nothingHeld, nowMs), { instanceOf: ClockAheadError })
  const minuteAhead = nextOf(rogue, null, { type: 'log.recorded', clientName: 'x', jobId: null, block: null, description: 'tick', outputTail: [] }, (nowMs + 60_000) * CLOCK_TICKS_PER_MS)
  const admitted = await receiver.admit(encodeEvent(minuteAhead.event), nothingHeld, nowMs)
  if (admitted.kind !== 'next') throw new Error('the skewed event was not taken in')
  receiver.commit(admitted.verified)
  // The honest writer's next event follows the skewed clock, and a peer with our clock accepts it.
  const written = receiver.draft(honest, nowMs, { type: 'log.recorded', clientName: 'render01', jobId: null, block: null, description: 'ok', outputTail: [] })
  t.true(written.event.lamport > minuteAhead.event.lamport)
  const peer = new Replica()
  const placed = await peer.admit(encodeEvent(written.event), nothingHeld, nowMs)
  t.is(placed.kind, 'next')
})

test('a node checks its own events against the size limit peers apply, and a 5,000-frame block\'s finish fits', async (t) => {
  const farm = world()
  const job = farm.submit(FOUNDER, { frameStart: 1, frameEnd: 5_000, blockSize: 5_000 })
  farm.sync(NODE_A)
  farm.write(NODE_A, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 1 })
  const finish = farm.write(NODE_A, { type: 'block.finished', jobId: job.id, block: 0, epoch: 1, wallMs: 5_000 * 3_600_000, frameMs: Array.from({ length: 5_000 }, () => 3_600_000) })
  t.true(encodeEvent(finish.event).length < MAX_EVENT_BYTES)
  const peer = new Replica({ authority: { founder: farm.author(FOUNDER) } })
  for (const verified of farm.events) {
    const admitted = await peer.admit(encodeEvent(verified.event), nothingHeld, Date.now())
    if (admitted.kind === 'next') peer.commit(admitted.verified)
  }
  t.is(peer.view().jobs[0]?.status, 'DONE')
  // The biggest block a job may have, every frame at the longest time an event carries, still fits.
  const biggest = farm.submit(FOUNDER, { frameStart: 1, frameEnd: MAX_FRAMES_PER_BLOCK, blockSize: MAX_FRAMES_PER_BLOCK })
  farm.sync(NODE_A)
  farm.write(NODE_A, { type: 'block.claimed', jobId: biggest.id, block: 0, epoch: 1 })
  const largest = farm.write(NODE_A, { type: 'block.finished', jobId: biggest.id, block: 0, epoch: 1, wallMs: 1, frameMs: Array.from({ length: MAX_FRAMES_PER_BLOCK }, () => 0xffff_ffff) })
  t.true(encodeEvent(largest.event).length <= MAX_EVENT_BYTES)
  // An event past the limit is refused before it is written, not after peers refuse it.
  const replica = farm.replicas[NODE_A] as Replica
  const before = replica.head(farm.author(NODE_A))
  const huge = { type: 'job.submitted' as const, job: jobSpec({ software: 'command', commandTemplate: Array.from({ length: 256 }, () => 'z'.repeat(4_096)) }) }
  t.throws(() => replica.draft(signers[NODE_A] as Signer, Date.now(), huge), { instanceOf: OversizedEventError })
  t.deepEqual(replica.head(farm.author(NODE_A)), before, 'a refused draft changes nothing')
})

test('a job that splits into too many blocks is refused with the block size that would do', (t) => {
  const farm = world()
  const error = t.throws(() => farm.submit(ARTIST, { frameStart: 1, frameEnd: 1_000_000, blockSize: 1 }), { instanceOf: InvalidEventError })
  t.is(error.field, 'job.blockSize')
  t.regex(error.message, new RegExp(`at most ${MAX_BLOCKS_PER_JOB}.*at least 20`))
  const big = farm.submit(ARTIST, { frameStart: 1, frameEnd: 1_000_000, blockSize: 20 })
  t.is(jobIn(farm, big.id).blocks.length, 50_000)
})
