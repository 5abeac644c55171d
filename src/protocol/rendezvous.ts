/**
 * Rendezvous (highest-random-weight) hashing: every peer ranks the same candidates for
 * the same key in the same order, with no coordination, and removing one candidate does
 * not reorder the rest. Used to stagger claims, to settle colliding claims, and to pick
 * who takes over a stalled block.
 */
import { hash } from 'node:crypto'

/** The key a block's claims are ranked under; a new epoch reshuffles the ranking. */
export function blockKey (jobId: string, block: number, epoch: number): string {
  return `${jobId}/${block}/${epoch}`
}

/** Hex digits of the weight: the first 8 bytes of the digest. */
const SCORE_HEX_DIGITS = 16

/**
 * A peer's weight for a key: the first 8 bytes of sha256(key, peer), as 16 hex digits,
 * which sort as the unsigned integer they spell. Every node ranks every candidate for each
 * block it hands out, on every change to the view: hashing the text as it is, into hex, is
 * several times cheaper than encoding it to bytes and reading a BigInt out of a Buffer.
 */
function rendezvousScore (key: string, peer: string): string {
  return hash('sha256', `${key}\n${peer}`, 'hex').slice(0, SCORE_HEX_DIGITS)
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
