/**
 * Ed25519 signatures with the peer's libp2p key. An author is its peer id; an Ed25519
 * peer id inlines the public key, so any peer can verify any event with nothing else.
 */
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ForgedEventError } from './errors.js'
import type { SignedEvent, UnsignedEvent, VerifiedEvent } from './events.js'
import { hashUnsigned, toHex } from './encoding.js'

/** What a writer needs of its identity: a name and a way to sign. */
export interface Signer {
  readonly author: string
  sign: (hash: Uint8Array) => Uint8Array
}

export function signerFromKey (key: PrivateKey): Signer {
  if (key.type !== 'Ed25519') throw new TypeError(`event authors sign with Ed25519 keys, not ${key.type}`)
  return {
    author: peerIdFromPrivateKey(key).toString(),
    sign: (hash) => {
      const signature = key.sign(hash)
      if (signature instanceof Promise) throw new TypeError('Ed25519 signing is expected to be synchronous')
      return signature
    }
  }
}

export function signEvent (unsigned: UnsignedEvent, signer: Signer): VerifiedEvent {
  if (unsigned.author !== signer.author) {
    throw new TypeError(`cannot sign as ${unsigned.author} with the key of ${signer.author}`)
  }
  const hash = hashUnsigned(unsigned)
  return { event: { ...unsigned, sig: signer.sign(hash) }, hash, id: toHex(hash) }
}

/** Memo of parsed public keys: parsing a peer id costs more than verifying a signature. */
const publicKeys = new Map<string, PublicKey>()
const PUBLIC_KEY_MEMO_LIMIT = 10_000

function publicKeyOf (author: string, seq: number): PublicKey {
  const memo = publicKeys.get(author)
  if (memo !== undefined) return memo
  let key: PublicKey | undefined
  try {
    const peerId = peerIdFromString(author)
    key = peerId.type === 'Ed25519' ? peerId.publicKey : undefined
  } catch {
    key = undefined
  }
  if (key === undefined) throw new ForgedEventError('author is not an Ed25519 peer id', { author, seq })
  if (publicKeys.size >= PUBLIC_KEY_MEMO_LIMIT) publicKeys.clear()
  publicKeys.set(author, key)
  return key
}

/** Checks that the author signed exactly this content; returns it with its hash. */
export function verifyEvent (event: SignedEvent): VerifiedEvent {
  const ref = { author: event.author, seq: event.seq }
  const key = publicKeyOf(event.author, event.seq)
  const hash = hashUnsigned(event)
  const valid = key.verify(hash, event.sig)
  if (valid instanceof Promise) throw new TypeError('Ed25519 verification is expected to be synchronous')
  if (!valid) throw new ForgedEventError('signature does not match the author and content', ref)
  return { event, hash, id: toHex(hash) }
}
