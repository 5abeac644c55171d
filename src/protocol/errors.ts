/**
 * Why the log refuses an event. Every refusal is one of these classes, with a stable
 * `name`, a machine-readable `reason`, and the context a person needs to act on it: the
 * author and seq where known, the field and why for invalid content.
 */

export interface EventRef {
  readonly author: string
  readonly seq: number
}

/** Base class: the event was refused and changed nothing. */
export abstract class EventRejectedError extends Error {
  abstract readonly reason: RejectionReason
  readonly ref: EventRef | undefined

  protected constructor (message: string, ref?: EventRef) {
    super(ref === undefined ? message : `${message} (event ${ref.author}#${ref.seq})`)
    this.ref = ref
  }
}

export type RejectionReason =
  | 'malformed'
  | 'oversized'
  | 'invalid'
  | 'forged'
  | 'broken-chain'
  | 'replayed'
  | 'forked'
  | 'clock-ahead'

/** The bytes are not an event at all: not CBOR, or not an event's shape. */
export class MalformedEventError extends EventRejectedError {
  override readonly name = 'MalformedEventError'
  readonly reason = 'malformed'
  constructor (detail: string) {
    super(`malformed event: ${detail}`)
  }
}

/** The bytes exceed the wire limit; refused before any decoding. */
export class OversizedEventError extends EventRejectedError {
  override readonly name = 'OversizedEventError'
  readonly reason = 'oversized'
  constructor (readonly bytes: number, readonly limit: number) {
    super(`event of ${bytes} bytes exceeds the ${limit}-byte limit`)
  }
}

/** Well-formed, but a field breaks the farm's rules (frame end before start, priority 120...). */
export class InvalidEventError extends EventRejectedError {
  override readonly name = 'InvalidEventError'
  readonly reason = 'invalid'
  constructor (readonly field: string, readonly why: string, ref?: EventRef) {
    super(`invalid ${field}: ${why}`, ref)
  }
}

/** The signature does not verify against the author's key, or the id does not match the content. */
export class ForgedEventError extends EventRejectedError {
  override readonly name = 'ForgedEventError'
  readonly reason = 'forged'
  constructor (why: string, ref: EventRef) {
    super(`forged event: ${why}`, ref)
  }
}

/** The event does not follow its author's previous event (wrong prev hash or lamport). */
export class BrokenChainError extends EventRejectedError {
  override readonly name = 'BrokenChainError'
  readonly reason = 'broken-chain'
  constructor (why: string, ref: EventRef) {
    super(`broken chain: ${why}`, ref)
  }
}

/** The log already holds exactly this event. */
export class ReplayedEventError extends EventRejectedError {
  override readonly name = 'ReplayedEventError'
  readonly reason = 'replayed'
  constructor (ref: EventRef) {
    super('replayed event: already held', ref)
  }
}

/** The author signed two different events with one seq: its key is misused or its disk was restored. */
export class ForkedFeedError extends EventRejectedError {
  override readonly name = 'ForkedFeedError'
  readonly reason = 'forked'
  constructor (ref: EventRef) {
    super('forked feed: a different event with this seq is already held', ref)
  }
}

/**
 * The event's clock runs further ahead of this peer's wall clock than any honest peer's
 * can (see feed.ts): refused for now. Once this peer's clock catches up, a later pull
 * takes it in, so an honest peer with a skewed clock is delayed, never cut off.
 */
export class ClockAheadError extends EventRejectedError {
  override readonly name = 'ClockAheadError'
  readonly reason = 'clock-ahead'
  constructor (readonly aheadMs: number, readonly limitMs: number, ref: EventRef) {
    super(`clock ahead: the event's clock runs ${Math.round(aheadMs / 1000)} s ahead of this peer's, beyond the ${Math.round(limitMs / 60_000)} min allowed (check both machines' clocks)`, ref)
  }
}
