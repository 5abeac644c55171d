/**
 * An event's two hashes from its canonical signed encoding, encoded once. The link is the
 * sha256 of those bytes. The content hash (hashUnsigned: what the signature covers, the
 * event's id) is the sha256 of the unsigned envelope, and canonical CBOR, which sorts a
 * map's keys shortest first, lays a signed event out as: a map of 8 entries, "v" and its
 * uint, "seq" and its uint, "sig" and its 64 bytes, then the rest. The unsigned envelope is
 * those bytes as a map of 7 without the "sig" entry, so it is hashed from them rather than
 * encoded a second time, which is most of what hashing an event costs. Bytes laid out any
 * other way (another envelope version) are hashed the general way.
 */
import { hashUnsigned, MAX_EVENT_BYTES, sha256 } from './encoding.js'
import type { SignedEvent } from './events.js'

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

/** What hashUnsigned(event) gives, from `encoded`: the canonical encoding of the signed `event`. */
export function unsignedHashOfEncoded (event: SignedEvent, encoded: Uint8Array): Uint8Array {
  const sigAt = sigEntryAt(encoded)
  if (sigAt === null || encoded.length > envelope.length) return hashUnsigned(event)
  envelope.set(encoded.subarray(0, sigAt))
  envelope[0] = UNSIGNED_MAP
  envelope.set(encoded.subarray(sigAt + SIG_ENTRY_BYTES), sigAt)
  return sha256(envelope.subarray(0, encoded.length - SIG_ENTRY_BYTES))
}

/** Both hashes of the signed `event` from its canonical encoding `encoded`. */
export function hashesOfEncoded (event: SignedEvent, encoded: Uint8Array): { readonly hash: Uint8Array, readonly link: Uint8Array } {
  return { hash: unsignedHashOfEncoded(event, encoded), link: sha256(encoded) }
}
