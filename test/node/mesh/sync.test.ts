/**
 * The pull protocol between two in-process hosts on loopback, with tiny limits so that one
 * catch-up spans many batches and several sessions: the puller gets exactly the missing
 * events of every author, never more per batch than it allowed, a session stops at its
 * event limit and says there is more, and a server that learns it is behind says so.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import test from 'ava'
import { silentLogger } from '../../../src/node/log.js'
import { resolveMeshConfig } from '../../../src/node/mesh/config.js'
import { createPeerHost, type PeerHost } from '../../../src/node/mesh/host.js'
import type { Offence } from '../../../src/node/mesh/offences.js'
import { generateSwarmKey } from '../../../src/node/mesh/swarm-key.js'
import { SyncService, type SyncLog } from '../../../src/node/mesh/sync.js'
import { EventStore } from '../../../src/node/store/event-store.js'
import { signerFromKey } from '../../../src/protocol/signing.js'

const config = resolveMeshConfig({
  listen: ['/ip4/127.0.0.1/tcp/0'],
  mdns: { enabled: false },
  sync: { batchMaxEvents: 7, windowBatches: 2, maxEventsPerSession: 50 }
})

interface Side {
  readonly host: PeerHost
  readonly store: EventStore
  readonly sync: SyncService
  readonly batches: number[]
  readonly behind: PeerId[]
  readonly offences: Offence[]
}

async function side (dir: string, name: string, swarmKey: Uint8Array): Promise<Side> {
  const privateKey = await generateKeyPair('Ed25519')
  const store = await EventStore.open(join(dir, name), signerFromKey(privateKey))
  const host = await createPeerHost({ privateKey, swarmKey, config })
  const batches: number[] = []
  // The store, with every batch the puller ingests counted.
  const log: SyncLog = {
    versionVector: () => store.versionVector(),
    readFeed: async (author, fromSeq, limit) => store.readFeed(author, fromSeq, limit),
    ingestBatch: async (list) => {
      batches.push(list.length)
      return store.ingestBatch(list)
    }
  }
  const behind: PeerId[] = []
  const offences: Offence[] = []
  const sync = new SyncService({
    host, log, config: config.sync, logger: silentLogger(), onOffence: (offence) => offences.push(offence), onBehind: (peer) => behind.push(peer)
  })
  await sync.start()
  await host.start()
  return { host, store, sync, batches, behind, offences }
}

async function append (store: EventStore, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.append({ type: 'log.recorded', clientName: 'sync-test', jobId: null, block: null, description: `event ${index}`, outputTail: [] }, 1_700_000_000_000 + index)
  }
}

test('a catch-up spans bounded batches and sessions, and ends exactly in step', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cr-sync-'))
  const swarmKey = generateSwarmKey()
  const [server, puller] = await Promise.all([side(dir, 'server', swarmKey), side(dir, 'puller', swarmKey)])
  t.teardown(async () => {
    for (const { sync, host, store } of [server, puller]) {
      await sync.stop()
      await host.stop()
      await store.close()
    }
    await rm(dir, { recursive: true, force: true })
  })
  // The server holds its own feed and another author's.
  const other = await EventStore.open(join(dir, 'other'), signerFromKey(await generateKeyPair('Ed25519')))
  await append(other, 40)
  await server.store.ingestBatch(await other.readFeed(other.author, 1, 40))
  await other.close()
  await append(server.store, 120)
  await puller.host.dial(server.host.getMultiaddrs())

  const sessions = []
  for (let more = true; more;) {
    const result = await puller.sync.pull(server.host.peerId)
    sessions.push(result.appended)
    more = result.more
  }
  t.deepEqual(sessions, [50, 50, 50, 10])
  t.true(puller.batches.every((size) => size <= 7), `batches of ${puller.batches.join(', ')}`)
  t.deepEqual(puller.store.versionVector(), server.store.versionVector())
  t.is(puller.store.stateHash(), server.store.stateHash())
  t.deepEqual(server.behind, [])
  t.deepEqual([...server.offences, ...puller.offences], [])

  // Now the puller holds something the server lacks: the server hears of it from the pull.
  await append(puller.store, 1)
  t.deepEqual(await puller.sync.pull(server.host.peerId), { appended: 0, more: false })
  t.deepEqual(server.behind.map(String), [puller.host.peerId.toString()])
})
