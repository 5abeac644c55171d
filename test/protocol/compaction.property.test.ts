/**
 * A job its submitter deleted is compacted to a tombstone: its blocks' records go, and
 * every peer compacts to the same records whatever order the events came in, with any
 * duplicates, and sees the same farm as if the job's facts had never been there.
 */
import test from 'ava'
import fc from 'fast-check'
import type { FarmAuthority } from '../../src/protocol/authority.js'
import { encodeCanonical } from '../../src/protocol/encoding.js'
import type { DraftBody, VerifiedEvent } from '../../src/protocol/events.js'
import { deriveView } from '../../src/protocol/farm-view.js'
import { reduce } from '../../src/protocol/records.js'
import { stateHash } from '../../src/protocol/state-hash.js'
import { jobSpec, makeSigners, World } from '../helpers/farm-events.js'
import { nth } from '../helpers/nth.js'

const AUTHORS = 3
const signers = await makeSigners(AUTHORS)
const authority: FarmAuthority = { founder: signers[0]?.author ?? null }

const stepArbitrary = fc.record({
  who: fc.integer({ min: 0, max: AUTHORS - 1 }),
  job: fc.nat(),
  block: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom('submit', 'claim', 'claim', 'start', 'finish', 'finish', 'fail', 'release', 'edit', 'retry', 'delete', 'delete', 'grant', 'revoke'),
  sync: fc.boolean()
})
type Step = typeof stepArbitrary extends fc.Arbitrary<infer T> ? T : never

/** What `step` writes, as an honest node would by its own view: claims one past the epoch it sees, outcomes at it. */
function bodyOf (step: Step, world: World, submitted: readonly string[]): DraftBody | null {
  if (step.kind === 'submit') return { type: 'job.submitted', job: jobSpec({ frameStart: 1, frameEnd: 8, blockSize: 2 }) }
  const jobId = submitted[step.job % Math.max(1, submitted.length)]
  if (jobId === undefined) return null
  const epoch = nth(world.replicas, step.who).view().jobs.find((job) => job.id === jobId)?.blocks[step.block]?.epoch ?? 0
  const block = { jobId, block: step.block, epoch: Math.max(1, epoch) }
  switch (step.kind) {
    case 'claim': return { type: 'block.claimed', ...block, epoch: epoch + 1 }
    case 'start': return { type: 'block.started', ...block }
    case 'finish': return { type: 'block.finished', ...block, wallMs: 1000, frameMs: [500, 500] }
    case 'fail': return { type: 'block.failed', ...block, failure: 'retryable', message: 'exit 1', outputTail: [] }
    case 'release': return { type: 'block.released', ...block, reason: 'shutting down' }
    case 'edit': return { type: 'job.edited', jobId, changes: { priority: step.block * 10 } }
    case 'retry': return { type: 'job.retried', jobId }
    case 'delete': return { type: 'job.deleted', jobId }
    case 'grant':
    case 'revoke': return { type: 'role.changed', peer: world.author((step.who + 1) % AUTHORS), role: 'wrangler', granted: step.kind === 'grant' }
  }
}

function play (steps: readonly Step[]): VerifiedEvent[] {
  const world = new World(signers, authority)
  const submitted: string[] = []
  for (const step of steps) {
    if (step.sync) world.sync(step.who)
    const body = bodyOf(step, world, submitted)
    if (body === null) continue
    const written = world.write(step.who, body).event.body
    if (written.type === 'job.submitted') submitted.push(written.job.id)
  }
  return world.events
}

/** Jobs deleted by their own submitter among `events`. */
function deletedBySubmitter (events: readonly VerifiedEvent[]): Set<string> {
  const submitters = new Map<string, string>()
  for (const { event } of events) if (event.body.type === 'job.submitted') submitters.set(event.body.job.id, event.author)
  return new Set(events.flatMap(({ event }) => event.body.type === 'job.deleted' && submitters.get(event.body.jobId) === event.author ? [event.body.jobId] : []))
}

function jobOf (verified: VerifiedEvent): string | null {
  const { body } = verified.event
  if (body.type === 'job.submitted') return body.job.id
  return 'jobId' in body ? body.jobId : null
}

/** Every scenario opens with a submission, so it has events to shuffle. */
const scenarioArbitrary = fc.array(stepArbitrary, { minLength: 1, maxLength: 60, size: 'max' })
  .map((steps) => play([{ who: 1, job: 0, block: 0, kind: 'submit', sync: false }, ...steps]))
  .chain((events) => fc.record({
    events: fc.constant(events),
    shuffled: fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
    repeated: fc.array(fc.constantFrom(...events), { maxLength: 20 })
  }))

test('every order and duplication compacts to the same records: equal hashes, tombstones only for jobs their submitter deleted', (t) => {
  let compacted = 0
  fc.assert(fc.property(scenarioArbitrary, ({ events, shuffled, repeated }) => {
    const inOrder = reduce(events)
    const reordered = reduce([...shuffled, ...repeated])
    t.is(stateHash(reordered), stateHash(inOrder))
    t.deepEqual(reordered, inOrder)
    const deleted = deletedBySubmitter(events)
    for (const [id, record] of Object.entries(inOrder.jobs)) {
      if (!deleted.has(id)) {
        t.is(record.tombstone, undefined)
        continue
      }
      compacted++
      t.deepEqual({ submission: record.submission, steering: record.steering, blocks: record.blocks }, { submission: null, steering: {}, blocks: {} })
      t.truthy(record.tombstone)
    }
  }), { numRuns: 400 })
  t.true(compacted > 100, `the scenarios compacted ${compacted} jobs`)
})

test('compaction hides nothing that counted: the farm looks as if the deleted jobs\' facts had never been written', (t) => {
  fc.assert(fc.property(scenarioArbitrary, ({ events }) => {
    const deleted = deletedBySubmitter(events)
    const without = events.filter((verified) => !deleted.has(jobOf(verified) ?? ''))
    t.deepEqual(deriveView(reduce(events), authority), deriveView(reduce(without), authority))
  }), { numRuns: 300 })
})

test('a rendered job shrinks to a tombstone of the submitter and the earliest of its deletes, whichever came first', (t) => {
  const world = new World(signers, authority)
  const job = world.submit(1, { frameStart: 1, frameEnd: 200, blockSize: 2 })
  for (let block = 0; block < 100; block++) {
    world.write(2, { type: 'block.claimed', jobId: job.id, block, epoch: 1 })
    world.write(2, { type: 'block.started', jobId: job.id, block, epoch: 1 })
    world.write(2, { type: 'block.finished', jobId: job.id, block, epoch: 1, wallMs: 2000, frameMs: [1000, 1000] })
  }
  const rendered = encodeCanonical(reduce(world.events)).length
  const first = world.write(1, { type: 'job.deleted', jobId: job.id })
  const second = world.write(1, { type: 'job.deleted', jobId: job.id })
  const records = reduce(world.events)
  const compacted = encodeCanonical(records).length
  t.true(compacted * 50 < rendered, `${rendered} bytes of records before the delete, ${compacted} after`)
  const tombstone = { submitter: world.author(1), deletedAt: { lamport: first.event.lamport, author: world.author(1), seq: first.event.seq } }
  t.deepEqual(records.jobs[job.id], { id: job.id, submission: null, steering: {}, blocks: {}, tombstone })
  // The later delete first, the block facts after the compaction: the same tombstone.
  const backwards = reduce([second, ...world.events.slice().reverse()])
  t.is(stateHash(backwards), stateHash(records))
  t.deepEqual(backwards.jobs[job.id]?.tombstone, tombstone)
  t.true(deriveView(records, authority).jobs.every((view) => view.id !== job.id))
})

test('a wrangler\'s delete hides the job but keeps its records: a revocation stamped before it may still undo it', (t) => {
  const world = new World(signers, authority)
  const job = world.submit(1, { frameStart: 1, frameEnd: 2, blockSize: 2 })
  world.write(2, { type: 'block.claimed', jobId: job.id, block: 0, epoch: 1 })
  world.write(0, { type: 'role.changed', peer: world.author(2), role: 'wrangler', granted: true })
  world.sync(2)
  world.write(2, { type: 'job.deleted', jobId: job.id })
  const records = reduce(world.events)
  t.is(records.jobs[job.id]?.tombstone, undefined)
  t.truthy(records.jobs[job.id]?.blocks['0'])
  t.true(deriveView(records, authority).jobs.every((view) => view.id !== job.id), 'the job is deleted all the same')
})
