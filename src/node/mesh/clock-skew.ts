/**
 * How far each peer's clock is from ours, read off its heartbeats (each says when it was
 * sent). A skewed clock does not cut a node off (heartbeats still count, and the log
 * accepts clocks up to an hour ahead), but working hours, schedules and registered times
 * are read off clocks, so people are told: in the node's log and in `cr nodes`.
 */
import { CLOCK_SKEW_WARN_MS } from './ephemeral.js'

/** Warn again about the same peer after this long, if it is still off. */
const WARN_AGAIN_AFTER_MS = 10 * 60_000

export interface PeerClock {
  /** Our clock minus the peer's, network delay included: positive when the peer is behind. */
  readonly offsetMs: number
  readonly heardAtMs: number
}

export class ClockSkew {
  private readonly clocks = new Map<string, PeerClock>()
  private readonly warnedAtMs = new Map<string, number>()

  /** Records a heartbeat's offset; true when the peer is off by more than the warning threshold and was not warned about lately. */
  observe (peer: string, offsetMs: number, nowMs: number): boolean {
    this.clocks.set(peer, { offsetMs, heardAtMs: nowMs })
    if (Math.abs(offsetMs) <= CLOCK_SKEW_WARN_MS) {
      this.warnedAtMs.delete(peer)
      return false
    }
    const warned = this.warnedAtMs.get(peer)
    if (warned !== undefined && nowMs - warned < WARN_AGAIN_AFTER_MS) return false
    this.warnedAtMs.set(peer, nowMs)
    return true
  }

  /** The peer's last known offset, when it is beyond the warning threshold. */
  skewOf (peer: string): number | null {
    const clock = this.clocks.get(peer)
    return clock === undefined || Math.abs(clock.offsetMs) <= CLOCK_SKEW_WARN_MS ? null : clock.offsetMs
  }

  /** Forgets peers not heard for `maxAgeMs`, so the map does not grow with every peer ever seen. */
  prune (nowMs: number, maxAgeMs: number): void {
    for (const [peer, clock] of this.clocks) {
      if (nowMs - clock.heardAtMs <= maxAgeMs) continue
      this.clocks.delete(peer)
      this.warnedAtMs.delete(peer)
    }
  }
}

/** "4m12s ahead" / "35s behind": how a person reads a skew. */
export function describeSkew (offsetMs: number): string {
  const seconds = Math.round(Math.abs(offsetMs) / 1000)
  const text = seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`
  return `${text} ${offsetMs < 0 ? 'ahead' : 'behind'}`
}
