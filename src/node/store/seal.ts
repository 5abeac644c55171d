/**
 * Sealed values: canonical CBOR behind its own sha256. LevelDB checks its blocks, but not
 * that a value is one this store wrote; the seal does, so damaged or foreign bytes are
 * refused before they are decoded.
 */
import { sha256 } from '../../protocol/encoding.js'
import { equalBytes } from '../../protocol/feed.js'
import { decodeStored } from '../../protocol/stored-cbor.js'

const DIGEST_BYTES = 32

export function seal (encoded: Uint8Array): Uint8Array {
  const sealed = new Uint8Array(DIGEST_BYTES + encoded.length)
  sealed.set(sha256(encoded), 0)
  sealed.set(encoded, DIGEST_BYTES)
  return sealed
}

/** The decoded value; throws when the digest does not match or the CBOR is bad. */
export function openSeal (sealed: Uint8Array): unknown {
  if (sealed.length < DIGEST_BYTES) throw new Error(`value of ${sealed.length} bytes is shorter than its seal`)
  const encoded = sealed.subarray(DIGEST_BYTES)
  if (!equalBytes(sealed.subarray(0, DIGEST_BYTES), sha256(encoded))) throw new Error('seal does not match the value')
  // The digest vouches for the bytes: they are what seal() was given, canonical CBOR.
  return decodeStored(encoded)
}
