/**
 * Per-author feeds: each author's events form a hash chain, seq 1, 2, 3 ... each naming
 * the hash of the one before, with a Lamport clock that only grows. This module decides
 * where a verified event falls against what a peer holds, and drafts a writer's next event.
 */
import { BrokenChainError, ClockAheadError, ForkedFeedError, ReplayedEventError } from './errors.js'
import type { EventBody, HashedEvent, UnsignedEvent } from './events.js'
import { ENVELOPE_VERSION } from './schemas.js'

/**
 * The `lamport` field is a hybrid logical clock: a Lamport clock that never falls behind
 * the author's wall clock, counted in these ticks per millisecond. Causal order is kept
 * (every event exceeds what its author saw), and because the clock tracks real time, a
 * peer can bound how far ahead of its own clock an event may run: no event can drag the
 * farm's clocks towards their limit, nor make an honest writer's next event one that
 * peers refuse. A thousand ticks a millisecond keeps the clock on the wall clock at any
 * rate a farm writes, and within 2^53 until the year 2255.
 */
export const CLOCK_TICKS_PER_MS = 1_000
/**
 * How far ahead of a receiver's wall clock an event's clock may run. A peer whose clock
 * is off by minutes still takes part; beyond this its events wait (they are refused for
 * now and pulled again later) until the receiver's clock catches up.
 */
export const MAX_CLOCK_AHEAD_MS = 60 * 60 * 1_000

/** The highest clock a peer whose wall clock reads `nowMs` accepts. */
export function clockLimit (nowMs: number): number {
  return (Math.max(0, Math.floor(nowMs)) + MAX_CLOCK_AHEAD_MS + 1) * CLOCK_TICKS_PER_MS - 1
}

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

/**
 * Where `hashed` falls in its author's feed, or why it cannot follow the head; `nowMs` is
 * the receiver's wall clock, which the event's clock may not run far ahead of.
 */
export function place (head: FeedHead | undefined, hashed: HashedEvent, nowMs: number): Placement {
  const { event } = hashed
  const have = head?.seq ?? 0
  if (event.seq <= have) return { kind: 'held' }
  if (event.seq > have + 1) return { kind: 'gap', have }
  const ref = { author: event.author, seq: event.seq }
  if (event.lamport > clockLimit(nowMs)) {
    throw new ClockAheadError(Math.ceil(event.lamport / CLOCK_TICKS_PER_MS - nowMs), MAX_CLOCK_AHEAD_MS, ref)
  }
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
 * The writer's next event: one past its head, one past every clock it has seen (so its
 * facts order after everything it knew when writing them), and at least its wall clock.
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
    lamport: Math.max(Math.max(head?.lamport ?? 0, highestLamportSeen) + 1, Math.max(0, Math.floor(wallTime)) * CLOCK_TICKS_PER_MS),
    wallTime: Math.max(0, Math.floor(wallTime)),
    body
  }
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
