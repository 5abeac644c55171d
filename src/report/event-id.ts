/**
 * An event's id hashed straight from its stored bytes, which are its canonical encoding
 * (protocol/encoded-hashes.ts), so that a full export does not encode a million events again.
 */
import { toHex } from '../protocol/encoding.js'
import { unsignedHashOfEncoded } from '../protocol/encoded-hashes.js'
import type { VerifiedEvent } from '../protocol/events.js'
import type { StoredEvent } from '../node/store/event-store.js'

/** A stored event as the reducer and the report rows take it: vouched for by its chain, which the store checked. */
export function verifiedFromStore ({ event, bytes, link }: StoredEvent): VerifiedEvent {
  const hash = unsignedHashOfEncoded(event, bytes)
  return { event, hash, id: toHex(hash), link, authenticated: 'chain' }
}
