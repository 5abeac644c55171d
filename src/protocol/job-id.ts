/**
 * A job's id is not chosen by its submitter: it is derived from where its submit event
 * sits in its author's feed. An (author, seq) pair names exactly one event (a second
 * event with the same pair is a fork, refused everywhere), so no later event, from the
 * same author or anyone else, can submit an existing id and replace the job's spec.
 * The id cannot be the submit event's own hash, which covers the id; its feed position
 * is the same kind of name and is known before signing.
 */
import { createHash } from 'node:crypto'

/** The id of the job submitted by `author`'s event number `seq`, as a UUID (RFC 9562 version 8). */
export function jobIdFor (author: string, seq: number): string {
  const digest = createHash('sha256').update(`constellation/job/${author}/${seq}`).digest().subarray(0, 16)
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x80
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80
  const hex = digest.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
