/**
 * The pull scheduler: one pull at a time, a peer queued once however often it is asked
 * for, asked again after a pull that was running when news came, sent to the back after
 * a pull cut at its event limit, and a clean stop.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import test from 'ava'
import { silentLogger } from '../../../src/node/log.js'
import { PullScheduler } from '../../../src/node/mesh/scheduler.js'

async function peers (count: number): Promise<PeerId[]> {
  return Promise.all(Array.from({ length: count }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
}

/** A pull function whose calls the test completes by hand. */
function manualPulls (): {
  pull: (peer: PeerId) => Promise<{ appended: number, more: boolean }>
  calls: string[]
  running: () => number
  finish: (result?: { appended: number, more: boolean }) => Promise<void>
} {
  const calls: string[] = []
  const waiting: Array<(result: { appended: number, more: boolean }) => void> = []
  let active = 0
  return {
    calls,
    running: () => active,
    pull: async (peer) => {
      calls.push(peer.toString())
      active++
      const result = await new Promise<{ appended: number, more: boolean }>((resolve) => waiting.push(resolve))
      active--
      return result
    },
    finish: async (result = { appended: 0, more: false }) => {
      waiting.shift()?.(result)
      // Let the scheduler take its next step.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}

/** A started scheduler, asked to pull from `connected` as new connections would. */
function started (pull: (peer: PeerId) => Promise<{ appended: number, more: boolean }>, connected: readonly PeerId[]): PullScheduler {
  const subject = new PullScheduler({ pull, connectedPeers: () => [], antiEntropyIntervalMs: 60_000, idleAntiEntropyIntervalMs: 60_000, logger: silentLogger() })
  subject.start()
  for (const peer of connected) subject.request(peer, 'connected')
  return subject
}

test('pulls run one at a time, and a peer asked for twice while queued is pulled once', async (t) => {
  const [a, b] = await peers(2) as [PeerId, PeerId]
  const pulls = manualPulls()
  const subject = started(pulls.pull, [a, b])
  subject.request(b, 'gap')
  t.deepEqual(pulls.calls, [a.toString()])
  t.is(pulls.running(), 1)
  await pulls.finish()
  t.deepEqual(pulls.calls, [a.toString(), b.toString()])
  await pulls.finish()
  t.is(pulls.calls.length, 2)
  await subject.stop()
})

test('a peer asked for while its pull runs is pulled again after', async (t) => {
  const [a] = await peers(1) as [PeerId]
  const pulls = manualPulls()
  const subject = started(pulls.pull, [a])
  subject.request(a, 'gap')
  await pulls.finish()
  t.deepEqual(pulls.calls, [a.toString(), a.toString()])
  await pulls.finish()
  await subject.stop()
})

test('a pull cut at its event limit goes to the back of the queue', async (t) => {
  const [a, b] = await peers(2) as [PeerId, PeerId]
  const pulls = manualPulls()
  const subject = started(pulls.pull, [a, b])
  await pulls.finish({ appended: 100, more: true })
  await pulls.finish()
  t.deepEqual(pulls.calls, [a.toString(), b.toString(), a.toString()])
  await pulls.finish()
  await subject.stop()
})

test('a failed pull does not stop the queue; a forgotten peer is not pulled', async (t) => {
  const [a, b, c] = await peers(3) as [PeerId, PeerId, PeerId]
  const calls: string[] = []
  const subject = started(async (peer) => {
    calls.push(peer.toString())
    return peer.equals(a) ? Promise.reject(new Error('stream reset')) : Promise.resolve({ appended: 1, more: false })
  }, [a, b, c])
  subject.forget(b)
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(calls, [a.toString(), c.toString()])
  await subject.stop()
})

test('stop waits for the running pull, drops the queue and ignores later requests', async (t) => {
  const [a, b] = await peers(2) as [PeerId, PeerId]
  const pulls = manualPulls()
  const subject = started(pulls.pull, [a, b])
  let stopped = false
  const stopping = subject.stop().then(() => { stopped = true })
  await new Promise((resolve) => setImmediate(resolve))
  t.false(stopped, 'the running pull is awaited')
  await pulls.finish()
  await stopping
  subject.request(a, 'gap')
  t.deepEqual(pulls.calls, [a.toString()])
  await subject.stop()
})

test('anti-entropy pulls a random connected peer on each tick', async (t) => {
  const [a, b] = await peers(2) as [PeerId, PeerId]
  const calls: string[] = []
  const subject = new PullScheduler({
    pull: async (peer) => {
      calls.push(peer.toString())
      return Promise.resolve({ appended: 0, more: false })
    },
    connectedPeers: () => [a, b],
    antiEntropyIntervalMs: 5,
    idleAntiEntropyIntervalMs: 60_000,
    logger: silentLogger(),
    random: () => 0.9
  })
  subject.start()
  while (calls.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
  await subject.stop()
  t.true(calls.every((peer) => peer === b.toString()))
})

test('with no work in flight anti-entropy pulls once an idle interval, and on each tick again once work is', async (t) => {
  const [a] = await peers(1) as [PeerId]
  let calls = 0
  const subject = new PullScheduler({
    pull: async () => {
      calls++
      return Promise.resolve({ appended: 0, more: false })
    },
    connectedPeers: () => [a],
    antiEntropyIntervalMs: 5,
    idleAntiEntropyIntervalMs: 60_000,
    logger: silentLogger()
  })
  subject.setWorkInFlight(false)
  subject.start()
  // Twenty ticks or more: idly, only the first of them pulls.
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.is(calls, 1)
  subject.setWorkInFlight(true)
  await new Promise((resolve) => setTimeout(resolve, 100))
  await subject.stop()
  t.true(calls >= 3, `${calls} pulls in the 100 ms after work came`)
})
