/**
 * A rogue peer holding the swarm key sends garbled, oversized, forged, replayed and
 * out-of-chain events on gossip, and garbage and forged events on the sync protocol. Each
 * honest peer drops each one for the right reason, naming the rogue; the honest peers stay
 * converged and keep serving; and once the rogue's offences pass the threshold, every
 * honest peer disconnects it and refuses it back.
 */
import test from 'ava'
import { eventCount } from '../../../src/protocol/version-vector.js'
import { converged, MeshTestbed, stateOf } from '../../helpers/mesh-testbed.js'
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
  const honest = await Promise.all(['a', 'b', 'c'].map(async (name) =>
    testbed.start(name, { args: ['--ban-threshold', String(BAN_THRESHOLD)] })))
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

  const refusedByAll = async (channel: string, reason: string): Promise<void> => {
    for (const peer of honest) {
      const news = await peer.nextEvent(offence(rogue, channel, reason), `${peer.label} to refuse ${reason} input on ${channel}`)
      t.regex(String(news.detail), /\w/, `${reason} is explained`)
    }
    t.pass(`${reason} on ${channel} refused by every honest peer`)
  }

  for (const [kind, reason] of [['garbled', 'malformed'], ['oversized', 'oversized'], ['forged', 'forged'], ['replayed', 'replayed']] as const) {
    await rogue.request('gossip', { kind, event: honestEvent })
    await refusedByAll('gossip', reason)
  }

  // A valid event of the rogue's own is taken like any other; the next one, off its chain, is not.
  await rogue.request('gossip', { kind: 'valid' })
  written = await converged(honest, eventCount(written.vv) + 1)
  t.is(written.vv[rogue.id], 1)
  await rogue.request('gossip', { kind: 'out-of-chain' })
  await refusedByAll('gossip', 'broken-chain')

  for (const peer of honest) await rogue.request('sync-garbage', { peer: peer.id })
  await refusedByAll('sync', 'protocol')

  await rogue.request('serve', { mode: 'forged', event: honestEvent })
  for (const peer of honest) await rogue.request('provoke-pull', { peer: peer.id })
  await refusedByAll('sync', 'forged')
  await rogue.request('serve', { mode: 'empty' })

  // None of it reached the log: the honest peers still agree, and keep taking honest writes.
  await Promise.all(honest.map(async (peer) => peer.request('write', { count: 5 })))
  written = await converged(honest, eventCount(written.vv) + 15)
  t.is(written.vv[rogue.id], 1)

  // A repeat offender is disconnected and refused.
  await waitUntil(async () => {
    if (honest.every((peer) => peer.news.some(banned(rogue)))) return true
    await rogue.request('gossip', { kind: 'garbled' })
    return undefined
  }, 'every honest peer to ban the rogue', [rogue, ...honest])
  for (const peer of honest) {
    await peer.nextEvent((news) => news.event === 'disconnected' && news.peer === rogue.id, `${peer.label} to drop the rogue`)
    // mDNS keeps telling the rogue where the honest peers are; its connections are refused.
    await peer.nextEvent((news) => news.event === 'refused' && news.peer === rogue.id, `${peer.label} to refuse the rogue`)
    t.false((await stateOf(peer)).connected.includes(rogue.id), `${peer.label} no longer connected to the rogue`)
  }

  await Promise.all(honest.map(async (peer) => peer.request('write', { count: 5 })))
  await converged(honest, eventCount(written.vv) + 15)
  await Promise.all([...honest, rogue].map(async (peer) => peer.stop()))
})

function offence (rogue: PeerProcess, channel: string, reason: string): (news: PeerNews) => boolean {
  return (news) => news.event === 'offence' && news.peer === rogue.id && news.channel === channel && news.reason === reason
}

function banned (rogue: PeerProcess): (news: PeerNews) => boolean {
  return (news) => news.event === 'offence' && news.peer === rogue.id && news.banned === true
}
