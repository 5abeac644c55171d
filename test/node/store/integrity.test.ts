/**
 * A store that knows it is sound: every kind of damage a disk or an admin does is refused
 * at open (and every open after), naming what is damaged and the repair command; a clean
 * store opens on its checkpoint, verifying one event per feed; a crashed one re-verifies
 * only what was written since; what the store serves is chain-checked.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import test from 'ava'
import { Level } from 'level'
import { CorruptStoreError } from '../../../src/node/store/errors.js'
import { EventStore, storeDirOf } from '../../../src/node/store/event-store.js'
import { loadOrCreateIdentity } from '../../../src/node/identity.js'
import { signerFromKey } from '../../../src/protocol/signing.js'
import { DAMAGES, damageStore, nodeDirWithStore } from '../../helpers/damaged-store.js'
import { makeSigners } from '../../helpers/farm-events.js'
import { nth } from '../../helpers/nth.js'

const [local] = await makeSigners(1)
if (local === undefined) throw new Error('no signer')

async function tempDir (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-integrity-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  return dir
}

async function openNode (dir: string): Promise<EventStore> {
  return EventStore.open(storeDirOf(dir), signerFromKey(await loadOrCreateIdentity(dir)))
}

async function appendLines (store: EventStore, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.append({ type: 'log.recorded', clientName: 'render01', jobId: null, block: null, description: `line ${index}`, outputTail: [] }, 1000 + index)
  }
}

/** Damage LevelDB or the marks show at open; a flipped table block shows when it is read. */
for (const damage of DAMAGES.filter((kind) => kind !== 'table-flipped')) {
  test(`a store with ${damage} is refused at open, and at every open after, naming the damage and the repair command`, async (t) => {
    const { dir } = await nodeDirWithStore(t)
    await damageStore(dir, damage)
    for (const attempt of ['first', 'second']) {
      const opening = openNode(dir)
      const error = await t.throwsAsync(opening, { instanceOf: CorruptStoreError }, `${attempt} open`)
      t.true(error.message.includes(`cr store repair --data-dir ${dir}`), error.message)
    }
  })
}

test('a flipped table block is refused when read, and every open after refuses the store', async (t) => {
  const { dir } = await nodeDirWithStore(t)
  await damageStore(dir, 'table-flipped')
  const store = await openNode(dir)
  const error = await t.throwsAsync(async () => {
    for await (const _ of store.allEvents()) { /* reading is the test */ }
  }, { instanceOf: CorruptStoreError })
  t.regex(error.message, /cr store repair --data-dir/)
  await store.close()
  await t.throwsAsync(openNode(dir), { instanceOf: CorruptStoreError })
})

test('the scrub finds a flipped table block that the open did not read, and every open after refuses the store', async (t) => {
  const { dir } = await nodeDirWithStore(t)
  const sound = await openNode(dir)
  t.is(await sound.scrub({ sliceEvents: 7 }), 260, 'a sound store scrubs every event, slice by slice')
  await sound.close()
  await damageStore(dir, 'table-flipped')
  const store = await openNode(dir)
  const error = await t.throwsAsync(store.scrub(), { instanceOf: CorruptStoreError })
  t.regex(error.message, /cr store repair --data-dir/)
  await store.close()
  await t.throwsAsync(openNode(dir), { instanceOf: CorruptStoreError })
})

test('a clean store opens on its checkpoint: one event verified per feed, and the crash image of a running store re-verifies only its tail', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local, { checkpointIntervalEvents: 100 })
  await appendLines(store, 250)
  // A copy of a running store's files is what a kill -9 leaves: no closing checkpoint.
  const crashed = path.join(await tempDir(t), 'crashed')
  await cp(dir, crashed, { recursive: true })
  await store.close()

  const clean = await EventStore.open(dir, local)
  t.is(clean.verifiedAtOpen, 1)
  t.is(clean.versionVector()[local.author], 250)
  await clean.close()

  const afterCrash = await EventStore.open(crashed, local)
  // The checkpoint at 200 is verified again (as the next one's prev), then 201-250.
  t.is(afterCrash.verifiedAtOpen, 51)
  t.is(afterCrash.versionVector()[local.author], 250)
  await afterCrash.close()
  const reopened = await EventStore.open(crashed, local)
  t.teardown(async () => reopened.close())
  t.is(reopened.verifiedAtOpen, 1, 'the open that verified the tail wrote a checkpoint')
})

test('a store written before the integrity marks is verified in full once, then opens on its checkpoint', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  await appendLines(store, 40)
  await store.close()
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  const marks = raw.sublevel<string, Uint8Array>('integrity', { valueEncoding: 'view' })
  await marks.batch([{ type: 'del', key: 'commit' }, { type: 'del', key: 'checkpoint' }, { type: 'del', key: 'recovery' }])
  await raw.close()
  const legacy = await EventStore.open(dir, local)
  t.is(legacy.verifiedAtOpen, 40)
  await legacy.close()
  const again = await EventStore.open(dir, local)
  t.teardown(async () => again.close())
  t.is(again.verifiedAtOpen, 1)
})

test('a write that went missing since the checkpoint is refused at open', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local, { checkpointIntervalEvents: 10 })
  await appendLines(store, 15)
  const crashed = path.join(await tempDir(t), 'crashed')
  await cp(dir, crashed, { recursive: true })
  await store.close()
  // What LevelDB's recovery does to a damaged log record: the batch is gone, later ones stay.
  const raw = new Level<string, Uint8Array>(crashed, { valueEncoding: 'view' })
  const events = raw.sublevel<string, Uint8Array>('events', { valueEncoding: 'view' })
  await events.del(nth(await events.keys().all(), 12))
  await raw.close()
  const error = await t.throwsAsync(EventStore.open(crashed, local), { instanceOf: CorruptStoreError })
  t.regex(error.message, /!0000000000000013: missing/)
})

test('heads that hold fewer events than the last write left are refused at open', async (t) => {
  const dir = await tempDir(t)
  const [other] = await makeSigners(1)
  if (other === undefined) throw new Error('no signer')
  const store = await EventStore.open(dir, local)
  await appendLines(store, 3)
  await store.close()
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  const events = raw.sublevel<string, Uint8Array>('events', { valueEncoding: 'view' })
  const heads = raw.sublevel<string, Uint8Array>('heads', { valueEncoding: 'view' })
  await events.batch((await events.keys().all()).map((key) => ({ type: 'del' as const, key })))
  await heads.del(local.author)
  await raw.close()
  const error = await t.throwsAsync(EventStore.open(dir, local), { instanceOf: CorruptStoreError })
  t.regex(error.message, /heads hold 0 events but the last write left 3/)
})

test('a damaged event below the checkpoint is never served: readFeed refuses it, and the next open refuses the store', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  await appendLines(store, 5)
  await store.close()
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  const events = raw.sublevel<string, Uint8Array>('events', { valueEncoding: 'view' })
  const key = nth(await events.keys().all(), 1)
  const bytes = Uint8Array.from(await events.get(key) ?? [])
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x01
  await events.put(key, bytes)
  await raw.close()

  const reopened = await EventStore.open(dir, local)
  t.deepEqual((await reopened.readFeed(local.author, 3, 10)).length, 3, 'what follows the damage still serves')
  await t.throwsAsync(reopened.readFeed(local.author, 1, 10), { instanceOf: CorruptStoreError, message: /!0000000000000002: / })
  await reopened.close()
  await t.throwsAsync(EventStore.open(dir, local), { instanceOf: CorruptStoreError, message: /!0000000000000002/ })
})

test('a new store says created until the node marks it recovered; a repaired one says repaired', async (t) => {
  const dir = await tempDir(t)
  const store = await EventStore.open(dir, local)
  t.is(store.recovery, 'created')
  await store.close()
  const again = await EventStore.open(dir, local)
  t.is(again.recovery, 'created', 'a node stopped before it recovered still knows at its next start')
  await again.markRecovered()
  t.is(again.recovery, 'none')
  await again.markRepaired()
  await again.close()
  const repaired = await EventStore.open(dir, local)
  t.is(repaired.recovery, 'repaired')
  await repaired.markRecovered()
  await repaired.close()
  const recovered = await EventStore.open(dir, local)
  t.teardown(async () => recovered.close())
  t.is(recovered.recovery, 'none')
})
