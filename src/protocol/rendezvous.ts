/**
 * Rendezvous (highest-random-weight) hashing: every peer ranks the same candidates for
 * the same key in the same order, with no coordination, and removing one candidate does
 * not reorder the rest. Used to stagger claims, to settle colliding claims, and to pick
 * who takes over a stalled block.
 */
import { sha256 } from './encoding.js'

const encoder = new TextEncoder()

/** The key a block's claims are ranked under; a new epoch reshuffles the ranking. */
export function blockKey (jobId: string, block: number, epoch: number): string {
  return `${jobId}/${block}/${epoch}`
}

/** A peer's weight for a key: the first 8 bytes of sha256(key, peer), as an unsigned integer. */
export function rendezvousScore (key: string, peer: string): bigint {
  const digest = sha256(encoder.encode(`${key}\n${peer}`))
  return Buffer.from(digest.buffer, digest.byteOffset, 8).readBigUInt64BE(0)
}

/** Peers from the highest weight to the lowest; ties (never seen in practice) by peer id. */
export function rankPeers (key: string, peers: Iterable<string>): string[] {
  const scored = [...new Set(peers)].map((peer) => ({ peer, score: rendezvousScore(key, peer) }))
  scored.sort((a, b) => {
    if (a.score !== b.score) return a.score > b.score ? -1 : 1
    return a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0
  })
  return scored.map(({ peer }) => peer)
}
