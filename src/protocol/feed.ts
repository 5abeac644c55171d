/**
 * Per-author feeds: each author's events form a hash chain, seq 1, 2, 3 ... each naming
 * the hash of the one before, with a Lamport clock that only grows. This module decides
 * where a verified event falls against what a peer holds, and drafts a writer's next event.
 */
import { BrokenChainError, ForkedFeedError, ReplayedEventError } from './errors.js'
import type { EventBody, HashedEvent, UnsignedEvent } from './events.js'
import { ENVELOPE_VERSION } from './schemas.js'

/** The newest event a peer holds from one author. */
export interface FeedHead {
  readonly seq: number
  /** Its link hash (signature included), which the next event must name as `prev`. */
  readonly link: Uint8Array
  readonly lamport: number
}

export type Placement =
  /** The next event of the feed: append it. */
  | { readonly kind: 'next' }
  /** Events between are missing: pull from `have + 1` first. */
  | { readonly kind: 'gap', readonly have: number }
  /** At or below the head: compare with the held event (see `judgeHeld`). */
  | { readonly kind: 'held' }

/** Where `hashed` falls in its author's feed, or why it cannot follow the head. */
export function place (head: FeedHead | undefined, hashed: HashedEvent): Placement {
  const { event } = hashed
  const have = head?.seq ?? 0
  if (event.seq <= have) return { kind: 'held' }
  if (event.seq > have + 1) return { kind: 'gap', have }
  const ref = { author: event.author, seq: event.seq }
  if (head !== undefined) {
    if (event.prev === null || !equalBytes(event.prev, head.link)) {
      throw new BrokenChainError(`prev does not name the hash of seq ${head.seq}`, ref)
    }
    if (event.lamport <= head.lamport) {
      throw new BrokenChainError(`lamport ${event.lamport} does not exceed ${head.lamport} of seq ${head.seq}`, ref)
    }
  }
  return { kind: 'next' }
}

/**
 * An event at or below the head is a replay when identical to the held one (same link,
 * signature included); otherwise, once `verify` vouches that its author signed it, a fork.
 */
export function judgeHeld (heldLink: Uint8Array, hashed: HashedEvent, verify: (hashed: HashedEvent) => unknown): never {
  const ref = { author: hashed.event.author, seq: hashed.event.seq }
  if (equalBytes(heldLink, hashed.link)) throw new ReplayedEventError(ref)
  verify(hashed)
  throw new ForkedFeedError(ref)
}

export function headOf (hashed: HashedEvent): FeedHead {
  return { seq: hashed.event.seq, link: hashed.link, lamport: hashed.event.lamport }
}

/**
 * The writer's next event: one past its head, and one past every Lamport clock it has
 * seen, so its facts order after everything it knew when writing them.
 */
export function draftNext (
  author: string,
  head: FeedHead | undefined,
  highestLamportSeen: number,
  wallTime: number,
  body: EventBody
): UnsignedEvent {
  return {
    v: ENVELOPE_VERSION,
    author,
    seq: (head?.seq ?? 0) + 1,
    prev: head?.link ?? null,
    lamport: Math.max(head?.lamport ?? 0, highestLamportSeen) + 1,
    wallTime: Math.max(0, Math.floor(wallTime)),
    body
  }
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
