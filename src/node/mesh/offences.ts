/**
 * Per-peer offence scores and bans. Every piece of bad input a peer sends costs it points
 * by kind; points decay with time, so an honest peer that once relayed something odd is
 * forgiven, while one that keeps sending garbage crosses the threshold, is disconnected and
 * refused (by the connection gater) for a while. Even peers with the swarm key are not
 * trusted: a compromised or buggy machine must not take the farm down with it.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { RejectionReason } from '../../protocol/errors.js'
import type { MeshConfig } from './config.js'

/** Why input was refused: the log's reasons plus the mesh's own. */
export type OffenceReason = RejectionReason | 'protocol' | 'malformed-ephemeral' | 'malformed-direct'

/** Where the input came from. */
export type OffenceChannel = 'gossip' | 'sync' | 'ephemeral' | 'direct'

/** Input no honest peer sends, on any channel. */
const HOSTILE = { malformed: 4, oversized: 4, forged: 6, protocol: 4, 'malformed-ephemeral': 4, 'malformed-direct': 4 } as const

/**
 * Points per kind and channel. Input only a broken or hostile peer sends weighs most;
 * input an honest peer can send weighs nothing: such input is still dropped and logged.
 * - invalid: a peer running a newer version writes event types an older one finds invalid.
 * - forked: a fork is its author's fault, not the fault of the peer that relayed it.
 * - broken-chain: after an author forks, honest relays of the other branch look out of
 *   chain; on gossip that is rare enough to count a little, on sync it is expected.
 * - replayed: gossip of an event we already pulled (pull and push race all the time), or
 *   a pull that raced gossip: both innocent.
 */
export const OFFENCE_POINTS: Readonly<Record<OffenceChannel, Readonly<Record<OffenceReason, number>>>> = {
  gossip: { ...HOSTILE, invalid: 0, 'broken-chain': 2, replayed: 0, forked: 0 },
  sync: { ...HOSTILE, invalid: 0, 'broken-chain': 0, replayed: 0, forked: 0 },
  ephemeral: { ...HOSTILE, invalid: 0, 'broken-chain': 0, replayed: 0, forked: 0 },
  direct: { ...HOSTILE, invalid: 0, 'broken-chain': 0, replayed: 0, forked: 0 }
}

/** One refused input, as reported to listeners and logs. */
export interface Offence {
  readonly peer: string
  readonly channel: OffenceChannel
  readonly reason: OffenceReason
  /** The refusal's message: what was wrong, with the event's author and seq where known. */
  readonly detail: string
}

export interface OffenceVerdict {
  readonly points: number
  /** True when this offence crossed the threshold and the peer is now banned. */
  readonly banned: boolean
}

/** Beyond this many tracked peers, forgiven ones are dropped, so fresh ids cannot grow memory. */
const TRACKED_PEERS_SOFT_LIMIT = 10_000

interface Score {
  points: number
  atMs: number
}

export class PeerOffences {
  private readonly scores = new Map<string, Score>()
  private readonly bans = new Map<string, number>()
  private readonly config: MeshConfig['offences']
  private readonly now: () => number

  constructor (config: MeshConfig['offences'], now: () => number) {
    this.config = config
    this.now = now
  }

  /** Adds the offence's points; bans the peer when its score reaches the threshold. */
  record (offence: Offence): OffenceVerdict {
    const nowMs = this.now()
    const points = this.currentPoints(offence.peer, nowMs) + OFFENCE_POINTS[offence.channel][offence.reason]
    this.scores.set(offence.peer, { points, atMs: nowMs })
    if (this.scores.size > TRACKED_PEERS_SOFT_LIMIT) this.forget(nowMs)
    if (points < this.config.banThreshold || this.isBanned(offence.peer)) return { points, banned: false }
    this.bans.set(offence.peer, nowMs + this.config.banDurationMs)
    this.scores.delete(offence.peer)
    return { points, banned: true }
  }

  isBanned (peer: string): boolean {
    const until = this.bans.get(peer)
    if (until === undefined) return false
    if (this.now() < until) return true
    this.bans.delete(peer)
    return false
  }

  /** Refuses connections to and from banned peers, both ways; `onRefused` hears of each refusal. */
  gater (onRefused: (peer: string) => void): ConnectionGater {
    const denied = (peerId: PeerId): boolean => {
      const peer = peerId.toString()
      if (!this.isBanned(peer)) return false
      onRefused(peer)
      return true
    }
    return {
      denyDialPeer: denied,
      denyInboundEncryptedConnection: denied,
      denyOutboundEncryptedConnection: denied
    }
  }

  private currentPoints (peer: string, nowMs: number): number {
    const score = this.scores.get(peer)
    if (score === undefined) return 0
    const decayed = ((nowMs - score.atMs) / 60_000) * this.config.decayPerMinute
    return Math.max(0, score.points - decayed)
  }

  private forget (nowMs: number): void {
    for (const peer of this.scores.keys()) {
      if (this.currentPoints(peer, nowMs) === 0) this.scores.delete(peer)
    }
  }
}
