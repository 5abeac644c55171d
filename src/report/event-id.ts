/**
 * An event's id (the sha256 of its canonical unsigned envelope, see hashUnsigned) hashed
 * straight from its stored bytes, which are its canonical encoding. Canonical CBOR sorts a
 * map's keys shortest first, so a signed event's bytes are: a map of 8 entries, "v" and
 * its uint, "seq" and its uint, "sig" and its 64 bytes, then the rest. The unsigned
 * envelope is those bytes as a map of 7 without the "sig" entry. Hashing that skips
 * re-encoding the event, which is most of what hashing a million events costs. Bytes laid
 * out any other way (another envelope version) are hashed the general way.
 */
import { hash as digest } from 'node:crypto'
import { hashUnsigned, MAX_EVENT_BYTES, toHex } from '../protocol/encoding.js'
import type { VerifiedEvent } from '../protocol/events.js'
import type { StoredEvent } from '../node/store/event-store.js'

const SIGNED_MAP = 0xa8
const UNSIGNED_MAP = 0xa7
const V_KEY = [0x61, 0x76]
const SEQ_KEY = [0x63, 0x73, 0x65, 0x71]
/** "sig", then the head of a 64-byte byte string. */
const SIG_HEAD = [0x63, 0x73, 0x69, 0x67, 0x58, 0x40]
const SIG_ENTRY_BYTES = SIG_HEAD.length + 64

function matchesAt (bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  for (let index = 0; index < expected.length; index++) if (bytes[at + index] !== expected[index]) return false
  return true
}

/**
 * Where the unsigned envelope is laid out to be hashed: one buffer for every event, since
 * an allocation per event (an ArrayBuffer each) costs more than the hash. No event is larger.
 */
const envelope = new Uint8Array(MAX_EVENT_BYTES)

/** Bytes of the unsigned integer whose head is `head` (CBOR major type 0), or null for anything else. */
function uintBytes (head: number | undefined): number | null {
  if (head === undefined || head >> 5 !== 0) return null
  const info = head & 0x1f
  if (info < 24) return 1
  return info <= 27 ? 1 + 2 ** (info - 24) : null
}

/** Where the "sig" entry starts, or null when the bytes are not laid out as the module header says. */
function sigEntryAt (bytes: Uint8Array): number | null {
  if (bytes[0] !== SIGNED_MAP || !matchesAt(bytes, 1, V_KEY)) return null
  const vBytes = uintBytes(bytes[1 + V_KEY.length])
  if (vBytes === null) return null
  const seqAt = 1 + V_KEY.length + vBytes
  if (!matchesAt(bytes, seqAt, SEQ_KEY)) return null
  const seqBytes = uintBytes(bytes[seqAt + SEQ_KEY.length])
  if (seqBytes === null) return null
  const sigAt = seqAt + SEQ_KEY.length + seqBytes
  return matchesAt(bytes, sigAt, SIG_HEAD) && bytes.length >= sigAt + SIG_ENTRY_BYTES ? sigAt : null
}

/** What hashUnsigned(stored.event) gives, without encoding the event again. */
export function storedEventHash ({ event, bytes }: StoredEvent): Uint8Array {
  const sigAt = sigEntryAt(bytes)
  if (sigAt === null) return hashUnsigned(event)
  if (bytes.length > envelope.length) return hashUnsigned(event)
  envelope.set(bytes.subarray(0, sigAt))
  envelope[0] = UNSIGNED_MAP
  envelope.set(bytes.subarray(sigAt + SIG_ENTRY_BYTES), sigAt)
  return digest('sha256', envelope.subarray(0, bytes.length - SIG_ENTRY_BYTES), 'buffer')
}

/** A stored event as the reducer and the report rows take it: vouched for by its chain, which the store checked. */
export function verifiedFromStore (stored: StoredEvent): VerifiedEvent {
  const hash = storedEventHash(stored)
  return { event: stored.event, hash, id: toHex(hash), link: stored.link, authenticated: 'chain' }
}
