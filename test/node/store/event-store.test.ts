/**
 * The LevelDB store on a real disk: it survives close and reopen with equal state, its
 * materialized records equal a full replay, and bytes it did not write are refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { Level } from 'level'
import { encodeEvent } from '../../../src/protocol/encoding.js'
import { ClockAheadError, ForkedFeedError, ReplayedEventError } from '../../../src/protocol/errors.js'
import type { VerifiedEvent } from '../../../src/protocol/events.js'
import { CLOCK_TICKS_PER_MS, MAX_CLOCK_AHEAD_MS } from '../../../src/protocol/feed.js'
import { jobIdFor } from '../../../src/protocol/job-id.js'
import { reduce } from '../../../src/protocol/records.js'
import { signEvent } from '../../../src/protocol/signing.js'
import { stateHash } from '../../../src/protocol/state-hash.js'
import { IdentityFileError, loadOrCreateIdentity } from '../../../src/node/identity.js'
import { CorruptStoreError, ForeignStoreError } from '../../../src/node/store/errors.js'
import { EventStore, STORE_FORMAT } from '../../../src/node/store/event-store.js'
import { jobSpec, makeSigners, World } from '../../helpers/farm-events.js'
import { nth } from '../../helpers/nth.js'

const signers = await makeSigners(3)
const local = nth(signers, 2)

/** The id a submit event gave its job. */
function submittedJobId (verified: VerifiedEvent): string {
  const { body } = verified.event
  if (body.type !== 'job.submitted') throw new Error(`expected a submission, got ${body.type}`)
  return body.job.id
}

async function tempDir (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-store-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A busy farm: two remote authors submit, claim, finish and fail blocks, seeing each other. */
function busyWorld (): World {
  const world = new World(signers.slice(0, 2))
  for (let round = 0; round < 5; round++) {
    const job = world.submit(round % 2, { frameEnd: 6, blockSize: 2, priority: round * 10 })
    world.sync(0)
    world.sync(1)
    for (let block = 0; block < 3; block++) {
      const who = (round + block) % 2
      world.write(who, { type: 'block.claimed', jobId: job.id, block, epoch: 1 })
      world.write(who, { type: 'block.started', jobId: job.id, block, epoch: 1 })
      if (block === 2 && round === 3) {
        world.write(who, { type: 'block.failed', jobId: job.id, block, epoch: 1, failure: 'retryable', message: 'exit 1', outputTail: ['Error: boom'] })
      } else {
        world.write(who, { type: 'block.finished', jobId: job.id, block, epoch: 1, wallMs: 2000, frameMs: [1000, 1000] })
      }
    }
    world.write(round % 2, { type: 'node.settings', node: world.author(round % 2), changes: { name: `render0${round % 2}`, threadLimit: round + 1 } })
  }
  return world
}

test('a store survives close and reopen with equal state, equal to a full replay', async (t) => {
  const dir = await tempDir(t)
  const world = busyWorld()
  const store = await EventStore.open(dir, local)
  const outcomes = await store.ingestBatch(world.events.map((verified) => encodeEvent(verified.event)))
  t.true(outcomes.every((outcome) => outcome.kind === 'appended'))
  await store.append({ type: 'log.recorded', clientName: 'render02', jobId: null, block: null, description: 'node started', outputTail: [] }, Date.now())
  const before = { hash: store.stateHash(), vector: store.versionVector(), view: store.view() }
  await store.close()

  const reopened = await EventStore.open(dir, local)
  t.teardown(async () => reopened.close())
  t.is(reopened.stateHash(), before.hash)
  t.deepEqual(reopened.versionVector(), before.vector)
  t.deepEqual(reopened.view(), before.view)
  const replayed = []
  for await (const verified of reopened.allEvents()) replayed.push(verified)
  t.is(replayed.length, world.events.length + 1)
  t.is(stateHash(reduce(replayed)), before.hash)
  t.is(before.view.jobs.length, 5)
  t.is(before.view.jobs.filter((job) => job.status === 'DONE').length, 4)
})

test('a local writer continues its own feed after a restart', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  const first = await store.append({ type: 'job.submitted', job: jobSpec() }, 1000)
  const jobId = submittedJobId(first.event)
  t.is(jobId, jobIdFor(local.author, 1))
  await store.close()
  const reopened = await EventStore.open(dir, local)
  t.teardown(async () => reopened.close())
  const second = await reopened.append({ type: 'job.edited', jobId, changes: { halted: true } }, 2000)
  t.is(second.event.event.seq, 2)
  t.deepEqual(second.event.event.prev, first.event.link)
  t.true(second.event.event.lamport > first.event.event.lamport)
  t.is(reopened.view().jobs[0]?.status, 'HALT')
})

test('a second copy of a held event is a replay and a different one a fork; neither changes the store', async (t) => {
  const dir = await tempDir(t)
  const world = busyWorld()
  const store = await EventStore.open(dir, local)
  t.teardown(async () => store.close())
  const first = nth(world.events, 0)
  await store.ingest(encodeEvent(first.event))
  const hash = store.stateHash()
  await t.throwsAsync(store.ingest(encodeEvent(first.event)), { instanceOf: ReplayedEventError })
  const { sig: _sig, ...unsigned } = first.event
  const fork = signEvent({ ...unsigned, wallTime: unsigned.wallTime + 1 }, nth(signers, 0))
  await t.throwsAsync(store.ingest(encodeEvent(fork.event)), { instanceOf: ForkedFeedError })
  t.is(store.stateHash(), hash)
  t.deepEqual(store.versionVector(), { [first.event.author]: 1 })
})

test('a batch with a refused event applies the rest and reports each outcome', async (t) => {
  const dir = await tempDir(t)
  const world = busyWorld()
  const store = await EventStore.open(dir, local)
  t.teardown(async () => store.close())
  const feed = world.events.filter((verified) => verified.event.author === world.author(0)).map((verified) => encodeEvent(verified.event))
  const outcomes = await store.ingestBatch([nth(feed, 0), new Uint8Array([1, 2, 3]), nth(feed, 2), nth(feed, 1), nth(feed, 0)])
  t.deepEqual(outcomes.map((outcome) => outcome.kind), ['appended', 'rejected', 'gap', 'appended', 'rejected'])
  t.is(store.versionVector()[world.author(0)], 2)
})

test('appended events are announced to listeners after they are on disk', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  t.teardown(async () => store.close())
  const seen: number[] = []
  const unsubscribe = store.onAppended((verified) => seen.push(verified.event.seq))
  await store.append({ type: 'job.submitted', job: jobSpec() }, 1)
  unsubscribe()
  await store.append({ type: 'job.submitted', job: jobSpec() }, 2)
  t.deepEqual(seen, [1])
  t.deepEqual(await store.readFeed(local.author, 1, 10).then((list) => list.length), 2)
})

test('a damaged record on disk is refused with the key that is wrong', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  const jobId = submittedJobId((await store.append({ type: 'job.submitted', job: jobSpec() }, 1)).event)
  await store.close()

  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await raw.sublevel<string, Uint8Array>('jobs', { valueEncoding: 'view' }).put(jobId, new TextEncoder().encode('not ours'))
  await raw.close()
  const error = await t.throwsAsync(EventStore.open(dir, local), { instanceOf: CorruptStoreError })
  t.regex(error.message, new RegExp(`jobs/${jobId}`))
})

test('a damaged event on disk is refused when read, naming its key', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  await store.append({ type: 'job.submitted', job: jobSpec() }, 1)
  // Damage below the head is found when read; the head's own event is checked at open.
  await store.append({ type: 'job.submitted', job: jobSpec() }, 2)
  await store.close()

  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  const events = raw.sublevel<string, Uint8Array>('events', { valueEncoding: 'view' })
  const keys = await events.keys().all()
  await events.put(nth(keys, 0), new Uint8Array([0xa1, 0x61, 0x76, 0x02]))
  await raw.close()
  const reopened = await EventStore.open(dir, local)
  t.teardown(async () => reopened.close())
  await t.throwsAsync(async () => {
    for await (const _ of reopened.allEvents()) { /* reading is the test */ }
  }, { instanceOf: CorruptStoreError, message: /events\// })
})

test('a directory holding another program\'s LevelDB is refused, not adopted', async (t) => {
  const dir = await tempDir(t)
  const foreign = new Level(dir)
  await foreign.put('users/1', 'alice')
  await foreign.close()
  await t.throwsAsync(EventStore.open(dir, local), { instanceOf: ForeignStoreError })
})

test('a node keeps its identity across restarts and refuses a garbled key file', async (t) => {
  const dir = await tempDir(t)
  const created = await loadOrCreateIdentity(dir)
  const loaded = await loadOrCreateIdentity(dir)
  t.true(created.equals(loaded))
  await writeFile(path.join(dir, 'identity.key'), 'garbage')
  await t.throwsAsync(loadOrCreateIdentity(dir), { instanceOf: IdentityFileError, message: /corrupt or foreign/ })
})

test('reads of events wait for writes in flight, so they never lag the state the store shows', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  t.teardown(async () => store.close())
  const writing = store.append({ type: 'job.submitted', job: jobSpec() }, 1)
  // The state shows the event as soon as it is committed in memory, before the disk write
  // ends: wait for that on microtasks alone, so no I/O completes in between.
  for (let turn = 0; turn < 1_000 && store.view().jobs.length === 0; turn++) await Promise.resolve()
  t.is(store.view().jobs.length, 1)
  const events = []
  for await (const verified of store.allEvents()) events.push(verified)
  t.is(events.length, 1)
  t.is((await store.readFeed(local.author, 1, 10)).length, 1)
  await writing
})

test('a feed read while writes are queued serves what is on disk, not a write queued after it began', async (t) => {
  // The race CI met: the read waited for the queue as it stood, a write queued behind that
  // committed its event in memory first, and the read took it for a missing event on disk.
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  t.teardown(async () => store.close())
  await store.append({ type: 'job.submitted', job: jobSpec() }, 1)
  for (let round = 0; round < 20; round++) {
    const first = store.append({ type: 'job.submitted', job: jobSpec() }, 1)
    const reading = store.readFeed(local.author, 1, 1_000)
    const second = store.append({ type: 'job.submitted', job: jobSpec() }, 1)
    const served = await reading
    await Promise.all([first, second])
    t.true(served.length >= 1 + 2 * round, 'the read serves at least what was on disk when it began')
  }
  t.is(await store.scrub(), 41)
})

test('role facts are kept on disk: a farm\'s wranglers and what they steer survive a restart', async (t) => {
  const dir = await tempDir(t)
  const authority = { founder: local.author }
  const artist = nth(signers, 0)
  const world = new World([artist])
  const job = world.submit(0)
  const store = await EventStore.open(dir, local, { authority })
  await store.ingest(encodeEvent(nth(world.events, 0).event))
  await store.append({ type: 'role.changed', peer: nth(signers, 1).author, role: 'wrangler', granted: true }, Date.now())
  await store.append({ type: 'job.edited', jobId: job.id, changes: { priority: 90 } }, Date.now())
  const before = { hash: store.stateHash(), view: store.view() }
  t.deepEqual(before.view.wranglers, [local.author, nth(signers, 1).author])
  t.is(nth(before.view.jobs, 0).priority, 90, 'the founder steers a job it did not submit')
  await store.close()

  const reopened = await EventStore.open(dir, local, { authority })
  t.teardown(async () => reopened.close())
  t.is(reopened.stateHash(), before.hash)
  t.deepEqual(reopened.view(), before.view)
  t.is(Object.keys(reopened.records().roles).length, 1)
})

test('an event whose clock runs more than an hour ahead of the store\'s clock is refused until the clock catches up', async (t) => {
  const dir = await tempDir(t)
  const world = new World([nth(signers, 0)])
  world.submit(0)
  const [submitted] = world.events
  if (submitted === undefined) throw new Error('no event')
  const eventMs = submitted.event.lamport / CLOCK_TICKS_PER_MS
  let nowMs = eventMs - MAX_CLOCK_AHEAD_MS - 1_000
  const store = await EventStore.open(dir, local, { now: () => nowMs })
  t.teardown(async () => store.close())
  const bytes = encodeEvent(submitted.event)
  const error = await t.throwsAsync(store.ingest(bytes), { instanceOf: ClockAheadError })
  t.is(error.reason, 'clock-ahead')
  t.deepEqual(store.versionVector(), {})
  nowMs = eventMs - MAX_CLOCK_AHEAD_MS
  t.like(await store.ingest(bytes), { kind: 'appended' })
  t.is(store.view().jobs.length, 1)
})

test('a store of the earlier format is refused, naming both formats', async (t) => {
  const dir = await tempDir(t)
  const old = new Level(dir)
  await old.sublevel('meta', { valueEncoding: 'utf8' }).put('format', 'constellation-store/1')
  await old.close()
  const error = await t.throwsAsync(EventStore.open(dir, local), { instanceOf: ForeignStoreError })
  t.is(error.found, 'constellation-store/1')
  t.is(error.expected, STORE_FORMAT)
})
