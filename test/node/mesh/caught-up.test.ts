/**
 * Catching up before acting, between in-process meshes on loopback (mDNS, real LevelDB):
 * a node that may start alone goes on after the discovery window; a recovering node with
 * an empty store waits for a peer however long, then holds its whole own feed and writes
 * on after it; and a peer's copy of our feed that differs from ours stops the node
 * instead of letting it fork the feed further.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import test from 'ava'
import { silentLogger } from '../../../src/node/log.js'
import { CatchUp, DISCOVERY_WINDOW_MS, type PeerWait } from '../../../src/node/mesh/catch-up.js'
import { OwnFeedNotRecoveredError } from '../../../src/node/mesh/errors.js'
import { Mesh } from '../../../src/node/mesh/mesh.js'
import { generateSwarmKey } from '../../../src/node/mesh/swarm-key.js'
import { EventStore } from '../../../src/node/store/event-store.js'
import { signerFromKey } from '../../../src/protocol/signing.js'
import { waitUntil } from '../../helpers/peer-process.js'

interface Peer {
  readonly store: EventStore
  readonly mesh: Mesh
}

interface Farm {
  readonly dir: string
  readonly swarmKey: Uint8Array
  readonly serviceTag: string
  readonly peers: Peer[]
}

async function farmFor (t: { teardown: (fn: () => Promise<void>) => void }): Promise<Farm> {
  const farm: Farm = {
    dir: await mkdtemp(join(tmpdir(), 'cr-caught-up-')),
    swarmKey: generateSwarmKey(),
    serviceTag: `_cr-${randomBytes(4).toString('hex')}._udp.local`,
    peers: []
  }
  t.teardown(async () => {
    for (const { mesh, store } of farm.peers) {
      await mesh.stop()
      await store.close()
    }
    await rm(farm.dir, { recursive: true, force: true })
  })
  return farm
}

/** A store and a (not yet started) mesh for `key` in `name`. */
async function peer (farm: Farm, name: string, key: PrivateKey): Promise<Peer> {
  const store = await EventStore.open(join(farm.dir, name), signerFromKey(key))
  const mesh = new Mesh({
    privateKey: key,
    swarmKey: farm.swarmKey,
    log: store,
    logger: silentLogger(),
    config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { serviceTag: farm.serviceTag, queryIntervalMs: 300 } }
  })
  const made = { store, mesh }
  farm.peers.push(made)
  return made
}

async function write (store: EventStore, count: number, what: string): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.append({ type: 'log.recorded', clientName: what, jobId: null, block: null, description: `${what} ${index}`, outputTail: [] }, Date.now())
  }
}

/** `key`'s feed, written elsewhere, as a peer holding it would: the peer's copy of our feed. */
async function holdingFeedOf (farm: Farm, key: PrivateKey, count: number, what: string): Promise<Peer> {
  const writer = await EventStore.open(join(farm.dir, `writer-${what}`), signerFromKey(key))
  await write(writer, count, what)
  const holder = await peer(farm, `holder-${what}`, await generateKeyPair('Ed25519'))
  await holder.store.ingestBatch(await writer.readFeed(writer.author, 1, count))
  await writer.close()
  return holder
}

function catchUpOf (subject: Peer, waitForPeer: PeerWait): CatchUp {
  return new CatchUp({ mesh: subject.mesh, log: subject.store, self: subject.store.author, waitForPeer, logger: silentLogger() })
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

test('a node that may start alone goes on after the discovery window when nobody is there', async (t) => {
  const farm = await farmFor(t)
  const alone = await peer(farm, 'alone', await generateKeyPair('Ed25519'))
  const catchUp = catchUpOf(alone, 'within-window')
  const started = Date.now()
  await alone.mesh.start()
  const caughtUp = await catchUp.done()
  t.deepEqual(caughtUp.peers, [])
  t.is(caughtUp.events, 0)
  t.true(Date.now() - started >= DISCOVERY_WINDOW_MS)
})

test('a recovering node waits for a peer however long, then holds its whole own feed and writes on after it', async (t) => {
  const farm = await farmFor(t)
  const key = await generateKeyPair('Ed25519')
  const holder = await holdingFeedOf(farm, key, 25, 'before')
  const recovering = await peer(farm, 'recovering', key)
  const catchUp = catchUpOf(recovering, 'however-long')
  let finished = false
  const done = catchUp.done().finally(() => { finished = true })
  await recovering.mesh.start()
  await sleep(2 * DISCOVERY_WINDOW_MS)
  t.false(finished, 'a recovering node does not go on alone')

  await holder.mesh.start()
  const caughtUp = await done
  t.deepEqual(caughtUp.peers, [holder.mesh.peerId])
  t.is(caughtUp.ownFeed, 25)
  t.is(caughtUp.events, 25)
  t.is(recovering.store.versionVector()[recovering.store.author], 25)

  // Its next event continues the chain: the holder takes it in as #26.
  const { event } = await recovering.store.append({ type: 'log.recorded', clientName: 'recovering', jobId: null, block: null, description: 'after', outputTail: [] }, Date.now())
  t.is(event.event.seq, 26)
  await waitUntil(async () => Promise.resolve((holder.store.versionVector()[recovering.store.author] ?? 0) >= 26 ? true : undefined), 'the holder to take in #26')
  t.is(holder.store.stateHash(), recovering.store.stateHash())
})

test('a peer whose copy of our feed differs from ours stops the node rather than let it fork the feed further', async (t) => {
  const farm = await farmFor(t)
  const key = await generateKeyPair('Ed25519')
  const holder = await holdingFeedOf(farm, key, 5, 'theirs')
  const forked = await peer(farm, 'forked', key)
  await write(forked.store, 2, 'ours')
  const catchUp = catchUpOf(forked, 'within-window')
  await Promise.all([holder.mesh.start(), forked.mesh.start()])
  const error = await t.throwsAsync(catchUp.done(), { instanceOf: OwnFeedNotRecoveredError })
  t.is(error.held, 2)
  t.is(error.atPeer, 5)
  t.is(error.peer, holder.mesh.peerId)
})
