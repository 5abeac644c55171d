/**
 * A rogue peer holding the swarm key sends garbled, oversized, forged, replayed and
 * out-of-chain events on gossip, and garbage, forged and replayed events on the sync
 * protocol. Each honest peer drops each one for the right reason, naming the rogue; a
 * replay now and then costs nothing; the honest peers stay converged and keep serving;
 * and once the rogue floods them with replays, every honest peer disconnects it and
 * refuses it back. New identities from the rogue's address then get in one at a time,
 * while an honest peer the others knew before comes back at once.
 */
import test from 'ava'
import { NEW_IDENTITY_INTERVAL_MS } from '../../../src/node/mesh/offences.js'
import { eventCount } from '../../../src/protocol/version-vector.js'
import { converged, fullyConnected, MeshTestbed, stateOf } from '../../helpers/mesh-testbed.js'
import { waitUntil, type PeerNews, type PeerProcess } from '../../helpers/peer-process.js'

/** High enough that every kind of offence below is seen before the rogue is banned. */
const BAN_THRESHOLD = 60

let bed: MeshTestbed | undefined

test.after.always(async () => {
  await bed?.destroy()
})

test('a rogue peer is refused for each kind of bad input, then banned, while honest peers converge', async (t) => {
  t.timeout(180_000)
  bed = await MeshTestbed.create()
  const testbed = bed
  const startHonest = async (name: string): Promise<PeerProcess> => testbed.start(name, { args: ['--ban-threshold', String(BAN_THRESHOLD)] })
  const honest = await Promise.all(['a', 'b', 'c'].map(startHonest))
  const rogue = await bed.start('rogue', { program: 'rogue-peer.ts' })
  await Promise.all(honest.map(async (peer) => peer.request('write', { count: 5 })))
  let written = await converged(honest, 15)
  // The rogue's gossip reaches a peer only once it knows the peer subscribes.
  await waitUntil(async () => {
    const { count } = await rogue.request<{ count: number }>('subscribers')
    return count === honest.length ? true : undefined
  }, 'the honest peers to subscribe at the rogue', [rogue, ...honest])

  const [a] = honest
  if (a === undefined) throw new Error('no honest peer')
  const { events: [honestEvent] } = await a.request<{ events: string[] }>('feed', { author: a.id, fromSeq: 1, limit: 1 })

  // Under load a peer may drop a connection for a moment (keep-alive) and rejoin: gossip
  // only once every honest peer is there to hear it.
  const gossip = async (args: Record<string, unknown>): Promise<void> => {
    await waitUntil(async () => {
      const { count } = await rogue.request<{ count: number }>('subscribers')
      return count === honest.length ? true : undefined
    }, 'the honest peers to be subscribed at the rogue', [rogue, ...honest])
    await rogue.request('gossip', args)
  }

  const refusedByAll = async (channel: string, reason: string): Promise<PeerNews[]> => {
    const refusals: PeerNews[] = []
    for (const peer of honest) {
      const news = await peer.nextEvent(offence(rogue, channel, reason), `${peer.label} to refuse ${reason} input on ${channel}`)
      t.regex(String(news.detail), /\w/, `${reason} is explained`)
      refusals.push(news)
    }
    return refusals
  }

  for (const [kind, reason] of [['garbled', 'malformed'], ['oversized', 'oversized'], ['forged', 'forged']] as const) {
    await gossip({ kind, event: honestEvent })
    for (const news of await refusedByAll('gossip', reason)) t.true(Number(news.cost) > 0, `${reason} costs points`)
  }
  // A replay now and then is what honest peers send too (pull and gossip race).
  await gossip({ kind: 'replayed', event: honestEvent })
  for (const news of await refusedByAll('gossip', 'replayed')) t.is(news.cost, 0, 'a replay within the allowance is free')

  // A valid event of the rogue's own is taken like any other; the next one, off its chain, is not.
  await gossip({ kind: 'valid' })
  written = await converged(honest, eventCount(written.vv) + 1)
  t.is(written.vv[rogue.id], 1)
  await gossip({ kind: 'out-of-chain' })
  await refusedByAll('gossip', 'broken-chain')

  for (const peer of honest) await rogue.request('sync-garbage', { peer: peer.id })
  await refusedByAll('sync', 'protocol')

  await rogue.request('serve', { mode: 'forged', event: honestEvent })
  for (const peer of honest) await rogue.request('provoke-pull', { peer: peer.id })
  await refusedByAll('sync', 'forged')
  await rogue.request('serve', { mode: 'replayed', event: honestEvent })
  for (const peer of honest) await rogue.request('provoke-pull', { peer: peer.id })
  for (const news of await refusedByAll('sync', 'replayed')) t.is(news.cost, 0, 'a pull that raced gossip is free')
  await rogue.request('serve', { mode: 'empty' })

  // None of it reached the log: the honest peers still agree, and keep taking honest writes.
  await Promise.all(honest.map(async (peer) => peer.request('write', { count: 5 })))
  written = await converged(honest, eventCount(written.vv) + 15)
  t.is(written.vv[rogue.id], 1)

  // A flood of replays, far beyond what the farm wrote, gets the rogue disconnected and refused.
  await waitUntil(async () => {
    if (honest.every((peer) => peer.news.some(banned(rogue)))) return true
    await rogue.request('gossip', { kind: 'replayed', event: honestEvent, count: 50 })
    return undefined
  }, 'every honest peer to ban the rogue', [rogue, ...honest])
  for (const peer of honest) {
    t.like(peer.news.find(banned(rogue)), { channel: 'gossip', reason: 'replayed', cost: 1 }, `${peer.label} banned the rogue for its replays`)
    await peer.nextEvent((news) => news.event === 'disconnected' && news.peer === rogue.id, `${peer.label} to drop the rogue`)
    // mDNS keeps telling the rogue where the honest peers are; its connections are refused.
    await peer.nextEvent((news) => news.event === 'refused' && news.peer === rogue.id, `${peer.label} to refuse the rogue`)
    t.false((await stateOf(peer)).connected.includes(rogue.id), `${peer.label} no longer connected to the rogue`)
  }

  await Promise.all(honest.map(async (peer) => peer.request('write', { count: 5 })))
  written = await converged(honest, eventCount(written.vv) + 15)

  // The rogue comes back under a new identity from the same address: one gets in...
  const second = await testbed.start('rogue-2', { program: 'rogue-peer.ts' })
  for (const peer of honest) await peer.nextEvent(connected(second), `${peer.label} to let the first new identity in`)
  const admittedAtMs = Date.now()
  // ...the next one, within the interval, does not.
  const third = await testbed.start('rogue-3', { program: 'rogue-peer.ts' })
  for (const peer of honest) await peer.nextEvent((news) => news.event === 'refused' && news.peer === third.id, `${peer.label} to hold back the second new identity`)

  // An honest peer the others knew before the ban, on the same address, is let straight back in.
  const [restarting, ...staying] = honest
  if (restarting === undefined) throw new Error('no honest peer')
  await restarting.stop()
  const back = await startHonest(restarting.label)
  honest.splice(0, 1, back)
  await fullyConnected(honest)
  t.true(Date.now() - admittedAtMs < NEW_IDENTITY_INTERVAL_MS, 'it came back while new identities were still held back')
  for (const peer of staying) t.false((await stateOf(peer)).connected.includes(third.id), `${peer.label} still holds back the second new identity`)

  await Promise.all(honest.map(async (peer) => peer.request('write', { count: 5 })))
  await converged(honest, eventCount(written.vv) + 15)
  await Promise.all([...honest, rogue, second, third].map(async (peer) => peer.stop()))
})

function offence (rogue: PeerProcess, channel: string, reason: string): (news: PeerNews) => boolean {
  return (news) => news.event === 'offence' && news.peer === rogue.id && news.channel === channel && news.reason === reason
}

function connected (peer: PeerProcess): (news: PeerNews) => boolean {
  return (news) => news.event === 'connected' && news.peer === peer.id
}

function banned (rogue: PeerProcess): (news: PeerNews) => boolean {
  return (news) => news.event === 'offence' && news.peer === rogue.id && news.banned === true
}
