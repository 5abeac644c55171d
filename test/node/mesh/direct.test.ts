/**
 * Direct messages between two in-process meshes on loopback: hail and its answer arrive
 * intact and name their sender; a garbled message is an offence by its sender; a message
 * to a peer that is gone fails with a clear error instead of hanging.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import test from 'ava'
import { silentLogger } from '../../../src/node/log.js'
import { resolveMeshConfig } from '../../../src/node/mesh/config.js'
import { createPeerHost } from '../../../src/node/mesh/host.js'
import type { ReceivedDirect } from '../../../src/node/mesh/direct.js'
import { DirectSendError } from '../../../src/node/mesh/errors.js'
import { Mesh } from '../../../src/node/mesh/mesh.js'
import type { Offence } from '../../../src/node/mesh/offences.js'
import { DIRECT_PROTOCOL } from '../../../src/node/mesh/protocols.js'
import { generateSwarmKey } from '../../../src/node/mesh/swarm-key.js'
import { EventStore } from '../../../src/node/store/event-store.js'
import { encodeCanonical } from '../../../src/protocol/encoding.js'
import { signerFromKey } from '../../../src/protocol/signing.js'

async function meshPair (t: { teardown: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'cr-direct-'))
  const swarmKey = generateSwarmKey()
  const make = async (name: string, bootstrapPeers: string[]) => {
    const privateKey = await generateKeyPair('Ed25519')
    const store = await EventStore.open(join(dir, name), signerFromKey(privateKey))
    const mesh = new Mesh({ privateKey, swarmKey, log: store, logger: silentLogger(), config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false }, bootstrapPeers } })
    const received: ReceivedDirect[] = []
    const offences: Offence[] = []
    mesh.on('direct', (message) => received.push(message))
    mesh.on('offence', (offence) => offences.push(offence))
    await mesh.start()
    return { mesh, store, received, offences }
  }
  const a = await make('a', [])
  const b = await make('b', a.mesh.addresses())
  t.teardown(async () => {
    await Promise.all([a.mesh.stop(), b.mesh.stop()])
    await Promise.all([a.store.close(), b.store.close()])
    await rm(dir, { recursive: true, force: true })
  })
  return { a, b, swarmKey }
}

async function until (condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20))
}

test('a hail and its answer arrive intact, naming who sent them', async (t) => {
  const { a, b } = await meshPair(t)
  const lease = { jobId: randomUUID(), block: 3, epoch: 2 }
  await b.mesh.sendDirect(a.mesh.peerId, { type: 'hail', nonce: 7, lease })
  await until(() => a.received.length === 1)
  t.deepEqual(a.received[0]?.message, { type: 'hail', nonce: 7, lease })
  t.is(a.received[0]?.from, b.mesh.peerId)
  await a.mesh.sendDirect(b.mesh.peerId, { type: 'hail-answer', nonce: 7, answer: { rendering: null, feedSeq: 12 } })
  await until(() => b.received.length === 1)
  t.deepEqual(b.received[0]?.message, { type: 'hail-answer', nonce: 7, answer: { rendering: null, feedSeq: 12 } })
})

test('a garbled direct message is dropped and counted against its sender', async (t) => {
  const { a, swarmKey } = await meshPair(t)
  // A peer with the swarm key that speaks the protocol by hand, as a broken or hostile one would.
  const rogue = await createPeerHost({ privateKey: await generateKeyPair('Ed25519'), swarmKey, config: resolveMeshConfig({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false } }) })
  await rogue.start()
  t.teardown(async () => rogue.stop())
  const stream = await rogue.dialProtocol(multiaddr(a.mesh.addresses()[0] ?? ''), DIRECT_PROTOCOL)
  await lpStream(stream).write(encodeCanonical({ type: 'boom' }))
  await until(() => a.offences.length === 1)
  t.like(a.offences[0], { peer: rogue.peerId.toString(), channel: 'direct', reason: 'malformed-direct' })
  t.is(a.received.length, 0)
})

test('a message to a peer that is gone fails clearly', async (t) => {
  const { a, b } = await meshPair(t)
  await a.mesh.stop()
  const error = await t.throwsAsync(b.mesh.sendDirect(a.mesh.peerId, { type: 'hail', nonce: 1, lease: { jobId: randomUUID(), block: 0, epoch: 1 } }), { instanceOf: DirectSendError })
  t.regex(error.message, /could not send hail to 12D3/)
})
