/**
 * Which of the agent's heartbeats go out. The agent asks for one every
 * HEARTBEAT_INTERVAL_MS; a node that holds a lease sends each (hail and takeover time
 * from them), and so does a node with news: a beat that says anything but what the last
 * one sent said. A node that holds nothing and repeats itself sends one every
 * IDLE_HEARTBEAT_INTERVAL_MS, which peers allow for (liveness.ts `silenceToleratedMs`).
 * After a peer connects every beat goes out for a while, so the newcomer counts us as a
 * live candidate within a beat rather than an idle interval. The node and the simulator
 * pace their beats with it alike.
 */
import { HEARTBEAT_TIMEOUT_MS, IDLE_HEARTBEAT_INTERVAL_MS } from './liveness.js'

export class HeartbeatPace {
  private lastSent: { readonly saying: string, readonly atMs: number } | undefined
  private everyBeatUntilMs = Number.NEGATIVE_INFINITY

  /** A peer connected: send every beat for a heartbeat timeout, long enough for its subscription to land. */
  peerConnected (nowMs: number): void {
    this.everyBeatUntilMs = nowMs + HEARTBEAT_TIMEOUT_MS
  }

  /**
   * Whether a beat should go out at `nowMs`; a beat judged due counts as sent. `saying`:
   * what it says, its send time left out, so that two beats that say the same are equal.
   */
  due (saying: string, holdsLease: boolean, nowMs: number): boolean {
    const repeat = !holdsLease && saying === this.lastSent?.saying &&
      nowMs - this.lastSent.atMs < IDLE_HEARTBEAT_INTERVAL_MS && nowMs >= this.everyBeatUntilMs
    if (repeat) return false
    this.lastSent = { saying, atMs: nowMs }
    return true
  }
}
