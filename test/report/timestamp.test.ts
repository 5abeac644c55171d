import test from 'ava'
import fc from 'fast-check'
import { timestampText } from '../../src/report/dialect.js'

const DAY = 86_400_000

/** What the text must say: the ISO form's date and time of day, the T and Z dropped. */
function fromIso (ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`
}

test('a timestamp is written as its UTC date and time to the ms, before 1970 and after, whatever day came before', (t) => {
  const edges = [0, -1, 999, 86_399_999, 86_400_000, -86_400_000, 1_700_000_000_123, 253_402_300_799_999]
  for (const ms of edges) t.is(timestampText(ms), fromIso(ms), String(ms))
  // Years 1 to 9999, the ones the text form holds (the last whole ms excluded, so a fraction cannot carry into 10000).
  fc.assert(fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_998 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (ms, fraction) => {
    t.is(timestampText(ms + fraction), fromIso(ms + fraction))
  }), { numRuns: 5_000 })
})

test('a time no date can hold is refused, as Date refuses it', (t) => {
  t.throws(() => timestampText(8.64e15 + DAY), { instanceOf: RangeError })
  t.throws(() => timestampText(Number.NaN), { instanceOf: RangeError })
})
