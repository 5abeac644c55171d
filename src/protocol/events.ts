/**
 * The durable facts of the farm, as types inferred from schemas.ts. Bodies say what
 * happened; the signed envelope says who said it, where in their feed, and when.
 */
import type { z } from 'zod'
import type { eventBodySchema, jobChangesSchema, jobSpecSchema, nodeChangesSchema, signedEventSchema } from './schemas.js'

export type JobSpec = z.infer<typeof jobSpecSchema>
export type JobChanges = z.infer<typeof jobChangesSchema>
export type NodeChanges = z.infer<typeof nodeChangesSchema>
export type EventBody = z.infer<typeof eventBodySchema>
export type EventType = EventBody['type']
export type BodyOf<T extends EventType> = Extract<EventBody, { type: T }>

/** A body whose subject is one block of one job. */
export type BlockEventBody = BodyOf<'block.claimed' | 'block.started' | 'block.finished' | 'block.failed' | 'block.released'>

export type SignedEvent = z.infer<typeof signedEventSchema>

/** The envelope without its signature: exactly what the author signs (by hash). */
export type UnsignedEvent = Omit<SignedEvent, 'sig'>

/** An event that passed every check, with its content hash. Only these reach the reducer. */
export interface VerifiedEvent {
  readonly event: SignedEvent
  /** sha256 of the canonical unsigned envelope, lower-case hex. */
  readonly id: string
  readonly hash: Uint8Array
}
