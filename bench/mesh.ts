/**
 * Mesh benchmarks on five real peer processes on loopback (printed, never asserted):
 *  - one event's propagation to all other peers, p50 and p99 over 1,000 paced events
 *    (target: p99 < 50 ms);
 *  - sustained replication: all five peers writing at once, events per second until every
 *    peer holds every event;
 *  - one idle peer's CPU and resident memory over 60 s, in a fresh mesh before any load
 *    (target: < 1% of a core, < 100 MB);
 *  - catch-up of a peer that missed 100,000 events, from its mesh start to holding them all
 *    (target: < 5 s).
 * The peers are test/fixtures/mesh/peer.ts run under tsx, so memory includes tsx's loader.
 * Must run inside the private network namespace: `bash scripts/in-netns.sh npx tsx bench/mesh.ts`.
 */
import { pathToFileURL } from 'node:url'
import { DEFAULT_ANTI_ENTROPY_INTERVAL_MS, DEFAULT_MDNS_QUERY_INTERVAL_MS } from '../src/node/mesh/config.js'
import { eventCount } from '../src/protocol/version-vector.js'
import { fullyConnected, MeshTestbed, stateOf } from '../test/helpers/mesh-testbed.js'
import type { PeerProcess } from '../test/helpers/peer-process.js'
import { formatMs, formatRate, percentile, printTable } from './report.js'

const PROPAGATION_EVENTS = 1_000
/** Paced so the figure is latency, not queueing behind a burst. */
const PROPAGATION_PACE_MS = 10
const SUSTAINED_EVENTS_PER_PEER = 2_000
const CATCH_UP_EVENTS = 100_000
/** Writes go in chunks so no single command runs for minutes. */
const WRITE_CHUNK = 5_000
const IDLE_WINDOW_MS = 60_000

type Row = readonly [string, string, string?]

/** The production defaults for mDNS and anti-entropy, not the fixture's brisk test values. */
const PEER_ARGS = ['--mdns-interval-ms', String(DEFAULT_MDNS_QUERY_INTERVAL_MS), '--anti-entropy-ms', String(DEFAULT_ANTI_ENTROPY_INTERVAL_MS)]

export async function runMeshBench (): Promise<void> {
  const bed = await MeshTestbed.create()
  try {
    const peers = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(async (name) => bed.start(name, { args: PEER_ARGS })))
    await fullyConnected(peers)
    const rows: Row[] = [
      ...await idle(peers),
      ...await propagation(peers),
      ...await sustained(peers),
      ...await catchUp(bed, peers)
    ]
    printTable('Mesh: 5 peer processes on loopback', rows)
    await Promise.all([...bed.peers.values()].map(async (peer) => peer.stop()))
  } finally {
    await bed.destroy()
  }
}

async function propagation ([writer, ...others]: readonly PeerProcess[]): Promise<Row[]> {
  if (writer === undefined) throw new Error('no writer')
  await Promise.all(others.map(async (peer) => peer.request('track', { author: writer.id })))
  const { vv, writtenAt } = await writer.request<{ vv: Record<string, number>, writtenAt: number[] }>('write', { count: PROPAGATION_EVENTS, paceMs: PROPAGATION_PACE_MS })
  await Promise.all(others.map(async (peer) => peer.request('await-events', { count: eventCount(vv) })))
  const firstSeq = (vv[writer.id] ?? 0) - PROPAGATION_EVENTS + 1
  const lastArrival = new Map<number, number>()
  for (const peer of others) {
    const { arrivals } = await peer.request<{ arrivals: Array<[number, number]> }>('arrivals', { author: writer.id })
    for (const [seq, atMs] of arrivals) lastArrival.set(seq, Math.max(atMs, lastArrival.get(seq) ?? 0))
  }
  const latencies = writtenAt.map((startMs, index) => (lastArrival.get(firstSeq + index) ?? Number.NaN) - startMs)
  return [
    ['propagation to all 4 other peers, p50', formatMs(percentile(latencies, 0.5)), `${PROPAGATION_EVENTS} events, one per ${PROPAGATION_PACE_MS} ms`],
    ['propagation to all 4 other peers, p99', formatMs(percentile(latencies, 0.99)), 'target < 50 ms']
  ]
}

async function sustained (peers: readonly PeerProcess[]): Promise<Row[]> {
  const before = eventCount((await stateOf(peers[0] ?? fail('no peer'))).vv)
  const total = before + peers.length * SUSTAINED_EVENTS_PER_PEER
  const startMs = performance.timeOrigin + performance.now()
  await Promise.all(peers.map(async (peer) => peer.request('write', { count: SUSTAINED_EVENTS_PER_PEER })))
  const done = await Promise.all(peers.map(async (peer) => peer.request<{ atMs: number }>('await-events', { count: total })))
  const seconds = (Math.max(...done.map(({ atMs }) => atMs)) - startMs) / 1000
  return [['sustained, all 5 writing at once', formatRate(peers.length * SUSTAINED_EVENTS_PER_PEER / seconds), `${peers.length} x ${SUSTAINED_EVENTS_PER_PEER} events, until every peer holds all`]]
}

async function idle (peers: readonly PeerProcess[]): Promise<Row[]> {
  const peer = peers.at(-1) ?? fail('no peer')
  const before = await peer.request<{ cpuMicros: number, rssBytes: number }>('usage')
  await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS))
  const after = await peer.request<{ cpuMicros: number, rssBytes: number }>('usage')
  const cpuPercent = (after.cpuMicros - before.cpuMicros) / 1000 / IDLE_WINDOW_MS * 100
  return [
    ['idle peer CPU', `${cpuPercent.toFixed(2)} %`, `of one core over ${IDLE_WINDOW_MS / 1000} s in a mesh of 5; target < 1 %`],
    ['idle peer resident memory', `${(after.rssBytes / 1024 / 1024).toFixed(0)} MB`, 'under tsx; target < 100 MB']
  ]
}

async function catchUp (bed: MeshTestbed, peers: readonly PeerProcess[]): Promise<Row[]> {
  const late = peers.at(-1) ?? fail('no peer')
  const writers = peers.slice(0, -1)
  await late.stop()
  const perWriter = CATCH_UP_EVENTS / writers.length
  for (let written = 0; written < perWriter; written += WRITE_CHUNK) {
    await Promise.all(writers.map(async (peer) => peer.request('write', { count: Math.min(WRITE_CHUNK, perWriter - written) })))
  }
  const total = eventCount((await stateOf(writers[0] ?? fail('no writer'))).vv)
  await Promise.all(writers.map(async (peer) => peer.request('await-events', { count: total })))
  const back = await bed.start(late.label, { args: PEER_ARGS })
  const ready = back.news.find((news) => news.event === 'ready')
  const { atMs } = await back.request<{ atMs: number }>('await-events', { count: total })
  return [['catch-up after missing 100,000 events', formatMs(atMs - Number(ready?.atMs)), 'from mesh start to holding all; target < 5 s']]
}

function fail (why: string): never {
  throw new Error(why)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMeshBench()
