import test from 'ava'
import { decode } from 'cborg'
import fc from 'fast-check'
import { encodeCanonical } from '../../src/protocol/encoding.js'
import { decodeStored, StoredCborError } from '../../src/protocol/stored-cbor.js'

/** Values of the shapes the store writes: records, events, and what they nest. */
const storedValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 80 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 6 })
  )
})).value

test('stored bytes read back as the strict decoder reads them', (t) => {
  fc.assert(fc.property(storedValue, (value) => {
    const bytes = encodeCanonical(value)
    t.deepEqual(decodeStored(bytes), decode(bytes))
  }), { numRuns: 2_000 })
})

test('a "__proto__" key is read as a key like any other, never as the map\'s prototype', (t) => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "kept": 1}') as Record<string, unknown>
  const decoded = decodeStored(encodeCanonical(value)) as Record<string, unknown>
  t.deepEqual(Object.keys(decoded).sort(), ['__proto__', 'kept'])
  t.is(Object.getPrototypeOf(decoded), Object.prototype)
  t.false('polluted' in decoded)
  t.deepEqual(decoded, decode(encodeCanonical(value)))
})

test('byte strings come back as plain Uint8Arrays, even out of a Buffer', (t) => {
  const bytes = Buffer.from(encodeCanonical({ sig: new Uint8Array([1, 2, 3]), prev: new Uint8Array([4]) }))
  const { sig, prev } = decodeStored(bytes) as { sig: Uint8Array, prev: Uint8Array }
  t.is(Object.getPrototypeOf(sig), Uint8Array.prototype)
  t.deepEqual([...sig], [1, 2, 3])
  t.deepEqual([...prev], [4])
})

test('half, single and double floats, and integers up to 2^53, read exactly', (t) => {
  for (const value of [1.5, -2.5, 65504, 2 ** -24, 3.4028234663852886e38, 0.1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
    t.is(decodeStored(encodeCanonical(value)), value)
  }
})

test('bytes it cannot read are refused with where and why, never read as something else', (t) => {
  const event = encodeCanonical({ author: 'render01', seq: 7, prev: new Uint8Array(32) })
  const refusals: Array<[string, Uint8Array, RegExp]> = [
    ['truncated', event.subarray(0, event.length - 5), /byte \d+: the bytes end inside an item/],
    ['empty', new Uint8Array(0), /byte 0: the bytes end inside an item/],
    ['trailing bytes', new Uint8Array([...event, 0x00]), /1 bytes after the value/],
    ['a tag', new Uint8Array([0xc1, 0x00]), /byte 0: major type 6 \(a tag\)/],
    ['a non-text map key', new Uint8Array([0xa1, 0x01, 0x02]), /byte 1: a map key that is not text/],
    ['an indefinite array', new Uint8Array([0x9f, 0xff]), /additional information 31/],
    ['an integer beyond 2^53', new Uint8Array([0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /beyond 2\^53/],
    ['undefined', new Uint8Array([0xf7]), /simple value 23/],
    ['text that is not UTF-8', new Uint8Array([0x62, 0xc3, 0x28]), /not UTF-8/],
    ['a length past the end', new Uint8Array([0x5a, 0xff, 0xff, 0xff, 0xff, 0x00]), /the bytes end inside an item/]
  ]
  for (const [what, bytes, message] of refusals) {
    const error = t.throws(() => decodeStored(bytes), { instanceOf: StoredCborError }, what)
    t.regex(error.message, message, what)
  }
})
