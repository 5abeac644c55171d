/**
 * Heartbeat pacing: an idle node that repeats itself beats once an idle interval, a holder
 * every beat, news at once, and every beat for a while after a peer connects. What counts
 * as news is the node's whole heartbeat but its send time (ephemeral.ts `sayingOf`).
 */
import test from 'ava'
import { sayingOf, type Heartbeat } from '../../src/node/mesh/ephemeral.js'
import { HeartbeatPace } from '../../src/protocol/heartbeat-pace.js'
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS, IDLE_HEARTBEAT_INTERVAL_MS } from '../../src/protocol/liveness.js'

const idle: Omit<Heartbeat, 'sentAtMs'> = { type: 'heartbeat', status: 'STANDBY', lease: null, progressPct: null, idle: true, mayRender: true, feedSeq: 3 }
const lease = { jobId: '0b5f0a52-3f4e-4f43-9a36-6c2f4d3e8a10', block: 0, epoch: 1 }

function due (pace: HeartbeatPace, beat: Omit<Heartbeat, 'sentAtMs'>, nowMs: number): boolean {
  return pace.due(sayingOf({ ...beat, sentAtMs: nowMs }), beat.lease !== null, nowMs)
}

/** Which of the agent's beats, one every interval up to `untilMs`, go out. */
function sentAt (pace: HeartbeatPace, untilMs: number, beatAt: (nowMs: number) => Omit<Heartbeat, 'sentAtMs'>): number[] {
  const sent: number[] = []
  for (let nowMs = 0; nowMs <= untilMs; nowMs += HEARTBEAT_INTERVAL_MS) {
    if (due(pace, beatAt(nowMs), nowMs)) sent.push(nowMs)
  }
  return sent
}

test('an idle node that repeats itself beats once an idle interval', (t) => {
  const sent = sentAt(new HeartbeatPace(), 3 * IDLE_HEARTBEAT_INTERVAL_MS, () => idle)
  t.deepEqual(sent, [0, IDLE_HEARTBEAT_INTERVAL_MS, 2 * IDLE_HEARTBEAT_INTERVAL_MS, 3 * IDLE_HEARTBEAT_INTERVAL_MS])
})

test('a holder sends every beat, news goes out at once', (t) => {
  const holding = sentAt(new HeartbeatPace(), 2_000, () => ({ ...idle, status: 'RENDERING', lease, idle: false }))
  t.deepEqual(holding, [0, 500, 1_000, 1_500, 2_000])
  const pace = new HeartbeatPace()
  const news = sentAt(pace, 2_000, (nowMs) => nowMs < 1_000 ? idle : { ...idle, mayRender: false })
  t.deepEqual(news, [0, 1_000], 'a changed schedule verdict is not held back')
  t.deepEqual(sentAt(pace, 0, () => ({ ...idle, mayRender: false, feedSeq: 4 })), [0], 'nor a longer feed')
})

test('after a peer connects every beat goes out for a heartbeat timeout', (t) => {
  const pace = new HeartbeatPace()
  t.true(due(pace, idle, 0))
  pace.peerConnected(1_000)
  const sent: number[] = []
  for (let nowMs = 1_000; nowMs < 1_000 + 2 * HEARTBEAT_TIMEOUT_MS; nowMs += HEARTBEAT_INTERVAL_MS) {
    if (due(pace, idle, nowMs)) sent.push(nowMs)
  }
  t.deepEqual(sent, [1_000, 1_500, 2_000, 2_500])
})
