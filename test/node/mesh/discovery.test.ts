/**
 * Five real peer processes started with no addresses find each other over mDNS alone and
 * replicate the log: after each writes, all five hold the same events and state. The
 * ephemeral channel carries a heartbeat to every peer, and every peer stops cleanly.
 */
import test from 'ava'
import { nth } from '../../helpers/nth.js'
import { converged, fullyConnected, MeshTestbed } from '../../helpers/mesh-testbed.js'
import { waitUntil, type PeerProcess } from '../../helpers/peer-process.js'

const EVENTS_PER_PEER = 30
let bed: MeshTestbed | undefined
let peers: PeerProcess[] = []

test.before(async () => {
  bed = await MeshTestbed.create()
  const testbed = bed
  peers = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(async (name) => testbed.start(name)))
})

test.after.always(async () => {
  await bed?.destroy()
})

test.serial('five peers with no addresses find each other over mDNS and converge', async (t) => {
  // Written at once, before the mesh has formed: what gossip cannot deliver, pull does.
  await Promise.all(peers.map(async (peer) => peer.request('write', { count: EVENTS_PER_PEER })))
  const state = await converged(peers, peers.length * EVENTS_PER_PEER)
  t.deepEqual(Object.keys(state.vv).sort(), peers.map((peer) => peer.id).sort())
  t.true(Object.values(state.vv).every((seq) => seq === EVENTS_PER_PEER))
  await fullyConnected(peers)
})

test.serial('a heartbeat reaches every other peer, named by its sender', async (t) => {
  const sender = nth(peers, 0)
  // Subscriptions to the ephemeral topic travel after the connection: send until all four have them.
  await waitUntil(async () => {
    const { recipients } = await sender.request<{ recipients: number }>('heartbeat', { status: 'RENDERING' })
    return recipients === peers.length - 1 ? true : undefined
  }, 'the ephemeral topic to reach every peer', peers)
  for (const peer of peers.slice(1)) {
    const news = await peer.nextEvent((item) => item.event === 'ephemeral' && item.from === sender.id, `a heartbeat from ${sender.label}`)
    t.like(news, { message: { type: 'heartbeat', status: 'RENDERING', progressPct: 42.5, lease: null } })
  }
})

test.serial('every peer stops by itself, leaving no timer or socket behind', async (t) => {
  await Promise.all(peers.map(async (peer) => peer.stop()))
  for (const peer of peers) t.like(await peer.exited, { code: 0 })
})
