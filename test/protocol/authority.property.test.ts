/**
 * Honest histories mixed with a hostile key holder's. The honest peers write only what
 * their own view says they may (as a node and the CLI do); two rogue identities write
 * anything a key holder can sign: edits, retries and deletes of others' jobs, facts about
 * blocks they do not hold, claims far past the current epoch, grants to themselves,
 * settings of others' nodes. Whatever the order, every peer computes the same state, and
 * the honest part of it is exactly what the honest events alone give.
 */
import { isDeepStrictEqual } from 'node:util'
import test from 'ava'
import fc from 'fast-check'
import type { DraftBody, VerifiedEvent } from '../../src/protocol/events.js'
import { judgeFact } from '../../src/protocol/fact-rules.js'
import { deriveView } from '../../src/protocol/farm-view.js'
import { reduce } from '../../src/protocol/records.js'
import { stateHash } from '../../src/protocol/state-hash.js'
import type { FarmView } from '../../src/protocol/view.js'
import { makeSigners, World } from '../helpers/farm-events.js'

const FOUNDER = 0
const HONEST = [0, 1, 2, 3] as const
const ROGUES = [4, 5] as const
const signers = await makeSigners(HONEST.length + ROGUES.length)
const authority = { founder: signers[FOUNDER]?.author ?? null }

const stepArbitrary = fc.record({
  // Rogues act as often as all honest peers together.
  who: fc.oneof(fc.constantFrom(...HONEST), fc.constantFrom(...ROGUES)),
  job: fc.nat(),
  block: fc.integer({ min: 0, max: 2 }),
  epoch: fc.integer({ min: 1, max: 4 }),
  kind: fc.constantFrom('submit', 'edit', 'grant', 'revoke', 'claim', 'start', 'finish', 'fail', 'fatal', 'release', 'retry', 'delete', 'settings'),
  value: fc.integer({ min: 0, max: 99 }),
  flag: fc.boolean(),
  sync: fc.boolean()
})
type Step = typeof stepArbitrary extends fc.Arbitrary<infer T> ? T : never

function isRogue (who: number): boolean {
  return (ROGUES as readonly number[]).includes(who)
}

/** What `step` writes. Honest writers act on their own view; rogues on anything they heard of. */
function bodyOf (step: Step, farm: World, jobs: readonly string[]): DraftBody | null {
  const view = farm.replicas[step.who]?.view()
  const jobId = jobs[step.job % Math.max(1, jobs.length)]
  if (view === undefined) return null
  const block = view.jobs.find((job) => job.id === jobId)?.blocks[step.block]
  // An honest node claims one past the epoch it sees and states facts at the epoch it holds; a rogue makes epochs up.
  const epoch = isRogue(step.who) ? (step.kind === 'claim' ? 1_000 + step.epoch : step.epoch) : (block?.epoch ?? 0) + (step.kind === 'claim' ? 1 : 0)
  const frames = block === undefined ? 2 : block.frameEnd - block.frameStart + 1
  const target = jobId === undefined ? null : { jobId, block: step.block, epoch: Math.max(1, epoch) }
  switch (step.kind) {
    case 'submit':
      return { type: 'job.submitted', job: { ...jobFields(step) } }
    case 'grant':
    case 'revoke': {
      // Honest wranglers grant only honest peers: a rogue made wrangler would rightly count.
      const peers = isRogue(step.who) ? signers.length : HONEST.length
      return { type: 'role.changed', peer: farm.author(step.value % peers), role: 'wrangler', granted: step.kind === 'grant' }
    }
    case 'settings':
      return { type: 'node.settings', node: farm.author(step.value % signers.length), changes: step.flag ? { blocked: step.value % 2 === 0, software: ['blender'] } : { threadLimit: step.value + 1 } }
    default:
      break
  }
  if (target === null) return null
  switch (step.kind) {
    case 'edit':
      return { type: 'job.edited', jobId: target.jobId, changes: step.flag ? { priority: step.value, halted: step.value % 2 === 0 } : { enabled: step.value % 2 === 0 } }
    case 'retry':
      return { type: 'job.retried', jobId: target.jobId }
    case 'delete':
      return { type: 'job.deleted', jobId: target.jobId }
    case 'claim':
      return { type: 'block.claimed', ...target }
    case 'start':
      return { type: 'block.started', ...target }
    case 'finish':
      return { type: 'block.finished', ...target, wallMs: 1000 + step.value, frameMs: Array.from({ length: frames }, () => 500) }
    case 'fail':
    case 'fatal':
      return { type: 'block.failed', ...target, failure: step.kind === 'fatal' ? 'fatal' : 'retryable', message: `exit ${step.value}`, outputTail: [] }
    default:
      return { type: 'block.released', ...target, reason: 'shutting down' }
  }
}

function jobFields (step: Step): Extract<DraftBody, { type: 'job.submitted' }>['job'] {
  return {
    name: `shot${step.value}`, project: 'feature', user: 'artist', software: 'blender',
    scenePath: '/projects/shot.blend', targetPath: '/renders/shot', frameStart: 1, frameEnd: 6, blockSize: 2,
    layer: null, camera: null, imageName: null, imageFormat: null, commandTemplate: null,
    priority: step.value, classification: 'A', maxRetries: step.value % 3, enabled: true
  }
}

interface History {
  readonly all: VerifiedEvent[]
  readonly honest: VerifiedEvent[]
}

function play (steps: readonly Step[]): History {
  const farm = new World(signers, authority)
  const jobs: string[] = []
  const honestJobs: string[] = []
  for (const step of steps) {
    if (step.sync) farm.sync(step.who)
    // Honest peers work on honest jobs only, so that honest facts never depend on a rogue's.
    const body = bodyOf(step, farm, isRogue(step.who) ? jobs : honestJobs)
    if (body === null) continue
    // Honest writers ask first, as the CLI and nodes do; rogues write whatever they like.
    const view = farm.replicas[step.who]?.view()
    if (!isRogue(step.who) && view !== undefined && body.type !== 'job.submitted' && judgeFact(view, farm.author(step.who), body) !== null) continue
    const written = farm.write(step.who, body)
    if (written.event.body.type !== 'job.submitted') continue
    jobs.push(written.event.body.job.id)
    if (!isRogue(step.who)) honestJobs.push(written.event.body.job.id)
  }
  const rogues = new Set(ROGUES.map((who) => farm.author(who)))
  return { all: farm.events, honest: farm.events.filter((verified) => !rogues.has(verified.event.author)) }
}

/** What the honest peers' facts decide: honest jobs, honest nodes, and who the wranglers are. */
function honestPart (view: FarmView, rogues: ReadonlySet<string>): unknown {
  return {
    jobs: view.jobs.filter((job) => !rogues.has(job.submittedBy)),
    nodes: view.nodes.filter((node) => !rogues.has(node.id)),
    wranglers: view.wranglers
  }
}

const historyArbitrary = fc.array(stepArbitrary, { minLength: 10, maxLength: 80 })
  .map(play)
  .chain((history) => fc.record({
    history: fc.constant(history),
    shuffled: fc.shuffledSubarray(history.all, { minLength: history.all.length, maxLength: history.all.length })
  }))

test('a hostile key holder changes nothing of the honest state, in any order', (t) => {
  const rogues = new Set(ROGUES.map((who) => signers[who]?.author ?? ''))
  let attacks = 0
  fc.assert(fc.property(historyArbitrary, ({ history, shuffled }) => {
    attacks += history.all.length - history.honest.length
    const mixed = reduce(history.all)
    const reordered = reduce(shuffled)
    // Thrown, not asserted, so that fast-check shrinks a failure and prints its seed.
    if (stateHash(reordered) !== stateHash(mixed)) throw new Error('the order changed the state hash')
    if (!isDeepStrictEqual(deriveView(reordered, authority), deriveView(mixed, authority))) throw new Error('the order changed the view')
    const honest = honestPart(deriveView(reduce(history.honest), authority), rogues)
    const withRogues = honestPart(deriveView(mixed, authority), rogues)
    if (!isDeepStrictEqual(withRogues, honest)) throw new Error(`the rogues changed the honest state:\n${JSON.stringify(withRogues)}\n${JSON.stringify(honest)}`)
  }), { numRuns: 300 })
  // The property means something only if the rogues did write.
  t.true(attacks > 1_000, `only ${attacks} rogue events in all runs`)
})

test('the incrementally kept view equals a view derived from scratch, after every event', (t) => {
  let compared = 0
  fc.assert(fc.property(historyArbitrary, ({ shuffled }) => {
    const farm = new World(signers, authority)
    const replica = farm.replicas[FOUNDER]
    if (replica === undefined) throw new Error('no replica')
    // Events arrive shuffled; each is committed once its feed reaches it, as a pull would.
    let pending = shuffled
    while (pending.length > 0) {
      const later = pending.filter((verified) => verified.event.seq !== (replica.head(verified.event.author)?.seq ?? 0) + 1)
      for (const verified of pending) {
        if (later.includes(verified)) continue
        replica.commit(verified)
        if (!isDeepStrictEqual(replica.view(), deriveView(replica.records, authority))) throw new Error(`the kept view differs from a fresh one after ${verified.event.body.type}`)
        compared++
      }
      pending = later
    }
  }), { numRuns: 150 })
  t.true(compared > 500, `only ${compared} views compared`)
})
