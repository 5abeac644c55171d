/**
 * Offence scoring: points by kind and channel, decay over time, a ban at the threshold
 * that expires, and the connection gater that enforces it.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import test from 'ava'
import { resolveMeshConfig } from '../../../src/node/mesh/config.js'
import { OFFENCE_POINTS, PeerOffences, type Offence } from '../../../src/node/mesh/offences.js'

const config = resolveMeshConfig({ offences: { banThreshold: 10, decayPerMinute: 2, banDurationMs: 60_000 } }).offences

function garbled (peer: string): Offence {
  return { peer, channel: 'gossip', reason: 'malformed', detail: 'not canonical CBOR' }
}

test('input an honest peer can send costs nothing; hostile input costs on every channel', (t) => {
  for (const channel of ['gossip', 'sync', 'ephemeral'] as const) {
    t.is(OFFENCE_POINTS[channel].forked, 0)
    t.is(OFFENCE_POINTS[channel].replayed, 0)
    t.is(OFFENCE_POINTS[channel].invalid, 0)
    for (const reason of ['malformed', 'oversized', 'forged', 'protocol'] as const) t.true(OFFENCE_POINTS[channel][reason] > 0)
  }
})

test('points add up to a ban at the threshold, and only once', (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  t.deepEqual(offences.record(garbled('p')), { points: 4, banned: false })
  t.deepEqual(offences.record(garbled('p')), { points: 8, banned: false })
  t.false(offences.isBanned('p'))
  t.deepEqual(offences.record(garbled('p')), { points: 12, banned: true })
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
  t.deepEqual(offences.record(garbled('p')), { points: 6, banned: false })
  now += 10 * 60_000
  t.deepEqual(offences.record(garbled('p')), { points: 4, banned: false })
})

test('a ban expires and starts the peer afresh', (t) => {
  let now = 0
  const offences = new PeerOffences(config, () => now)
  for (let index = 0; index < 3; index++) offences.record(garbled('p'))
  t.true(offences.isBanned('p'))
  now += config.banDurationMs
  t.false(offences.isBanned('p'))
  t.deepEqual(offences.record(garbled('p')), { points: 4, banned: false })
})

test('the gater refuses a banned peer both ways and says so', async (t) => {
  const offences = new PeerOffences(config, () => 0)
  const refused: string[] = []
  const gater = offences.gater((peer) => refused.push(peer))
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  t.false(await gater.denyDialPeer?.(peerId))
  t.deepEqual(refused, [])
  for (let index = 0; index < 3; index++) offences.record(garbled(peerId.toString()))
  t.true(await gater.denyDialPeer?.(peerId))
  t.true(await gater.denyInboundEncryptedConnection?.(peerId, undefined as never))
  t.true(await gater.denyOutboundEncryptedConnection?.(peerId, undefined as never))
  t.deepEqual(refused, [peerId.toString(), peerId.toString(), peerId.toString()])
})
