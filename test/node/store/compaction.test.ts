/**
 * A deleted job's compaction on a real disk: the records of its blocks leave LevelDB in
 * the same write as the delete (or as the block facts that arrive after it), the store
 * reopens to the same state, and that state equals a full replay of the events, which
 * the store keeps.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { Level } from 'level'
import { encodeEvent } from '../../../src/protocol/encoding.js'
import { reduce } from '../../../src/protocol/records.js'
import { stateHash } from '../../../src/protocol/state-hash.js'
import { EventStore } from '../../../src/node/store/event-store.js'
import { makeSigners, World } from '../../helpers/farm-events.js'
import { nth } from '../../helpers/nth.js'

const signers = await makeSigners(3)
const BLOCKS = 50

async function tempDir (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-compaction-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Author 0 submits a job, author 1 renders every block of it, then author 0 deletes it. */
function renderedThenDeleted (): { world: World, jobId: string } {
  const world = new World(signers.slice(0, 2))
  const job = world.submit(0, { frameStart: 1, frameEnd: 2 * BLOCKS, blockSize: 2 })
  world.sync(1)
  for (let block = 0; block < BLOCKS; block++) {
    world.write(1, { type: 'block.claimed', jobId: job.id, block, epoch: 1 })
    world.write(1, { type: 'block.finished', jobId: job.id, block, epoch: 1, wallMs: 2000, frameMs: [1000, 1000] })
  }
  world.write(0, { type: 'job.deleted', jobId: job.id })
  return { world, jobId: job.id }
}

/** The block records LevelDB holds, read from the closed store's folder. */
async function blockRecordsOnDisk (location: string): Promise<string[]> {
  const db = new Level<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  try {
    return await db.sublevel<string, Uint8Array>('blocks', { keyEncoding: 'utf8', valueEncoding: 'view' }).keys().all()
  } finally {
    await db.close()
  }
}

async function openStore (location: string): Promise<EventStore> {
  return EventStore.open(location, nth(signers, 2))
}

test('the delete removes the job\'s block records from the disk; the store reopens to the replayed state', async (t) => {
  const location = path.join(await tempDir(t), 'store')
  const { world, jobId } = renderedThenDeleted()
  const store = await openStore(location)
  // Everything but the delete, one event at a time: each block's record is written.
  for (const verified of world.events.slice(0, -1)) await store.ingest(encodeEvent(verified.event))
  t.is(Object.keys(store.records().jobs[jobId]?.blocks ?? {}).length, BLOCKS)
  await store.ingest(encodeEvent(nth(world.events, -1).event))
  t.deepEqual(store.records().jobs[jobId]?.blocks, {})
  const hash = store.stateHash()
  t.is(hash, stateHash(reduce(world.events)))
  await store.close()

  t.deepEqual(await blockRecordsOnDisk(location), [])
  const reopened = await openStore(location)
  t.teardown(async () => reopened.close())
  t.is(reopened.stateHash(), hash)
  t.truthy(reopened.records().jobs[jobId]?.tombstone)
})

test('block facts that arrive with or after the delete are never written: one batch, any order', async (t) => {
  const location = path.join(await tempDir(t), 'store')
  const { world, jobId } = renderedThenDeleted()
  const store = await openStore(location)
  // The submitter's feed first (submission, delete), then the renderer's in one batch.
  const byAuthor = (author: string): Uint8Array[] => world.events.filter(({ event }) => event.author === author).map(({ event }) => encodeEvent(event))
  await store.ingestBatch(byAuthor(world.author(0)))
  t.truthy(store.records().jobs[jobId]?.tombstone)
  const outcomes = await store.ingestBatch(byAuthor(world.author(1)))
  t.true(outcomes.every((outcome) => outcome.kind === 'appended'), 'the events are in the log all the same')
  t.deepEqual(store.records().jobs[jobId]?.blocks, {})
  const hash = store.stateHash()
  t.is(hash, stateHash(reduce(world.events)))
  await store.close()
  t.deepEqual(await blockRecordsOnDisk(location), [])

  // The reverse: every block fact and the delete that compacts them in a single batch.
  const other = path.join(path.dirname(location), 'other')
  const second = await openStore(other)
  await second.ingestBatch([...byAuthor(world.author(1)), ...byAuthor(world.author(0))])
  t.is(second.stateHash(), hash)
  await second.close()
  t.deepEqual(await blockRecordsOnDisk(other), [])
})
