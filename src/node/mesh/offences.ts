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
export type OffenceReason = RejectionReason | 'protocol' | 'malformed-ephemeral'

/** Where the input came from. */
export type OffenceChannel = 'gossip' | 'sync' | 'ephemeral'

/**
 * Points per kind. Input only a broken or hostile peer sends weighs most; input an honest
 * peer can send weighs little or nothing.
 */
export const OFFENCE_POINTS = {
  malformed: 4,
  oversized: 4,
  forged: 6,
  protocol: 4,
  'malformed-ephemeral': 4,
  // A peer running a newer version writes event types an older peer finds invalid.
  invalid: 1,
  // An author that forked its feed makes honest relays of the other branch look out of chain.
  'broken-chain': 2,
  // Honest peers publish each event once; a replay on gossip is at least suspicious.
  replayed: 1,
  // A fork is its author's fault, not the fault of the peer that relayed it.
  forked: 0
} as const satisfies Record<OffenceReason, number>

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
    const points = this.currentPoints(offence.peer, nowMs) + OFFENCE_POINTS[offence.reason]
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

  /** Refuses connections to and from banned peers, both ways and at every stage we can. */
  gater (): ConnectionGater {
    const denied = (peerId: PeerId): boolean => this.isBanned(peerId.toString())
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
