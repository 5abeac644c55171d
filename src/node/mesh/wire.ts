/**
 * Frames of the sync protocol (sync.ts), as canonical CBOR checked against zod schemas.
 * Everything a peer sends is untrusted: a frame that does not decode or does not fit
 * its schema is a protocol offence, named with the peer.
 *
 *   puller                                server
 *     pull {vv, window, limits}   ->
 *                                 <-   have {vv}
 *                                 <-   events [...]   (at most `window` ahead)
 *     credit {n}                  ->
 *                                 <-   events [...]
 *                                 <-   done
 */
import { z } from 'zod'
import { decodeCanonical, encodeCanonical, MAX_EVENT_BYTES } from '../../protocol/encoding.js'
import { peerIdSchema } from '../../protocol/schemas.js'
import { SyncProtocolError } from './errors.js'

/** A version vector with this many authors is about 3 MB: far beyond any studio. */
export const MAX_VECTOR_AUTHORS = 50_000
/** Largest control frame (pull, have): a full version vector. */
export const MAX_CONTROL_FRAME_BYTES = 4 * 1024 * 1024
export const MAX_WINDOW_BATCHES = 64
export const MAX_BATCH_EVENTS = 10_000
/** CBOR framing of an events frame beyond its events: the map, its keys, the array header. */
export const BATCH_FRAME_OVERHEAD_BYTES = 64
/** CBOR header of one event inside an events frame (a byte string of up to 4 GiB). */
export const BATCH_EVENT_OVERHEAD_BYTES = 5
/** A batch must fit the largest event, or that event could never be pulled. */
export const MIN_BATCH_BYTES = MAX_EVENT_BYTES + BATCH_FRAME_OVERHEAD_BYTES + BATCH_EVENT_OVERHEAD_BYTES
export const MAX_BATCH_BYTES = 16 * 1024 * 1024

const seqSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER)

const versionVectorSchema = z.record(peerIdSchema, seqSchema)
  .refine((vector) => Object.keys(vector).length <= MAX_VECTOR_AUTHORS, { error: `more than ${MAX_VECTOR_AUTHORS} authors` })

const bytesSchema = z.custom<Uint8Array>((value) => value instanceof Uint8Array, { error: 'must be bytes' })

const pullFrameSchema = z.strictObject({
  t: z.literal('pull'),
  vv: versionVectorSchema,
  /** Batches the server may send before the next credit. */
  window: z.int().min(1).max(MAX_WINDOW_BATCHES),
  maxBatchEvents: z.int().min(1).max(MAX_BATCH_EVENTS),
  maxBatchBytes: z.int().min(MIN_BATCH_BYTES).max(MAX_BATCH_BYTES),
  /** Events the server may send in this session; the puller asks again for more. */
  maxEvents: z.int().min(1).max(Number.MAX_SAFE_INTEGER)
})

const haveFrameSchema = z.strictObject({ t: z.literal('have'), vv: versionVectorSchema })
const eventsFrameSchema = z.strictObject({ t: z.literal('events'), events: z.array(bytesSchema).min(1).max(MAX_BATCH_EVENTS) })
const creditFrameSchema = z.strictObject({ t: z.literal('credit'), n: z.int().min(1).max(MAX_WINDOW_BATCHES) })
const doneFrameSchema = z.strictObject({ t: z.literal('done') })

/** What a server reads. */
const toServerSchema = z.discriminatedUnion('t', [pullFrameSchema, creditFrameSchema])
/** What a puller reads. */
const toPullerSchema = z.discriminatedUnion('t', [haveFrameSchema, eventsFrameSchema, doneFrameSchema])

export type PullFrame = z.infer<typeof pullFrameSchema>
export type ToServerFrame = z.infer<typeof toServerSchema>
export type ToPullerFrame = z.infer<typeof toPullerSchema>
export type SyncFrame = ToServerFrame | ToPullerFrame

export function encodeFrame (frame: SyncFrame): Uint8Array {
  return encodeCanonical(frame)
}

export function decodeToServer (bytes: Uint8Array, peer: string): ToServerFrame {
  return decodeAs(toServerSchema, bytes, (why) => new SyncProtocolError(peer, `bad frame: ${why}`))
}

export function decodeToPuller (bytes: Uint8Array, peer: string): ToPullerFrame {
  return decodeAs(toPullerSchema, bytes, (why) => new SyncProtocolError(peer, `bad frame: ${why}`))
}

/**
 * A message of the mesh checked against `schema` and a size limit on the way out, so we
 * never send what a peer would refuse; `refuse` turns the reason into the caller's typed error.
 */
export function encodeAs<T> (schema: z.ZodType<T>, message: T, maxBytes: number, refuse: (why: string) => Error): Uint8Array {
  const parsed = schema.safeParse(message)
  if (!parsed.success) throw refuse(describeIssue(parsed.error))
  const bytes = encodeCanonical(parsed.data)
  if (bytes.length > maxBytes) throw refuse(`${bytes.length} bytes exceeds ${maxBytes}`)
  return bytes
}

/**
 * Canonical CBOR checked against `schema`, for any untrusted message of the mesh;
 * `refuse` turns the reason into the caller's typed error.
 */
export function decodeAs<T> (schema: z.ZodType<T>, bytes: Uint8Array, refuse: (why: string) => Error): T {
  let raw: unknown
  try {
    raw = decodeCanonical(bytes)
  } catch (error) {
    throw refuse(`not canonical CBOR (${(error as Error).message})`)
  }
  const parsed = schema.safeParse(raw)
  if (parsed.success) return parsed.data
  throw refuse(describeIssue(parsed.error))
}

/** The first issue of a failed parse, with where it is: `vv.12D3...: must be a whole number`. */
export function describeIssue (error: z.ZodError): string {
  const [issue] = error.issues
  const where = issue === undefined || issue.path.length === 0 ? 'message' : issue.path.map(String).join('.')
  return `${where}: ${issue?.message ?? 'rejected'}`
}
