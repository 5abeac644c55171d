/**
 * A hung peer (SIGSTOP: its sockets stay open, it answers nothing) is dropped by the others
 * through keep-alive, who keep writing; once it resumes it is found again and catches up.
 * A peer with no work in flight beats idly and is allowed an idle silence, by every peer,
 * whatever their own pace; with work, it beats briskly and is dropped briskly.
 */
import test from 'ava'
import { DEFAULT_KEEP_ALIVE_INTERVAL_MS, DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from '../../../src/node/mesh/config.js'
import type { PeerProcess } from '../../helpers/peer-process.js'
import { eventCount } from '../../../src/protocol/version-vector.js'
import { converged, fullyConnected, MeshTestbed } from '../../helpers/mesh-testbed.js'

let bed: MeshTestbed | undefined

test.after.always(async () => {
  await bed?.destroy()
})

test('a hung peer is dropped, and rejoins and catches up when it resumes', async (t) => {
  bed = await MeshTestbed.create()
  const [a, b, hung] = await Promise.all([bed.start('a'), bed.start('b'), bed.start('hung')])
  await Promise.all([a, b, hung].map(async (peer) => peer.request('write', { count: 5 })))
  const before = await converged([a, b, hung], 15)
  await fullyConnected([a, b, hung])

  const stoppedAt = new Map([[a, a.news.length], [b, b.news.length]])
  hung.kill('SIGSTOP')
  for (const peer of [a, b]) {
    await peer.nextEvent((news) => peer.news.indexOf(news) >= (stoppedAt.get(peer) ?? 0) && news.event === 'disconnected' && news.peer === hung.id,
      `${peer.label} to drop the hung peer`)
  }
  await Promise.all([a.request('write', { count: 20 }), b.request('write', { count: 20 })])
  await converged([a, b], eventCount(before.vv) + 40)

  hung.kill('SIGCONT')
  const after = await converged([a, b, hung], eventCount(before.vv) + 40)
  t.is(after.vv[a.id], (before.vv[a.id] ?? 0) + 20)
  await fullyConnected([a, b, hung])
  await Promise.all([a, b, hung].map(async (peer) => peer.stop()))
})

/** Shorter than the defaults (5 s, 12.5 s), and still beyond what the brisk pace tolerates. */
const IDLE_INTERVAL_MS = 2_000
const IDLE_TIMEOUT_MS = 7_000
/** The latest a brisk keep-alive drops a hung peer: its timeout, then the tick that sees it. */
const BRISK_DROP_MS = DEFAULT_KEEP_ALIVE_TIMEOUT_MS + DEFAULT_KEEP_ALIVE_INTERVAL_MS

/** Hangs `hung` and says how long `watcher` took to drop it. */
async function dropAfterHangMs (watcher: PeerProcess, hung: PeerProcess): Promise<number> {
  const from = watcher.news.length
  const stoppedAt = performance.now()
  hung.kill('SIGSTOP')
  await watcher.nextEvent((news) => watcher.news.indexOf(news) >= from && news.event === 'disconnected' && news.peer === hung.id, `${watcher.label} to drop the hung peer`)
  return performance.now() - stoppedAt
}

test('a hung peer that said it had no work in flight is dropped only after the idle timeout, even by a brisk peer, and idle beats keep the others connected; with work, within the brisk timeout; all idle, in time still', async (t) => {
  const idleBed = await MeshTestbed.create()
  t.teardown(async () => { await idleBed.destroy() })
  const args = ['--keep-alive-idle-interval-ms', String(IDLE_INTERVAL_MS), '--keep-alive-idle-timeout-ms', String(IDLE_TIMEOUT_MS)]
  const peers = await Promise.all(['a', 'b', 'hung'].map(async (name) => idleBed.start(name, { args })))
  const [a, b, hung] = peers as [PeerProcess, PeerProcess, PeerProcess]
  await fullyConnected(peers)
  const pace = async (busy: boolean, of: readonly PeerProcess[]): Promise<void> => { await Promise.all(of.map(async (peer) => peer.request('work-in-flight', { busy }))) }

  // `a` keeps the brisk pace it starts with, as a controller or a node still catching up does.
  await pace(false, [b, hung])
  // Each declared its idle pace by a beat at once; a moment for those beats to land.
  await new Promise((resolve) => setTimeout(resolve, 500))
  const newsBefore = a.news.length
  const idleMs = await dropAfterHangMs(a, hung)
  // Its last idle beat came at most an idle interval before it hung; a brisk allowance would have dropped it by BRISK_DROP_MS.
  t.true(idleMs > IDLE_TIMEOUT_MS - IDLE_INTERVAL_MS - 250, `dropped after ${Math.round(idleMs)} ms: the idle tolerance is ${IDLE_TIMEOUT_MS} ms`)
  t.true(idleMs <= IDLE_TIMEOUT_MS + IDLE_INTERVAL_MS + DEFAULT_KEEP_ALIVE_INTERVAL_MS, `dropped after ${Math.round(idleMs)} ms`)
  t.false(a.news.slice(newsBefore).some((news) => news.event === 'disconnected' && news.peer === b.id), 'idle beats kept a and b connected')

  hung.kill('SIGCONT')
  await fullyConnected(peers)
  await pace(true, peers)
  // A connection made on resume may have had no stream open for the beat sent on the change
  // of pace: the next tick's brisk beat is then the first a hears on it.
  await new Promise((resolve) => setTimeout(resolve, DEFAULT_KEEP_ALIVE_INTERVAL_MS + 500))
  const briskMs = await dropAfterHangMs(a, hung)
  t.true(briskMs <= BRISK_DROP_MS + 1_000, `dropped after ${Math.round(briskMs)} ms with work in flight`)

  // All idle: the timers too run at the idle interval, and still drop a hung peer in time.
  hung.kill('SIGCONT')
  await fullyConnected(peers)
  await pace(false, peers)
  await new Promise((resolve) => setTimeout(resolve, 500))
  const allIdleFrom = a.news.length
  const allIdleMs = await dropAfterHangMs(a, hung)
  t.true(allIdleMs > IDLE_TIMEOUT_MS - IDLE_INTERVAL_MS - 250 && allIdleMs <= IDLE_TIMEOUT_MS + 2 * IDLE_INTERVAL_MS + 1_000, `dropped after ${Math.round(allIdleMs)} ms, all idle`)
  t.false(a.news.slice(allIdleFrom).some((news) => news.event === 'disconnected' && news.peer === b.id), 'idle ticks kept a and b connected')
  hung.kill('SIGCONT')
  await Promise.all(peers.map(async (peer) => peer.stop()))
})

test('an idle peer beats briskly back to a peer that beats briskly, so a listener that allows only a brisk silence (an earlier release) keeps it', async (t) => {
  const pairBed = await MeshTestbed.create()
  t.teardown(async () => { await pairBed.destroy() })
  // `strict` allows every peer the brisk silence whatever its beats say, as a node of an earlier release does, and beats briskly.
  const strict = await pairBed.start('strict', { args: ['--keep-alive-idle-timeout-ms', String(DEFAULT_KEEP_ALIVE_TIMEOUT_MS)] })
  // `idle` beats once every 4 s when it beats idly: past what `strict` allows.
  const idle = await pairBed.start('idle', { args: ['--keep-alive-idle-interval-ms', '4000'] })
  await fullyConnected([strict, idle])
  const from = strict.news.length
  await idle.request('work-in-flight', { busy: false })
  await new Promise((resolve) => setTimeout(resolve, 9_000))
  t.false(strict.news.slice(from).some((news) => news.event === 'disconnected' && news.peer === idle.id), 'strict kept the idle peer for 9 s')
  await Promise.all([strict, idle].map(async (peer) => peer.stop()))
})
