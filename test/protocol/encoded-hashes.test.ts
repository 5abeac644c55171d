/**
 * Hashing an event from its one canonical encoding gives the very hashes of hashing it the
 * general way (encoding its unsigned envelope, then the signed event), whatever the width
 * of its seq, and bytes laid out otherwise fall back to the general way.
 */
import test from 'ava'
import { hashesOfEncoded, unsignedHashOfEncoded } from '../../src/protocol/encoded-hashes.js'
import { decodeCanonical, encodeEvent, hashUnsigned, linkHash, toHex } from '../../src/protocol/encoding.js'
import type { SignedEvent } from '../../src/protocol/events.js'
import { Replica } from '../../src/protocol/replica.js'
import { jobSpec, makeSigners } from '../helpers/farm-events.js'

const [signer] = await makeSigners(1)
if (signer === undefined) throw new Error('no signer')
const { event } = new Replica().draft(signer, 1_700_000_000_000, { type: 'job.submitted', job: jobSpec({ name: 'hashes' }) })

test('both hashes from the encoding equal those hashed the general way, whatever the width of the seq', (t) => {
  for (const seq of [1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    const changed: SignedEvent = { ...event, seq }
    const bytes = encodeEvent(changed)
    const { hash, link } = hashesOfEncoded(decodeCanonical(bytes) as SignedEvent, bytes)
    t.is(toHex(hash), toHex(hashUnsigned(changed)), `content hash, seq ${seq}`)
    t.is(toHex(link), toHex(linkHash(changed)), `link, seq ${seq}`)
  }
})

test('bytes laid out otherwise (an envelope with a field more) are hashed from the event', (t) => {
  const other = { ...event, extra: 1 } as SignedEvent
  t.is(toHex(unsignedHashOfEncoded(other, encodeEvent(other))), toHex(hashUnsigned(event)))
})
