/**
 * Ed25519 signatures with the peer's libp2p key. An author is its peer id; an Ed25519
 * peer id inlines the public key, so any peer can verify any event with nothing else.
 * Keys are turned into node:crypto KeyObjects once and kept: building one per signature,
 * as the libp2p key classes do, costs more than the signature itself.
 */
import { createPrivateKey, createPublicKey, sign as signBytes, verify as verifyBytes, type KeyObject } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ForgedEventError } from './errors.js'
import type { HashedEvent, SignedEvent, UnsignedEvent, VerifiedEvent } from './events.js'
import { hashesOfEncoded } from './encoded-hashes.js'
import { encodeEvent, hashUnsigned, linkHash, toHex } from './encoding.js'

/** What a writer needs of its identity: a name and a way to sign. */
export interface Signer {
  readonly author: string
  sign: (hash: Uint8Array) => Uint8Array
}

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')

export function signerFromKey (key: PrivateKey): Signer {
  if (key.type !== 'Ed25519') throw new TypeError(`event authors sign with Ed25519 keys, not ${key.type}`)
  // libp2p's raw Ed25519 private key is the 32-byte seed followed by the public key.
  const keyObject = createPrivateKey({
    format: 'jwk',
    key: { kty: 'OKP', crv: 'Ed25519', d: base64url(key.raw.subarray(0, 32)), x: base64url(key.publicKey.raw) }
  })
  return {
    author: peerIdFromPrivateKey(key).toString(),
    sign: (hash) => new Uint8Array(signBytes(null, hash, keyObject))
  }
}

export function signEvent (unsigned: UnsignedEvent, signer: Signer): VerifiedEvent {
  if (unsigned.author !== signer.author) {
    throw new TypeError(`cannot sign as ${unsigned.author} with the key of ${signer.author}`)
  }
  const hash = hashUnsigned(unsigned)
  const event = { ...unsigned, sig: signer.sign(hash) }
  return { event, hash, id: toHex(hash), link: linkHash(event), authenticated: 'signature' }
}

/** Both hashes of a decoded event; says nothing yet about who wrote it. */
export function hashEvent (event: SignedEvent): HashedEvent {
  return hashEncoded(event, encodeEvent(event))
}

/** Both hashes of `event` from `encoded`, its canonical encoding (encodeEvent), which is encoded once. */
export function hashEncoded (event: SignedEvent, encoded: Uint8Array): HashedEvent {
  const { hash, link } = hashesOfEncoded(event, encoded)
  return { event, hash, id: toHex(hash), link }
}

/** Memo of authors' keys: parsing a peer id costs more than verifying a signature. */
const publicKeys = new Map<string, KeyObject>()
const PUBLIC_KEY_MEMO_LIMIT = 10_000

function ed25519KeyOf (author: string): Uint8Array | undefined {
  try {
    const peerId = peerIdFromString(author)
    return peerId.type === 'Ed25519' ? peerId.publicKey.raw : undefined
  } catch {
    // Not a peer id at all: no key, which the caller refuses with the event's context.
    return undefined
  }
}

function publicKeyOf (author: string, seq: number): KeyObject {
  const memo = publicKeys.get(author)
  if (memo !== undefined) return memo
  const raw = ed25519KeyOf(author)
  if (raw === undefined) throw new ForgedEventError('author is not an Ed25519 peer id', { author, seq })
  const key = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: base64url(raw) } })
  if (publicKeys.size >= PUBLIC_KEY_MEMO_LIMIT) publicKeys.clear()
  publicKeys.set(author, key)
  return key
}

/** Checks that the author signed exactly this content. Throws ForgedEventError. */
export function verifySignature (hashed: HashedEvent): VerifiedEvent {
  const { event } = hashed
  const key = publicKeyOf(event.author, event.seq)
  if (!verifyBytes(null, hashed.hash, key, event.sig)) {
    throw new ForgedEventError('signature does not match the author and content', { author: event.author, seq: event.seq })
  }
  return { ...hashed, authenticated: 'signature' }
}

/** Hashes and verifies one event on its own signature. */
export function verifyEvent (event: SignedEvent): VerifiedEvent {
  return verifySignature(hashEvent(event))
}

/**
 * Accepts an event on the word of a later event of its author whose signature verified
 * and whose `prev` links lead back to it. The caller must have checked those links.
 */
export function vouchedByChain (hashed: HashedEvent): VerifiedEvent {
  return { ...hashed, authenticated: 'chain' }
}
