/**
 * The reducer's central promise: state is a function of the set of events. Any order,
 * any duplication, gives the same state hash and the same farm view.
 */
import test from 'ava'
import fc from 'fast-check'
import type { EventBody, VerifiedEvent } from '../../src/protocol/events.js'
import { reduce } from '../../src/protocol/records.js'
import { stateHash } from '../../src/protocol/state-hash.js'
import { deriveView } from '../../src/protocol/view.js'
import { CLASSIFICATIONS } from '../../src/protocol/vocabulary.js'
import { jobSpec, makeSigners, World } from '../helpers/farm-events.js'

const AUTHORS = 4
const JOB_IDS = ['7d3c6f0e-3a7b-4c1e-9a53-0f6b0c6b1a01', '7d3c6f0e-3a7b-4c1e-9a53-0f6b0c6b1a02'] as const
const signers = await makeSigners(AUTHORS)

/** One step of a farm's life: who acts, on which job and block, and how. */
const stepArbitrary = fc.record({
  who: fc.integer({ min: 0, max: AUTHORS - 1 }),
  job: fc.constantFrom(...JOB_IDS),
  block: fc.integer({ min: 0, max: 2 }),
  epoch: fc.integer({ min: 1, max: 3 }),
  kind: fc.constantFrom('submit', 'edit', 'claim', 'start', 'finish', 'fail', 'fatal', 'release', 'retry', 'delete', 'settings', 'log'),
  value: fc.integer({ min: 0, max: 99 }),
  flag: fc.boolean(),
  sync: fc.boolean()
})
type Step = typeof stepArbitrary extends fc.Arbitrary<infer T> ? T : never

function bodyOf (step: Step, world: World): EventBody {
  const block = { jobId: step.job, block: step.block, epoch: step.epoch }
  const letter = CLASSIFICATIONS[step.value % 4] ?? 'A'
  switch (step.kind) {
    case 'submit':
      return { type: 'job.submitted', job: jobSpec({ id: step.job, priority: step.value, frameEnd: 8, blockSize: 2, maxRetries: step.value % 3 }) }
    case 'edit':
      return { type: 'job.edited', jobId: step.job, changes: step.flag ? { priority: step.value, halted: step.value % 2 === 0 } : { enabled: step.value % 2 === 0, classification: letter } }
    case 'claim':
      return { type: 'block.claimed', ...block }
    case 'start':
      return { type: 'block.started', ...block }
    case 'finish':
      return { type: 'block.finished', ...block, wallMs: 1000 + step.value, frames: [{ frame: 1 + step.block * 2, ms: 500 }, { frame: 2 + step.block * 2, ms: 500 + step.value }] }
    case 'fail':
    case 'fatal':
      return { type: 'block.failed', ...block, failure: step.kind === 'fatal' ? 'fatal' : 'retryable', message: `exit ${step.value}`, outputTail: ['Error: something'] }
    case 'release':
      return { type: 'block.released', ...block, reason: 'shutting down' }
    case 'retry':
      return { type: 'job.retried', jobId: step.job }
    case 'delete':
      return { type: 'job.deleted', jobId: step.job }
    case 'settings':
      return { type: 'node.settings', node: world.author(step.value % AUTHORS), changes: step.flag ? { blocked: step.value % 2 === 0, threadLimit: step.value + 1 } : { classifications: [letter], name: `node-${step.value}` } }
    case 'log':
      return { type: 'log.recorded', clientName: 'render01', jobId: step.job, block: step.block, description: 'note', outputTail: [] }
  }
}

function play (steps: readonly Step[]): VerifiedEvent[] {
  const world = new World(signers)
  for (const step of steps) {
    if (step.sync) world.sync(step.who)
    world.write(step.who, bodyOf(step, world))
  }
  return world.events
}

/** A scenario, and the same events shuffled with some of them repeated. */
const scenarioArbitrary = fc.array(stepArbitrary, { minLength: 1, maxLength: 60 })
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
    t.deepEqual(deriveView(reordered), deriveView(inOrder))
  }), { numRuns: 500 })
})

test('the state hash tells apart event sets that differ by a block fact', (t) => {
  fc.assert(fc.property(scenarioArbitrary, ({ events }) => {
    const without = events.slice(0, -1)
    const last = events.at(-1)
    // Block facts always add to a set; a register write older than the current one, a
    // duplicate submission or a log record may rightly change nothing.
    fc.pre(last?.event.body.type.startsWith('block.') === true)
    t.not(stateHash(reduce(without)), stateHash(reduce(events)))
  }), { numRuns: 200 })
})
