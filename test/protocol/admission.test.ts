/**
 * The trust boundary: every way an event can be wrong is refused with its own error, and
 * a refused event changes nothing.
 */
import { randomUUID } from 'node:crypto'
import test from 'ava'
import { encode } from 'cborg'
import { decodeEvent, encodeEvent, MAX_EVENT_BYTES } from '../../src/protocol/encoding.js'
import {
  BrokenChainError, ClockAheadError, ForgedEventError, ForkedFeedError, InvalidEventError, MalformedEventError,
  OversizedEventError, ReplayedEventError
} from '../../src/protocol/errors.js'
import type { SignedEvent } from '../../src/protocol/events.js'
import { CLOCK_TICKS_PER_MS, clockLimit } from '../../src/protocol/feed.js'
import { jobIdFor } from '../../src/protocol/job-id.js'
import { Replica } from '../../src/protocol/replica.js'
import { signEvent } from '../../src/protocol/signing.js'
import { makeSigners, World } from '../helpers/farm-events.js'
import { nth } from '../helpers/nth.js'

const signers = await makeSigners(2)
const alice = nth(signers, 0)
const bob = nth(signers, 1)
/** The receiver's wall clock: a day after the World's clock starts, so every event it wrote is in the past. */
const NOW_MS = 1_700_000_000_000 + 86_400_000

/** Two events of Alice's feed and a receiver that holds neither. */
function setup (): { world: World, receiver: Replica, wire: Uint8Array[], held: Map<string, Uint8Array> } {
  const world = new World(signers)
  const job = world.submit(0)
  world.write(0, { type: 'job.edited', jobId: job.id, changes: { priority: 80 } })
  return { world, receiver: new Replica(), wire: world.events.map((verified) => encodeEvent(verified.event)), held: new Map() }
}

async function take (receiver: Replica, held: Map<string, Uint8Array>, bytes: Uint8Array, nowMs = NOW_MS) {
  const admission = await receiver.admit(bytes, (author, seq) => {
    const hash = held.get(`${author}#${seq}`)
    return hash === undefined ? Promise.reject(new Error('not held')) : Promise.resolve(hash)
  }, nowMs)
  if (admission.kind === 'next') {
    receiver.commit(admission.verified)
    held.set(`${admission.verified.event.author}#${admission.verified.event.seq}`, admission.verified.link)
  }
  return admission
}

function resign (event: SignedEvent, changes: Partial<SignedEvent>, signer = alice): Uint8Array {
  const { sig: _sig, ...unsigned } = { ...event, ...changes }
  return encodeEvent(signEvent(unsigned, signer).event)
}

test('a valid feed is admitted in order and a gap is reported, not applied', async (t) => {
  const { receiver, wire, held } = setup()
  const gap = await take(receiver, held, nth(wire, 1))
  t.like(gap, { kind: 'gap', have: 0, got: 2 })
  t.deepEqual(receiver.versionVector(), {})
  t.like(await take(receiver, held, nth(wire, 0)), { kind: 'next' })
  t.like(await take(receiver, held, nth(wire, 1)), { kind: 'next' })
  t.deepEqual(receiver.versionVector(), { [alice.author]: 2 })
  t.is(receiver.view().jobs[0]?.priority, 80)
})

test('a flipped signature bit is forged', async (t) => {
  const { receiver, world, held } = setup()
  const event = nth(world.events, 0).event
  const sig = Uint8Array.from(event.sig)
  sig[0] = (sig[0] ?? 0) ^ 1
  await t.throwsAsync(take(receiver, held, encodeEvent({ ...event, sig })), { instanceOf: ForgedEventError })
  t.deepEqual(receiver.versionVector(), {})
})

test('content changed after signing is forged', async (t) => {
  const { receiver, world, held } = setup()
  const event = nth(world.events, 0).event
  const body = event.body.type === 'job.submitted' ? { ...event.body, job: { ...event.body.job, priority: 99 } } : event.body
  await t.throwsAsync(take(receiver, held, encodeEvent({ ...event, body })), { instanceOf: ForgedEventError, message: /signature does not match/ })
})

test('an event signed by one peer in the name of another is forged', async (t) => {
  const { receiver, world, held } = setup()
  const event = nth(world.events, 0).event
  const { sig: _sig, ...unsigned } = event
  const bobSigned = signEvent({ ...unsigned, author: bob.author }, bob).event
  await t.throwsAsync(take(receiver, held, encodeEvent({ ...bobSigned, author: alice.author })), { instanceOf: ForgedEventError })
})

test('an author that is not an Ed25519 peer id is forged', async (t) => {
  const { receiver, world, held } = setup()
  // The edit as a first event, not the submission: a submission in another author's name
  // would first carry the wrong job id.
  const event = { ...nth(world.events, 1).event, seq: 1, prev: null }
  const error = await t.throwsAsync(take(receiver, held, encodeEvent({ ...event, author: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' })), { instanceOf: ForgedEventError })
  t.regex(error.message, /not an Ed25519 peer id/)
})

test('a wrong prev hash breaks the chain', async (t) => {
  const { receiver, world, wire, held } = setup()
  await take(receiver, held, nth(wire, 0))
  const second = nth(world.events, 1).event
  const bytes = resign(second, { prev: new Uint8Array(32) })
  await t.throwsAsync(take(receiver, held, bytes), { instanceOf: BrokenChainError, message: /prev does not name/ })
  t.deepEqual(receiver.versionVector(), { [alice.author]: 1 })
})

test('a lamport clock that goes backwards breaks the chain', async (t) => {
  const { receiver, world, wire, held } = setup()
  await take(receiver, held, nth(wire, 0))
  const second = nth(world.events, 1).event
  await t.throwsAsync(take(receiver, held, resign(second, { lamport: 1 })), { instanceOf: BrokenChainError, message: /lamport/ })
})

test('a clock more than an hour ahead of the receiver\'s waits: refused now, admitted once the receiver\'s clock catches up', async (t) => {
  const { receiver, world, held } = setup()
  const first = nth(world.events, 0).event
  const limit = clockLimit(NOW_MS)
  t.is(limit, (NOW_MS + 60 * 60 * 1000 + 1) * CLOCK_TICKS_PER_MS - 1)
  const ahead = resign(first, { lamport: limit + 1 })
  const error = await t.throwsAsync(take(receiver, held, ahead), { instanceOf: ClockAheadError })
  t.is(error.reason, 'clock-ahead')
  t.deepEqual(error.ref, { author: alice.author, seq: 1 })
  t.deepEqual(receiver.versionVector(), {})
  t.like(await take(receiver, held, ahead, NOW_MS + 1), { kind: 'next' })
  t.deepEqual(receiver.versionVector(), { [alice.author]: 1 })
})

test('a clock at the limit is admitted', async (t) => {
  const { receiver, world, held } = setup()
  const first = nth(world.events, 0).event
  t.like(await take(receiver, held, resign(first, { lamport: clockLimit(NOW_MS) })), { kind: 'next' })
})

test('a submission must carry the job id its feed position gives: another id, or an existing job\'s, is invalid', async (t) => {
  const { receiver, world, wire, held } = setup()
  const first = nth(world.events, 0).event
  if (first.body.type !== 'job.submitted') throw new Error('setup starts with a submission')
  t.is(first.body.job.id, jobIdFor(alice.author, 1))
  const chosen = resign(first, { body: { ...first.body, job: { ...first.body.job, id: randomUUID() } } })
  const error = await t.throwsAsync(take(receiver, held, chosen), { instanceOf: InvalidEventError })
  t.is(error.field, 'job.id')
  t.deepEqual(error.ref, { author: alice.author, seq: 1 })
  t.deepEqual(receiver.versionVector(), {})
  // Alice's next event re-submitting her own job's id (to replace its spec) is refused alike.
  await take(receiver, held, nth(wire, 0))
  const second = nth(world.events, 1).event
  const resubmitted = resign(second, { body: { ...first.body, job: { ...first.body.job, frameEnd: 1000 } } })
  t.like(t.throws(() => decodeEvent(resubmitted), { instanceOf: InvalidEventError }), { field: 'job.id' })
  await t.throwsAsync(take(receiver, held, resubmitted), { instanceOf: InvalidEventError })
  // And so is Bob's, signed by Bob in his own feed.
  const bobSubmits = resign(first, { author: bob.author }, bob)
  await t.throwsAsync(take(receiver, held, bobSubmits), { instanceOf: InvalidEventError, message: /job\.id/ })
  t.deepEqual(receiver.versionVector(), { [alice.author]: 1 })
  t.is(nth(receiver.view().jobs, 0).frameEnd, 8)
})

test('the same event twice is a replay; a different one at a held seq is a fork', async (t) => {
  const { receiver, world, wire, held } = setup()
  await take(receiver, held, nth(wire, 0))
  await t.throwsAsync(take(receiver, held, nth(wire, 0)), { instanceOf: ReplayedEventError })
  const first = nth(world.events, 0).event
  await t.throwsAsync(take(receiver, held, resign(first, { wallTime: first.wallTime + 1 })), { instanceOf: ForkedFeedError })
  t.deepEqual(receiver.versionVector(), { [alice.author]: 1 })
})

test('garbled bytes are malformed, never a crash', async (t) => {
  const { receiver, wire, held } = setup()
  const garbage = [
    new Uint8Array([0xff, 0x00, 0x13]),
    nth(wire, 0).subarray(0, 40),
    new TextEncoder().encode('{"type":"job.submitted"}'),
    encode({ hello: 'world' }),
    encode([1, 2, 3]),
    new Uint8Array(0)
  ]
  for (const bytes of garbage) {
    await t.throwsAsync(take(receiver, held, bytes), { instanceOf: MalformedEventError })
  }
  t.deepEqual(receiver.versionVector(), {})
})

test('an oversized message is refused before it is decoded', (t) => {
  const error = t.throws(() => decodeEvent(new Uint8Array(MAX_EVENT_BYTES + 1)), { instanceOf: OversizedEventError })
  t.is(error.limit, MAX_EVENT_BYTES)
})

test('an unknown field is refused rather than stripped, since stripping changes what was signed', async (t) => {
  const { receiver, world, held } = setup()
  const event = nth(world.events, 0).event
  await t.throwsAsync(take(receiver, held, encodeEvent({ ...event, extra: 1 } as SignedEvent)), { instanceOf: MalformedEventError, message: /extra|unrecognized/i })
  const body = { ...event.body, sneaky: true }
  await t.throwsAsync(take(receiver, held, encodeEvent({ ...event, body })), { instanceOf: InvalidEventError })
})

/** A feed of `count` events by Alice, in wire form. */
function feedOf (count: number): { world: World, wire: Uint8Array[] } {
  const world = new World(signers)
  const job = world.submit(0)
  for (let index = 1; index < count; index++) world.write(0, { type: 'job.edited', jobId: job.id, changes: { priority: index % 100 } })
  return { world, wire: world.events.map((verified) => encodeEvent(verified.event)) }
}

const noneHeld = (): Promise<Uint8Array> => Promise.reject(new Error('nothing is held'))

test('a run of events is authenticated by its newest signature, which vouches for the chain', async (t) => {
  const { wire } = feedOf(50)
  const receiver = new Replica()
  const admissions = await receiver.admitBatch(wire, noneHeld, NOW_MS)
  t.true(admissions.every((admission) => admission.kind === 'next'))
  const ways = admissions.map((admission) => admission.kind === 'next' ? admission.verified.authenticated : 'refused')
  t.deepEqual(ways, [...Array<string>(49).fill('chain'), 'signature'])
})

test('a tampered signature inside a run stops the run there: what came before still counts', async (t) => {
  const { world, wire } = feedOf(10)
  const sixth = nth(world.events, 5).event
  const sig = Uint8Array.from(sixth.sig)
  sig[10] = (sig[10] ?? 0) ^ 0xff
  const tampered = [...wire.slice(0, 5), encodeEvent({ ...sixth, sig }), ...wire.slice(6)]
  const receiver = new Replica()
  const admissions = await receiver.admitBatch(tampered, noneHeld, NOW_MS)
  t.deepEqual(admissions.slice(0, 5).map((admission) => admission.kind), Array<string>(5).fill('next'))
  const sixthOutcome = nth(admissions, 5)
  t.true(sixthOutcome.kind === 'rejected' && sixthOutcome.error instanceof ForgedEventError)
  // The seventh names the true sixth, whose link covered the original signature.
  const seventh = nth(admissions, 6)
  t.true(seventh.kind === 'rejected' && seventh.error instanceof BrokenChainError)
  t.true(admissions.slice(7).every((admission) => admission.kind === 'gap'))
  for (const admission of admissions) if (admission.kind === 'next') receiver.commit(admission.verified)
  t.deepEqual(receiver.versionVector(), { [alice.author]: 5 })
})

test('a forged newest event fails alone; the run before it is checked one by one and kept', async (t) => {
  const { world, wire } = feedOf(8)
  const last = nth(world.events, 7).event
  const { sig: _sig, ...unsigned } = last
  const forged = encodeEvent({ ...signEvent({ ...unsigned, author: bob.author }, bob).event, author: alice.author })
  const admissions = await new Replica().admitBatch([...wire.slice(0, 7), forged], noneHeld, NOW_MS)
  t.deepEqual(admissions.map((admission) => admission.kind), [...Array<string>(7).fill('next'), 'rejected'])
  t.true(admissions.slice(0, 7).every((admission) => admission.kind === 'next' && admission.verified.authenticated === 'signature'))
})
