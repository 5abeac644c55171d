/**
 * Bytes in and out. Events travel and rest as canonical CBOR (sorted map keys, minimal
 * integers), so one event has exactly one encoding and its hash is the same everywhere.
 * Decoding is the trust boundary: size first, then CBOR, then the schema.
 */
import { hash } from 'node:crypto'
import { decode, encode } from 'cborg'
import type { z } from 'zod'
import { InvalidEventError, MalformedEventError, OversizedEventError, type EventRef } from './errors.js'
import type { EventBody, JobFields, SignedEvent, UnsignedEvent } from './events.js'
import { jobIdFor } from './job-id.js'
import { eventBodySchema, jobFieldsSchema, signedEventSchema } from './schemas.js'

/** The largest event on the wire or on disk. Output tails are capped well below it. */
export const MAX_EVENT_BYTES = 64 * 1024

const DECODE_OPTIONS = {
  strict: true,
  rejectDuplicateMapKeys: true,
  allowUndefined: false,
  allowIndefinite: false,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: false
} as const

/** Canonical CBOR of any plain value (used for events, records and state hashes). */
export function encodeCanonical (value: unknown): Uint8Array {
  return encode(value)
}

/** Decodes canonical CBOR written by `encodeCanonical`, refusing anything ambiguous. */
export function decodeCanonical (bytes: Uint8Array): unknown {
  return decode(bytes, DECODE_OPTIONS)
}

const SHA256_BYTES = 32

/**
 * A plain Uint8Array, not a Buffer: hashes are compared and re-encoded as bytes. The
 * digest comes out as a binary (latin1) string, one character a byte, copied into a small array
 * that V8 keeps on its own heap: a Buffer digest costs an ArrayBuffer of its own, which
 * made hashing an event some three times as dear (a report or a catch-up hashes millions).
 */
export function sha256 (bytes: Uint8Array): Uint8Array {
  const digest = hash('sha256', bytes, 'binary')
  const out = new Uint8Array(SHA256_BYTES)
  for (let index = 0; index < SHA256_BYTES; index++) out[index] = digest.charCodeAt(index)
  return out
}

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** The content hash of an event: what its signature covers and what the next event's `prev` names. */
export function hashUnsigned (event: UnsignedEvent): Uint8Array {
  const { v, author, seq, prev, lamport, wallTime, body } = event
  return sha256(encodeCanonical({ v, author, seq, prev, lamport, wallTime, body }))
}

export function encodeEvent (event: SignedEvent): Uint8Array {
  return encodeCanonical(event)
}

/** The hash of the whole signed event: what the next event of the feed names as `prev`. */
export function linkHash (event: SignedEvent): Uint8Array {
  return sha256(encodeEvent(event))
}

/**
 * Parses untrusted bytes into a well-formed event. Checks size, CBOR and every field;
 * does not check the signature or the chain (see signing.ts and feed.ts).
 */
export function decodeEvent (bytes: Uint8Array): SignedEvent {
  if (bytes.length > MAX_EVENT_BYTES) throw new OversizedEventError(bytes.length, MAX_EVENT_BYTES)
  let raw: unknown
  try {
    raw = decodeCanonical(bytes)
  } catch (error) {
    throw new MalformedEventError(`not canonical CBOR (${(error as Error).message})`)
  }
  const parsed = signedEventSchema.safeParse(raw)
  if (parsed.success) return checkJobId(parsed.data)
  const issue = firstIssue(parsed.error)
  if (issue.path[0] === 'body') {
    throw new InvalidEventError(fieldName(issue.path.slice(1)), issue.message, refOf(raw))
  }
  throw new MalformedEventError(`${fieldName(issue.path)}: ${issue.message}`)
}

/** Validates a body a local writer is about to sign. */
export function validateBody (input: unknown): EventBody {
  return parseOrThrow(eventBodySchema, input)
}

/** Validates a job as a person or a script submitted it (its id comes with its submit event). */
export function validateJobFields (input: unknown): JobFields {
  return parseOrThrow(jobFieldsSchema, input)
}

/** A submitted job's id must be the one its event's feed position gives (job-id.ts). */
function checkJobId (event: SignedEvent): SignedEvent {
  if (event.body.type !== 'job.submitted') return event
  const expected = jobIdFor(event.author, event.seq)
  if (event.body.job.id !== expected) {
    throw new InvalidEventError('job.id', `must be ${expected}, derived from the submit event's author and seq`, { author: event.author, seq: event.seq })
  }
  return event
}

function parseOrThrow<T> (schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input)
  if (parsed.success) return parsed.data
  const issue = firstIssue(parsed.error)
  throw new InvalidEventError(fieldName(issue.path), issue.message)
}

function firstIssue (error: z.ZodError): z.core.$ZodIssue {
  const [issue] = error.issues
  if (issue === undefined) throw new MalformedEventError('rejected without a reason')
  // A union failure nests the real reason; surface the innermost one.
  if (issue.code === 'invalid_union' && issue.errors[0]?.[0] !== undefined) {
    const inner = issue.errors[0][0]
    return { ...inner, path: [...issue.path, ...inner.path] }
  }
  return issue
}

function fieldName (path: readonly PropertyKey[]): string {
  return path.length === 0 ? 'event' : path.map(String).join('.')
}

function refOf (raw: unknown): EventRef | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const { author, seq } = raw as { author?: unknown, seq?: unknown }
  return typeof author === 'string' && typeof seq === 'number' ? { author, seq } : undefined
}
