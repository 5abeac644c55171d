/**
 * The export's fast read of a store: events decoded once, without the schema check, with
 * their ids hashed from the stored bytes. It must give exactly what the full check gives,
 * and still refuse bytes that are not what the store wrote.
 */
import path from 'node:path'
import test from 'ava'
import { CorruptStoreError } from '../../src/node/store/errors.js'
import { EventStore } from '../../src/node/store/event-store.js'
import { toHex } from '../../src/protocol/encoding.js'
import type { VerifiedEvent } from '../../src/protocol/events.js'
import { verifiedFromStore } from '../../src/report/event-id.js'
import { ARTIST, damageFirstEvent, NODE_A, reportFarm, storeOf, tempDir } from './rows-farm.js'

/** What two reads of one event must agree on, as plain values. */
function essence ({ event, id, hash, link, authenticated }: VerifiedEvent): unknown {
  return { id, hash: toHex(hash), link: toHex(link), body: event.body, author: event.author, seq: event.seq, lamport: event.lamport, wallTime: event.wallTime, sig: toHex(event.sig), prev: event.prev === null ? null : toHex(event.prev), authenticated }
}

test('reading the stored feeds gives the events, ids and links that verifying each signature gives', async (t) => {
  const dir = await tempDir(t)
  const store = await storeOf(await reportFarm(), path.join(dir, 'store'))
  t.teardown(async () => { await store.close() })
  const verified = new Map<string, unknown>()
  for await (const event of store.allEvents()) verified.set(event.id, { ...essence(event) as object, authenticated: 'chain' })
  let read = 0
  for (const [author, head] of Object.entries(store.versionVector())) {
    // Slices of two: each one vouched for by the event after it, the last by the head.
    for (let from = 1; from <= head; from += 2) {
      for (const stored of await store.readStoredFeed(author, from, 2)) {
        const event = verifiedFromStore(stored)
        t.deepEqual(essence(event), verified.get(event.id))
        read++
      }
    }
  }
  t.is(read, verified.size)
  t.deepEqual(await store.readStoredFeed(Object.keys(store.versionVector())[0] ?? '', 1_000, 5), [])
})

test('a stored event whose bytes changed on disk is refused, naming it, and the store is marked damaged', async (t) => {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const location = path.join(dir, 'store')
  const author = farm.world.author(NODE_A)
  await (await storeOf(farm, location)).close()
  await damageFirstEvent(farm, location, NODE_A)
  const store = await EventStore.open(location, farm.exporter, { authority: { founder: farm.world.author(ARTIST) } })
  t.teardown(async () => { await store.close() })
  const error = await t.throwsAsync(store.readStoredFeed(author, 1, 10), { instanceOf: CorruptStoreError })
  t.regex(error.part, new RegExp(`events/${author}!0+1$`))
  await store.close()
  await t.throwsAsync(EventStore.open(location, farm.exporter, { authority: { founder: farm.world.author(ARTIST) } }), { instanceOf: CorruptStoreError })
})
