/**
 * Offence scoring: points by kind and channel, decay over time, a ban at the threshold
 * that expires, the replay allowance, the connection gater that enforces bans and holds
 * back new identities from a banned peer's address; and each channel's refusals of bad
 * input it used to let pass or blame on itself (direct claims, oversized frames, misdated
 * heartbeats), counted against the peer that sent them.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { MultiaddrConnection, PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import test, { type ExecutionContext } from 'ava'
import { silentLogger } from '../../../src/node/log.js'
import { resolveMeshConfig } from '../../../src/node/mesh/config.js'
import { DIRECT_MAX_BYTES, encodeDirect, type ReceivedDirect } from '../../../src/node/mesh/direct.js'
import { encodeEphemeral, type EphemeralMessage, type ReceivedEphemeral } from '../../../src/node/mesh/ephemeral.js'
import { createPeerHost, type PeerHost } from '../../../src/node/mesh/host.js'
import { Mesh, type MeshEvents } from '../../../src/node/mesh/mesh.js'
import {
  EXCESS_REPLAY_POINTS, FREE_REPLAYS_PER_APPENDED_EVENT, FREE_REPLAYS_PER_WINDOW, NEW_IDENTITY_INTERVAL_MS,
  OFFENCE_POINTS, PeerOffences, REPLAY_WINDOW_MS, type Offence, type OffenceChannel, type RefusalReason
} from '../../../src/node/mesh/offences.js'
import { DIRECT_PROTOCOL, EPHEMERAL_TOPIC, SYNC_PROTOCOL } from '../../../src/node/mesh/protocols.js'
import { generateSwarmKey } from '../../../src/node/mesh/swarm-key.js'
import { MAX_CONTROL_FRAME_BYTES } from '../../../src/node/mesh/wire.js'
import { AgentDriver } from '../../../src/node/runtime/agent-driver.js'
import { RendererSlot } from '../../../src/node/runtime/renderer-slot.js'
import { EventStore } from '../../../src/node/store/event-store.js'
import { decodeEvent, encodeEvent } from '../../../src/protocol/encoding.js'
import type { EventBody } from '../../../src/protocol/events.js'
import { signerFromKey } from '../../../src/protocol/signing.js'

const config = resolveMeshConfig({ offences: { banThreshold: 10, decayPerMinute: 2, banDurationMs: 10 * 60_000 } }).offences

function garbled (peer: string): Offence {
  return { peer, channel: 'gossip', reason: 'malformed', detail: 'not canonical CBOR' }
}

function replay (peer: string, channel: OffenceChannel = 'gossip'): Offence {
  return { peer, channel, reason: 'replayed', detail: 'replayed event: already held' }
}

test('input an honest peer can send costs nothing; hostile input costs on every channel', (t) => {
  for (const channel of ['gossip', 'sync', 'ephemeral', 'direct'] as const) {
    t.is(OFFENCE_POINTS[channel].forked, 0)
    t.is(OFFENCE_POINTS[channel].replayed, 0)
    t.is(OFFENCE_POINTS[channel].invalid, 0)
    t.is(OFFENCE_POINTS[channel]['misdated-ephemeral'], 0)
    for (const reason of ['malformed', 'oversized', 'forged', 'protocol', 'misattributed'] as const) t.true(OFFENCE_POINTS[channel][reason] > 0)
  }
})

test('points add up to a ban at the threshold, and only once', (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  t.deepEqual(offences.record(garbled('p')), { cost: 4, points: 4, banned: false })
  t.deepEqual(offences.record(garbled('p')), { cost: 4, points: 8, banned: false })
  t.false(offences.isBanned('p'))
  t.deepEqual(offences.record(garbled('p')), { cost: 4, points: 12, banned: true })
  t.true(offences.isBanned('p'))
  now += 1_000
  t.false(offences.record(garbled('p')).banned, 'a banned peer is not banned again')
  t.false(offences.isBanned('q'), 'other peers are unaffected')
})

test('points decay with time, so an occasional slip is forgiven', (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  offences.record(garbled('p'))
  offences.record(garbled('p'))
  now += 3 * 60_000
  t.deepEqual(offences.record(garbled('p')), { cost: 4, points: 6, banned: false })
  now += 10 * 60_000
  t.deepEqual(offences.record(garbled('p')), { cost: 4, points: 4, banned: false })
})

test('a ban expires and starts the peer afresh', (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  for (let index = 0; index < 3; index++) offences.record(garbled('p'))
  t.true(offences.isBanned('p'))
  now += config.banDurationMs
  t.false(offences.isBanned('p'))
  t.deepEqual(offences.record(garbled('p')), { cost: 4, points: 4, banned: false })
})

test('the gater refuses a banned peer both ways and says so', async (t) => {
  const offences = new PeerOffences(config, () => 0)
  const refused: Array<[string, RefusalReason]> = []
  const gater = offences.gater((peer, why) => refused.push([peer, why]))
  const peerId = await newPeerId()
  t.false(await gater.denyDialPeer?.(peerId))
  t.false(await gater.denyInboundEncryptedConnection?.(peerId, from('192.0.2.7')))
  t.deepEqual(refused, [])
  for (let index = 0; index < 3; index++) offences.record(garbled(peerId.toString()))
  t.true(await gater.denyDialPeer?.(peerId))
  t.true(await gater.denyInboundEncryptedConnection?.(peerId, from('192.0.2.7')))
  t.true(await gater.denyOutboundEncryptedConnection?.(peerId, from('192.0.2.7')))
  t.deepEqual(refused, [[peerId.toString(), 'banned'], [peerId.toString(), 'banned'], [peerId.toString(), 'banned']])
})

test('a burst of replays such as honest traffic makes is free on every channel', (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  // The farm wrote 40 events in the previous window and 60 in this one.
  for (let index = 0; index < 40; index++) offences.noteAppended()
  now += REPLAY_WINDOW_MS
  for (let index = 0; index < 60; index++) offences.noteAppended()
  const allowance = FREE_REPLAYS_PER_WINDOW + FREE_REPLAYS_PER_APPENDED_EVENT * 100
  const channels = ['gossip', 'sync', 'direct'] as const
  for (let index = 0; index < allowance; index++) {
    const verdict = offences.record(replay('p', channels[index % channels.length]))
    if (verdict.cost !== 0) return t.fail(`replay ${index + 1} of ${allowance} cost ${verdict.cost}`)
  }
  t.deepEqual(offences.record(replay('q')), { cost: 0, points: 0, banned: false }, 'each peer has its own allowance')
  t.deepEqual(offences.record(replay('p')), { cost: EXCESS_REPLAY_POINTS, points: EXCESS_REPLAY_POINTS, banned: false }, 'one more is over it')
  // A new window with nothing new appended: the allowance is back to the base, and free again.
  now += 2 * REPLAY_WINDOW_MS
  for (let index = 0; index < FREE_REPLAYS_PER_WINDOW; index++) t.is(offences.record(replay('p')).cost, 0)
  t.is(offences.record(replay('p')).cost, EXCESS_REPLAY_POINTS)
  t.false(offences.isBanned('p'))
})

test('a flood of replays beyond what the farm wrote gets the peer banned', (t) => {
  const offences = new PeerOffences(config, () => 0)
  for (let index = 0; index < 10; index++) offences.noteAppended()
  const allowance = FREE_REPLAYS_PER_WINDOW + FREE_REPLAYS_PER_APPENDED_EVENT * 10
  let replays = 0
  while (!offences.isBanned('p')) {
    offences.record(replay('p'))
    replays++
    if (replays > 10_000) return t.fail('never banned')
  }
  t.is(replays, allowance + config.banThreshold / EXCESS_REPLAY_POINTS)
})

test('a sustained trickle of replays over the allowance adds up across windows to a ban', (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  // 5 over the allowance each minute against a decay of 2 a minute: 5, then 8, then 11 points, a ban in the third minute.
  let minutes = 0
  while (!offences.isBanned('p') && minutes < 10) {
    for (let index = 0; index < FREE_REPLAYS_PER_WINDOW + 5; index++) {
      now += 1
      offences.record(replay('p', 'sync'))
    }
    minutes++
    now = minutes * REPLAY_WINDOW_MS
  }
  t.true(offences.isBanned('p'))
  t.is(minutes, 3)
})

test('after a ban, new identities from its address get in one per interval; known peers are never held back', async (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  const refused: Array<[string, RefusalReason]> = []
  const gater = offences.gater((peer, why) => refused.push([peer, why]))
  const inbound = async (peer: PeerId, ip = '127.0.0.1'): Promise<boolean | undefined> => gater.denyInboundEncryptedConnection?.(peer, from(ip))
  const outbound = async (peer: PeerId, ip = '127.0.0.1'): Promise<boolean | undefined> => gater.denyOutboundEncryptedConnection?.(peer, from(ip))
  const [honest, otherHonest, rogue, fresh, fresher, freshest, elsewhere] = await Promise.all(Array.from({ length: 7 }, newPeerId))
  if (honest === undefined || otherHonest === undefined || rogue === undefined || fresh === undefined || fresher === undefined || freshest === undefined || elsewhere === undefined) throw new Error('no peer ids')

  // Everyone shares 127.0.0.1, as on a test machine.
  t.false(await inbound(honest))
  t.false(await outbound(otherHonest))
  t.false(await inbound(rogue))
  for (let index = 0; index < 3; index++) offences.record(garbled(rogue.toString()))
  t.true(offences.isBanned(rogue.toString()))

  now += 1_000
  t.false(await inbound(fresh), 'the first new identity since the ban gets in')
  t.true(await inbound(fresher), 'the next one within the interval does not')
  t.true(await outbound(fresher), 'nor when we dial it')
  t.false(await inbound(honest), 'peers admitted before the ban are let in')
  t.false(await inbound(otherHonest), 'in either direction')
  t.false(await outbound(honest))
  t.false(await inbound(fresh), 'a new identity let in is known from then on')
  t.false(await inbound(elsewhere, '192.0.2.9'), 'other addresses are unaffected')
  t.false(await outbound(honest, '::ffff:127.0.0.1'), 'IPv4 reached over IPv6 is the same address')
  t.true(await inbound(freshest, '::ffff:127.0.0.1'))
  t.deepEqual(refused, [
    [fresher.toString(), 'throttled'],
    [fresher.toString(), 'throttled'],
    [freshest.toString(), 'throttled']
  ])

  now += NEW_IDENTITY_INTERVAL_MS
  t.false(await inbound(fresher), 'one interval later the next new identity gets in')
  t.true(await inbound(freshest))

  // Once the ban is over, new identities from the address come and go freely.
  now = 1_000 + config.banDurationMs
  t.false(offences.isBanned(rogue.toString()))
  t.false(await inbound(freshest))
  t.false(await inbound(await newPeerId()))
})

test('a repeat offender extends its address ban; a ban on a peer we never admitted has no address to hold back', async (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  const gater = offences.gater(() => undefined)
  const [first, second, fresh, newer] = await Promise.all(Array.from({ length: 4 }, newPeerId))
  if (first === undefined || second === undefined || fresh === undefined || newer === undefined) throw new Error('no peer ids')
  for (let index = 0; index < 3; index++) offences.record(garbled('never-admitted'))
  t.false(await gater.denyInboundEncryptedConnection?.(first, from('192.0.2.1')))
  t.false(await gater.denyInboundEncryptedConnection?.(second, from('192.0.2.1')), 'no ban from this address yet')
  for (let index = 0; index < 3; index++) offences.record(garbled(first.toString()))
  now += config.banDurationMs / 2
  for (let index = 0; index < 3; index++) offences.record(garbled(second.toString()))
  // The first ban is over, the second is not: the address stays held back.
  now += config.banDurationMs / 2 + 1
  t.false(await gater.denyInboundEncryptedConnection?.(fresh, from('192.0.2.1')))
  t.true(await gater.denyInboundEncryptedConnection?.(newer, from('192.0.2.1')))
})

/** A direct claim reaches the driver, which hands it to the store: its refusals are the sender's offences. */
test('the node scores the sender of a direct claim the log refuses, and lets a replayed one pass free', async (t) => {
  const dir = await tempDir(t)
  const ourKey = await generateKeyPair('Ed25519')
  const senderKey = await generateKeyPair('Ed25519')
  const store = await EventStore.open(join(dir, 'ours'), signerFromKey(ourKey))
  const sender = await EventStore.open(join(dir, 'sender'), signerFromKey(senderKey))
  t.teardown(async () => { await Promise.all([store.close(), sender.close()]) })
  const mesh = new FakeMesh(new PeerOffences(config, Date.now))
  const driver = new AgentDriver({
    store,
    mesh,
    renderer: new RendererSlot({ scratchRoot: join(dir, 'scratch'), logger: silentLogger() }),
    name: 'test-node',
    renders: false,
    local: { executables: {}, software: [], blenderScripts: false, timeoutPerFrameS: undefined, timeoutGraceS: 30 },
    now: Date.now,
    localTime: () => ({ weekday: 'mon', minuteOfDay: 600 }),
    logger: silentLogger()
  })
  driver.start()
  t.teardown(async () => { await driver.stop({ finishFirst: false }) })
  const from = sender.author
  const claim = (await sender.append(claimBody(), Date.now())).bytes

  mesh.deliver({ from, receivedAtMs: Date.now(), message: { type: 'claim', event: claim } })
  await until(() => store.versionVector()[from] === 1)
  mesh.deliver({ from, receivedAtMs: Date.now(), message: { type: 'claim', event: claim } })
  await until(() => mesh.offences.length === 1)
  t.like(mesh.offences[0], { peer: from, channel: 'direct', reason: 'replayed', cost: 0 })

  const event = decodeEvent((await sender.append(claimBody(), Date.now())).bytes)
  mesh.deliver({ from, receivedAtMs: Date.now(), message: { type: 'claim', event: encodeEvent({ ...event, wallTime: event.wallTime + 1 }) } })
  await until(() => mesh.offences.length === 2)
  t.like(mesh.offences[1], { peer: from, channel: 'direct', reason: 'forged', cost: OFFENCE_POINTS.direct.forged })
  t.is(store.versionVector()[from], 1, 'the forged claim is not in the log')
})

test('a direct claim that is not the sender\'s own claim, or a frame over the limit, is refused and scored', async (t) => {
  const { mesh, offences, received } = await honestMesh(t)
  const { host: rogue, store: rogueStore } = await rogueHost(t, mesh)
  const honestAuthor = await EventStore.open(join(await tempDir(t), 'other'), signerFromKey(await generateKeyPair('Ed25519')))
  t.teardown(async () => honestAuthor.close())
  const send = async (bytes: Uint8Array): Promise<void> => {
    const stream = await rogue.dialProtocol(multiaddr(mesh.addresses()[0] ?? ''), DIRECT_PROTOCOL)
    await lpStream(stream, { maxDataLength: 2 * DIRECT_MAX_BYTES }).write(bytes).catch(() => undefined)
  }
  const rogueId = rogue.peerId.toString()
  const record: EventBody = { type: 'log.recorded', clientName: 'rogue', jobId: null, block: null, description: 'not a claim', outputTail: [] }

  await send(encodeDirect({ type: 'claim', event: (await rogueStore.append(record, Date.now())).bytes }))
  await until(() => offences.length === 1)
  t.like(offences[0], { peer: rogueId, channel: 'direct', reason: 'malformed-direct' })
  t.regex(offences[0]?.detail ?? '', /log\.recorded/)

  await send(encodeDirect({ type: 'claim', event: (await honestAuthor.append(claimBody(), Date.now())).bytes }))
  await until(() => offences.length === 2)
  t.like(offences[1], { peer: rogueId, channel: 'direct', reason: 'misattributed', cost: OFFENCE_POINTS.direct.misattributed })

  await send(new Uint8Array(DIRECT_MAX_BYTES + 1))
  await until(() => offences.length === 3)
  t.like(offences[2], { peer: rogueId, channel: 'direct', reason: 'oversized' })

  // The rogue's own claim is what a holder sends: it goes through.
  await send(encodeDirect({ type: 'claim', event: (await rogueStore.append(claimBody(), Date.now())).bytes }))
  await until(() => received.length === 1)
  t.is(received[0]?.from, rogueId)
  t.is(offences.length, 3)
})

test('a sync frame over the limit is the sender\'s offence, not a failure of ours', async (t) => {
  const { mesh, offences } = await honestMesh(t)
  const { host: rogue } = await rogueHost(t, mesh)
  const stream = await rogue.dialProtocol(multiaddr(mesh.addresses()[0] ?? ''), SYNC_PROTOCOL)
  await lpStream(stream, { maxDataLength: 2 * MAX_CONTROL_FRAME_BYTES }).write(new Uint8Array(MAX_CONTROL_FRAME_BYTES + 1)).catch(() => undefined)
  await until(() => offences.length === 1)
  t.like(offences[0], { peer: rogue.peerId.toString(), channel: 'sync', reason: 'oversized', cost: OFFENCE_POINTS.sync.oversized })
})

test('heartbeats from a clock off by minutes still count, with its skew; a replay of an older one is dropped at no cost', async (t) => {
  const { mesh, offences, heard } = await honestMesh(t)
  const { host: rogue } = await rogueHost(t, mesh)
  rogue.services.pubsub.subscribe(EPHEMERAL_TOPIC)
  await until(() => rogue.services.pubsub.getSubscribers(EPHEMERAL_TOPIC).some((peer) => peer.toString() === mesh.peerId))
  const beat = (sentAtMs: number): EphemeralMessage => ({ type: 'heartbeat', status: 'STANDBY', lease: null, progressPct: null, idle: true, mayRender: true, feedSeq: 0, sentAtMs })
  const fiveMinutesBehind = Date.now() - 5 * 60_000
  await rogue.services.pubsub.publish(EPHEMERAL_TOPIC, encodeEphemeral(beat(fiveMinutesBehind)))
  await until(() => heard.length === 1)
  t.true((heard[0]?.clockOffsetMs ?? 0) >= 5 * 60_000, 'the skew is reported with the heartbeat')
  // Its next beat, and then one dated before it: the old one is a replay.
  await rogue.services.pubsub.publish(EPHEMERAL_TOPIC, encodeEphemeral(beat(fiveMinutesBehind + 500)))
  await until(() => heard.length === 2)
  await rogue.services.pubsub.publish(EPHEMERAL_TOPIC, encodeEphemeral(beat(fiveMinutesBehind + 250)))
  await until(() => offences.length === 1)
  t.like(offences[0], { peer: rogue.peerId.toString(), channel: 'ephemeral', reason: 'misdated-ephemeral', cost: 0 })
  t.regex(offences[0]?.detail ?? '', /before its latest/)
  t.is(heard.length, 2)
})

/** The part of the mesh the driver uses, scoring offences as the mesh does. */
class FakeMesh {
  readonly offences: Array<MeshEvents['offence']> = []
  private readonly direct = new Set<(received: ReceivedDirect) => void>()

  constructor (private readonly scores: PeerOffences) {}

  on<K extends keyof MeshEvents> (event: K, listener: (detail: MeshEvents[K]) => void): () => void {
    if (event !== 'direct') return () => undefined
    const direct = listener as (received: ReceivedDirect) => void
    this.direct.add(direct)
    return () => { this.direct.delete(direct) }
  }

  deliver (received: ReceivedDirect): void {
    for (const listener of this.direct) listener(received)
  }

  async publishEphemeral (): Promise<number> {
    return await Promise.resolve(0)
  }

  async sendDirect (): Promise<void> {
    await Promise.resolve()
  }

  requestPull (): void {}

  setWorkInFlight (): void {}

  reportOffence (offence: Offence): void {
    this.offences.push({ ...offence, ...this.scores.record(offence) })
  }
}

function claimBody (): EventBody {
  return { type: 'block.claimed', jobId: randomUUID(), block: 0, epoch: 1 }
}

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** The connection part the gater reads: where the far end is. */
function from (ip: string): MultiaddrConnection {
  const family = ip.includes(':') ? 'ip6' : 'ip4'
  return { remoteAddr: multiaddr(`/${family}/${ip}/tcp/40001`) } as unknown as MultiaddrConnection
}

async function tempDir (t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cr-offences-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  return dir
}

async function until (condition: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 20_000
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error('condition not met in 20 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const swarmKey = generateSwarmKey()

/** One honest mesh on loopback, with what it reported. */
async function honestMesh (t: ExecutionContext) {
  const dir = await tempDir(t)
  const privateKey = await generateKeyPair('Ed25519')
  const store = await EventStore.open(join(dir, 'honest'), signerFromKey(privateKey))
  // A threshold high enough to see every refusal of a test before a ban cuts the rogue off.
  const mesh = new Mesh({ privateKey, swarmKey, log: store, logger: silentLogger(), config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false }, offences: { banThreshold: 100 } } })
  const offences: Array<MeshEvents['offence']> = []
  const received: ReceivedDirect[] = []
  const heard: ReceivedEphemeral[] = []
  mesh.on('offence', (offence) => offences.push(offence))
  mesh.on('direct', (message) => received.push(message))
  mesh.on('ephemeral', (message) => heard.push(message))
  await mesh.start()
  t.teardown(async () => {
    await mesh.stop()
    await store.close()
  })
  return { mesh, offences, received, heard }
}

/** A peer with the swarm key that speaks the protocols by hand, as a broken or hostile one would, connected to `mesh`. */
async function rogueHost (t: ExecutionContext, mesh: Mesh): Promise<{ host: PeerHost, store: EventStore }> {
  const privateKey: PrivateKey = await generateKeyPair('Ed25519')
  const host = await createPeerHost({ privateKey, swarmKey, config: resolveMeshConfig({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { enabled: false } }) })
  const store = await EventStore.open(join(await tempDir(t), 'rogue'), signerFromKey(privateKey))
  await host.start()
  t.teardown(async () => {
    await host.stop()
    await store.close()
  })
  await host.dial(multiaddr(mesh.addresses()[0] ?? ''))
  return { host, store }
}
