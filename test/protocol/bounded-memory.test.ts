/**
 * What a long-running node keeps about peers and leases stays bounded: ten thousand peers
 * that come and go, and ten thousand leases that are claimed and given back, leave
 * liveness and the agent holding a bounded amount, while what still matters (live peers,
 * lease holders, a release not yet in the log) is kept.
 */
import test from 'ava'
import { Agent } from '../../src/protocol/agent/agent.js'
import {
  FORGET_SILENT_PEER_MS, HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS, Liveness, MAX_KNOWN_PEERS, MAX_SETTLED_HAILS, MAX_PENDING_RELAYS,
  type Beat, type LeaseRef
} from '../../src/protocol/liveness.js'
import type { FarmView } from '../../src/protocol/view.js'
import { makeSigners, World } from '../helpers/farm-events.js'
import { nth } from '../helpers/nth.js'

const PEERS = 10_000
const beat: Beat = { lease: null, idle: true, mayRender: true }

test('ten thousand peers coming and going: liveness keeps at most MAX_KNOWN_PEERS, never a live peer or a lease holder', (t) => {
  const liveness = new Liveness({ self: 'self', random: () => 0.5 })
  const lease: LeaseRef = { jobId: 'job-1', block: 0, epoch: 1 }
  liveness.observeLeases(new Map([['holder', [lease]]]))
  liveness.handle({ kind: 'heartbeat', from: 'holder', nowMs: 0, beat: { lease, idle: false, mayRender: true } })
  // 100 new peers a second, each beating for two seconds; then it leaves (every fourth by a dropped connection).
  const ARRIVALS_PER_S = 100
  const LIFE_MS = 2_000
  const endMs = (PEERS / ARRIVALS_PER_S) * 1_000 + LIFE_MS
  let largest = 0
  for (let nowMs = 0; nowMs <= endMs; nowMs += 100) {
    const firstAlive = Math.max(0, Math.floor(((nowMs - LIFE_MS) * ARRIVALS_PER_S) / 1_000))
    const lastArrived = Math.min(PEERS, Math.floor((nowMs * ARRIVALS_PER_S) / 1_000))
    if (nowMs % HEARTBEAT_INTERVAL_MS === 0) {
      for (let peer = firstAlive; peer < lastArrived; peer++) liveness.handle({ kind: 'heartbeat', from: `peer-${peer}`, nowMs, beat })
    }
    for (let peer = firstAlive - 10; peer < firstAlive; peer++) {
      if (peer >= 0 && peer % 4 === 0) liveness.handle({ kind: 'peer-disconnected', peer: `peer-${peer}`, nowMs })
    }
    liveness.handle({ kind: 'tick', nowMs })
    const footprint = liveness.footprint()
    largest = Math.max(largest, footprint.peers)
    t.true(footprint.relays <= MAX_PENDING_RELAYS && footprint.settled <= MAX_SETTLED_HAILS)
    if (nowMs % 10_000 === 0 && nowMs >= LIFE_MS) {
      // Everyone heard within the timeout is still a candidate: only the long silent were forgotten.
      const live = new Set(liveness.live(nowMs).map(({ peer }) => peer))
      const recent = Math.floor(((nowMs - HEARTBEAT_TIMEOUT_MS + HEARTBEAT_INTERVAL_MS) * ARRIVALS_PER_S) / 1_000)
      for (let peer = Math.max(recent, firstAlive); peer < lastArrived; peer++) t.true(live.has(`peer-${peer}`), `peer-${peer} is live at ${nowMs} ms`)
    }
  }
  t.true(largest <= MAX_KNOWN_PEERS, `at most ${largest} peers known at once`)
  t.true(largest > MAX_KNOWN_PEERS / 2, 'the churn did reach the bound')
  t.is(liveness.state('holder')?.kind, 'dead', 'a silent holder is kept, whatever the churn, while the log shows its lease')
  // Ticks keep coming (a jump would read as our own pause, which forgives every silence).
  for (let nowMs = endMs; nowMs <= endMs + FORGET_SILENT_PEER_MS + 1_000; nowMs += 1_000) liveness.handle({ kind: 'tick', nowMs })
  t.deepEqual(liveness.footprint(), { peers: 1, relays: 0, settled: 0, freed: 0 }, 'once all are long gone, only the holder is left')
})

const signers = await makeSigners(2)

/** A view in which this node holds `holding`, and nothing else happens. */
function viewHolding (base: FarmView, self: string, holding: readonly LeaseRef[]): FarmView {
  const node = nth(base.nodes.filter((candidate) => candidate.id === self), 0)
  return { ...base, nodes: [{ ...node, holding: holding.map((lease) => ({ ...lease, holder: self })) }] }
}

test('ten thousand leases released after a restart, and as many rival claims: the agent keeps a bounded few, and writes each release once', (t) => {
  const world = new World(signers)
  const self = world.author(1)
  world.write(1, { type: 'node.settings', node: self, changes: { name: 'node-1' } })
  const base = nth(world.replicas, 1).view()
  const agent = new Agent({ self, name: 'node-1', random: () => 0 })
  let largest = 0
  for (let index = 0; index < PEERS; index++) {
    const lease = { jobId: `job-${index}`, block: index % 7, epoch: 1 + (index % 3) }
    const nowMs = index * 10
    // The log shows a lease no renderer of ours runs: release it, once, however often the view says so.
    const view = viewHolding(base, self, [lease])
    const first = agent.handle({ kind: 'view-changed', nowMs, view })
    const again = agent.handle({ kind: 'view-changed', nowMs, view })
    t.true(first.some((command) => command.kind === 'append' && command.body.type === 'block.released'))
    t.false(again.some((command) => command.kind === 'append'), `lease ${index} is released once`)
    agent.handle({ kind: 'claim-seen', from: `rival-${index}`, nowMs, target: { ...lease, epoch: lease.epoch + 1 } })
    largest = Math.max(largest, agent.footprint().released)
  }
  agent.handle({ kind: 'view-changed', nowMs: PEERS * 10, view: viewHolding(base, self, []) })
  t.true(largest <= 2, `at most ${largest} releases remembered at once`)
  t.like(agent.footprint(), { released: 0 })
  t.true(agent.footprint().rivalBlocks <= 64)
})
