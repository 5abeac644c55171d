/**
 * The durable facts of the farm, as types inferred from schemas.ts. Bodies say what
 * happened; the signed envelope says who said it, where in their feed, and when.
 */
import type { z } from 'zod'
import type { eventBodySchema, jobChangesSchema, jobFieldsSchema, jobSpecSchema, nodeChangesSchema, signedEventSchema } from './schemas.js'

/** A job as its submit event carries it, id included. */
export type JobSpec = z.infer<typeof jobSpecSchema>
/** A job as submitted, before its submit event gives it an id. */
export type JobFields = z.infer<typeof jobFieldsSchema>
export type JobChanges = z.infer<typeof jobChangesSchema>
export type NodeChanges = z.infer<typeof nodeChangesSchema>
export type EventBody = z.infer<typeof eventBodySchema>
export type EventType = EventBody['type']
export type BodyOf<T extends EventType> = Extract<EventBody, { type: T }>

/**
 * What a local writer drafts: any body, except that a submission leaves out the job's id,
 * which the draft derives from the event's place in the feed.
 */
export type DraftBody = Exclude<EventBody, { type: 'job.submitted' }> | { readonly type: 'job.submitted', readonly job: JobFields }

/** A body whose subject is one block of one job. */
export type BlockEventBody = BodyOf<'block.claimed' | 'block.started' | 'block.finished' | 'block.failed' | 'block.released'>

export type SignedEvent = z.infer<typeof signedEventSchema>

/** The envelope without its signature: exactly what the author signs (by hash). */
export type UnsignedEvent = Omit<SignedEvent, 'sig'>

/** A well-formed event with its two hashes, not yet authenticated. */
export interface HashedEvent {
  readonly event: SignedEvent
  /** sha256 of the canonical unsigned envelope, lower-case hex: the event's id. */
  readonly id: string
  /** sha256 of the canonical unsigned envelope: what the signature covers. */
  readonly hash: Uint8Array
  /**
   * sha256 of the whole signed event, signature included: what the next event's `prev`
   * names. Because the link covers the signature, a valid signature on the newest event
   * of a run vouches for every event and signature before it in the chain.
   */
  readonly link: Uint8Array
}

/**
 * An event that passed every check: by its own signature, or by the chain up to a later
 * event whose signature verified. Only these reach the reducer.
 */
export interface VerifiedEvent extends HashedEvent {
  readonly authenticated: 'signature' | 'chain'
}
