/**
 * Three hosts in separate network namespaces on one bridged segment. Cutting one host's
 * link splits the farm; both sides notice, keep working and write events; when the link
 * comes back, mDNS brings the sides together again and pull makes them converge on every
 * event written on either side.
 */
import test from 'ava'
import { eventCount } from '../../../src/protocol/version-vector.js'
import { converged, fullyConnected, MeshTestbed, stateOf } from '../../helpers/mesh-testbed.js'
import { HostNetwork } from '../../helpers/netns.js'
import { nth } from '../../helpers/nth.js'
import type { PeerProcess } from '../../helpers/peer-process.js'

const WRITTEN_PER_SIDE = 50

let network: HostNetwork | undefined
let bed: MeshTestbed | undefined

test.after.always(async () => {
  await bed?.destroy()
  await network?.destroy()
})

test('a partition heals and both sides converge, including events written on both sides during the split', async (t) => {
  t.timeout(180_000)
  network = await HostNetwork.create(3)
  bed = await MeshTestbed.create()
  const testbed = bed
  const peers = await Promise.all(network.hosts.map(async (host, index) =>
    testbed.start(`h${index + 1}`, { netns: host.namespace, listen: `/ip4/${host.address}/tcp/0` })))
  const [p1, p2, p3] = [nth(peers, 0), nth(peers, 1), nth(peers, 2)]
  await Promise.all(peers.map(async (peer) => peer.request('write', { count: 10 })))
  const before = await converged(peers, 30)
  await fullyConnected(peers)

  const cutAt = new Map(peers.map((peer) => [peer, peer.news.length]))
  await network.cut(nth(network.hosts, 2))
  // The ping monitor notices on both sides of the cut.
  await Promise.all([
    lost(p1, p3, cutAt), lost(p2, p3, cutAt), lost(p3, p1, cutAt), lost(p3, p2, cutAt)
  ])

  await Promise.all([p1.request('write', { count: WRITTEN_PER_SIDE }), p3.request('write', { count: WRITTEN_PER_SIDE })])
  const majority = await converged([p1, p2], eventCount(before.vv) + WRITTEN_PER_SIDE)
  const minority = await stateOf(p3)
  t.is(majority.vv[p3.id], before.vv[p3.id], 'the majority has none of the cut-off host\'s new events')
  t.is(minority.vv[p1.id], before.vv[p1.id], 'the cut-off host has none of the majority\'s new events')
  t.is(eventCount(minority.vv), eventCount(before.vv) + WRITTEN_PER_SIDE)

  await network.restore(nth(network.hosts, 2))
  const healed = await converged(peers, eventCount(before.vv) + 2 * WRITTEN_PER_SIDE)
  t.is(healed.vv[p1.id], (before.vv[p1.id] ?? 0) + WRITTEN_PER_SIDE)
  t.is(healed.vv[p3.id], (before.vv[p3.id] ?? 0) + WRITTEN_PER_SIDE)
  await fullyConnected(peers)
  await Promise.all(peers.map(async (peer) => peer.stop()))
})

async function lost (peer: PeerProcess, other: PeerProcess, since: ReadonlyMap<PeerProcess, number>): Promise<void> {
  const from = since.get(peer) ?? 0
  await peer.nextEvent((news) => peer.news.indexOf(news) >= from && news.event === 'disconnected' && news.peer === other.id,
    `${peer.label} to lose ${other.label}`)
}
