/**
 * sha256 gives the standard digests (FIPS 180-2's examples) as plain 32-byte arrays, of
 * exactly the bytes a view shows: stored events come as views into LevelDB's buffers.
 */
import test from 'ava'
import { sha256, toHex } from '../../src/protocol/encoding.js'

const text = (value: string): Uint8Array => new TextEncoder().encode(value)

test('the standard digests, as plain Uint8Arrays of 32 bytes', (t) => {
  const vectors: ReadonlyArray<readonly [string, string]> = [
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1']
  ]
  for (const [input, digest] of vectors) {
    const hashed = sha256(text(input))
    t.is(toHex(hashed), digest, JSON.stringify(input))
    t.is(Object.getPrototypeOf(hashed), Uint8Array.prototype)
    t.is(hashed.length, 32)
  }
})

test('a view is hashed by the bytes it shows, not the buffer around them', (t) => {
  const around = text('xxabcyy')
  t.is(toHex(sha256(around.subarray(2, 5))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  // Every byte value survives the digest's trip through a one-character-a-byte string.
  const all = Uint8Array.from({ length: 256 }, (_, index) => index)
  t.is(toHex(sha256(all)), '40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880')
})
