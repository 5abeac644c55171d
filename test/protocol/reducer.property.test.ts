/**
 * The reducer's central promise: state is a function of the set of events. Any order,
 * any duplication, gives the same state hash and the same farm view.
 */
import test from 'ava'
import fc from 'fast-check'
import type { FarmAuthority } from '../../src/protocol/authority.js'
import type { DraftBody, VerifiedEvent } from '../../src/protocol/events.js'
import { deriveView } from '../../src/protocol/farm-view.js'
import { jobIdFor } from '../../src/protocol/job-id.js'
import { reduce } from '../../src/protocol/records.js'
import { stateHash } from '../../src/protocol/state-hash.js'
import { CLASSIFICATIONS, SOFTWARE } from '../../src/protocol/vocabulary.js'
import { jobSpec, makeSigners, World } from '../helpers/farm-events.js'

const AUTHORS = 4
const signers = await makeSigners(AUTHORS)
const authority: FarmAuthority = { founder: signers[0]?.author ?? null }
/**
 * Jobs the steps act on. Ids are not chosen but derived from the submit event's place in
 * its author's feed, so steps name the jobs submitted so far, or one of these: the first
 * event of authors 0 and 1, a job only if that event is a submission (facts about a job
 * no one submitted are kept all the same).
 */
const FIXED_JOBS = [jobIdFor(signers[0]?.author ?? '', 1), jobIdFor(signers[1]?.author ?? '', 1)]

/** One step of a farm's life: who acts, on which job and block, and how. */
const stepArbitrary = fc.record({
  who: fc.integer({ min: 0, max: AUTHORS - 1 }),
  job: fc.integer({ min: 0, max: 3 }),
  block: fc.integer({ min: 0, max: 2 }),
  epoch: fc.integer({ min: 1, max: 3 }),
  kind: fc.constantFrom(
    'submit', 'submit', 'edit', 'claim', 'claim', 'claim', 'start', 'finish', 'finish', 'finish', 'fail', 'fatal',
    'release', 'retry', 'delete', 'settings', 'grant', 'revoke', 'log'
  ),
  value: fc.integer({ min: 0, max: 99 }),
  flag: fc.boolean(),
  sync: fc.boolean()
})
type Step = typeof stepArbitrary extends fc.Arbitrary<infer T> ? T : never

function bodyOf (step: Step, world: World, submitted: readonly string[]): DraftBody {
  const jobId = step.job === 3 || submitted.length === 0
    ? FIXED_JOBS[step.who % FIXED_JOBS.length] ?? ''
    : submitted[submitted.length - 1 - (step.job % submitted.length)] ?? ''
  // With `flag`, a block fact is what an honest node would write by its own view: a claim
  // one past the block's current epoch, an outcome for a lease it holds. Without, any
  // block at any epoch, as a confused or hostile node might.
  const view = world.replicas[step.who]?.view()
  const seen = view?.jobs.find((job) => job.id === jobId)?.blocks[step.block]?.epoch
  const held = (view?.jobs ?? []).flatMap((job) => job.blocks
    .filter((candidate) => candidate.holder === world.author(step.who))
    .map((candidate) => ({ jobId: job.id, block: candidate.index, epoch: candidate.epoch })))
  const honest = step.kind === 'claim'
    ? { jobId, block: step.block, epoch: (seen ?? 0) + 1 }
    : held[step.value % Math.max(1, held.length)]
  const block = step.flag && honest !== undefined ? honest : { jobId, block: step.block, epoch: step.epoch }
  const letter = CLASSIFICATIONS[step.value % 4] ?? 'A'
  const peer = world.author(step.value % AUTHORS)
  switch (step.kind) {
    case 'submit':
      return { type: 'job.submitted', job: jobSpec({ priority: step.value, frameEnd: 8, blockSize: 2, maxRetries: step.value % 3 }) }
    case 'edit':
      return { type: 'job.edited', jobId, changes: step.flag ? { priority: step.value, halted: step.value % 2 === 0 } : { enabled: step.value % 2 === 0, classification: letter } }
    case 'claim':
      return { type: 'block.claimed', ...block }
    case 'start':
      return { type: 'block.started', ...block }
    case 'finish':
      // Now and then a finish with a frame time missing, which does not count.
      return { type: 'block.finished', ...block, wallMs: 1000 + step.value, frameMs: step.value % 7 === 0 ? [500] : [500, 500 + step.value] }
    case 'fail':
    case 'fatal':
      return { type: 'block.failed', ...block, failure: step.kind === 'fatal' ? 'fatal' : 'retryable', message: `exit ${step.value}`, outputTail: ['Error: something'] }
    case 'release':
      return { type: 'block.released', ...block, reason: 'shutting down' }
    case 'retry':
      return { type: 'job.retried', jobId }
    case 'delete':
      return { type: 'job.deleted', jobId }
    case 'settings':
      return {
        type: 'node.settings',
        node: peer,
        changes: step.flag
          ? { blocked: step.value % 2 === 0, threadLimit: step.value + 1 }
          : { classifications: [letter], name: `node-${step.value}`, software: [SOFTWARE[step.value % SOFTWARE.length] ?? 'blender'] }
      }
    case 'grant':
    case 'revoke':
      return { type: 'role.changed', peer, role: 'wrangler', granted: step.kind === 'grant' }
    case 'log':
      return { type: 'log.recorded', clientName: 'render01', jobId, block: step.block, description: 'note', outputTail: [] }
  }
}

function play (steps: readonly Step[]): VerifiedEvent[] {
  const world = new World(signers, authority)
  const submitted: string[] = []
  for (const step of steps) {
    if (step.sync) world.sync(step.who)
    const { body } = world.write(step.who, bodyOf(step, world, submitted)).event
    if (body.type === 'job.submitted') submitted.push(body.job.id)
  }
  return world.events
}

/** A scenario, and the same events shuffled with some of them repeated. */
const scenarioArbitrary = fc.array(stepArbitrary, { minLength: 1, maxLength: 60, size: 'max' })
  .map(play)
  .chain((events) => fc.record({
    events: fc.constant(events),
    shuffled: fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
    repeated: fc.array(fc.constantFrom(...events), { maxLength: 20 })
  }))

test('any order and duplication of the same events gives the same state hash and view', (t) => {
  fc.assert(fc.property(scenarioArbitrary, ({ events, shuffled, repeated }) => {
    const inOrder = reduce(events)
    const reordered = reduce([...shuffled, ...repeated])
    t.is(stateHash(reordered), stateHash(inOrder))
    t.deepEqual(deriveView(reordered, authority), deriveView(inOrder, authority))
  }), { numRuns: 500 })
})

test('the state hash tells apart event sets that differ by a block fact', (t) => {
  fc.assert(fc.property(scenarioArbitrary, ({ events }) => {
    const without = events.slice(0, -1)
    const last = events.at(-1)
    // Block facts always add to a set, unless their job is compacted (its submitter deleted
    // it); an act that does not count, or a log record, may rightly change nothing.
    const body = last?.event.body
    const jobId = body !== undefined && body.type.startsWith('block.') && 'jobId' in body ? body.jobId : null
    fc.pre(jobId !== null)
    const before = reduce(without)
    fc.pre(before.jobs[jobId]?.tombstone === undefined)
    t.not(stateHash(before), stateHash(reduce(events)))
  }), { numRuns: 200 })
})
