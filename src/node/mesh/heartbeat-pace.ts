/**
 * Which of the agent's heartbeats go out. The agent asks for one every
 * HEARTBEAT_INTERVAL_MS; a node that holds a lease sends each (hail and takeover time
 * from them), and so does a node with news: a beat that differs from the last one sent in
 * anything but its send time. A node that holds nothing and repeats itself sends one every
 * IDLE_HEARTBEAT_INTERVAL_MS, which peers allow for (liveness.ts `silenceToleratedMs`).
 * After a peer connects every beat goes out for a while, so the newcomer counts us as a
 * live candidate within a beat rather than an idle interval.
 */
import { HEARTBEAT_TIMEOUT_MS, IDLE_HEARTBEAT_INTERVAL_MS } from '../../protocol/liveness.js'
import type { Heartbeat } from './ephemeral.js'

/** What a beat says, its send time left out: two beats that say the same compare equal. */
function sayingOf ({ status, lease, progressPct, idle, mayRender, feedSeq }: Heartbeat): string {
  return JSON.stringify([status, lease, progressPct, idle, mayRender, feedSeq])
}

export class HeartbeatPace {
  private lastSent: { readonly saying: string, readonly atMs: number } | undefined
  private everyBeatUntilMs = Number.NEGATIVE_INFINITY

  /** A peer connected: send every beat for a heartbeat timeout, long enough for its subscription to land. */
  peerConnected (nowMs: number): void {
    this.everyBeatUntilMs = nowMs + HEARTBEAT_TIMEOUT_MS
  }

  /** Whether `heartbeat` should go out at `nowMs`; a beat judged due counts as sent. */
  due (heartbeat: Heartbeat, nowMs: number): boolean {
    const saying = sayingOf(heartbeat)
    const repeat = heartbeat.lease === null && saying === this.lastSent?.saying &&
      nowMs - this.lastSent.atMs < IDLE_HEARTBEAT_INTERVAL_MS && nowMs >= this.everyBeatUntilMs
    if (repeat) return false
    this.lastSent = { saying, atMs: nowMs }
    return true
  }
}
