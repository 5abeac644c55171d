/** Durations as people write them in flags, job files and node configs, and back. */
import test from 'ava'
import { formatDurationS, parseDurationS } from '../../src/protocol/duration.js'

test('durations read as whole seconds: bare seconds and d/h/m/s parts, spaced or not', (t) => {
  const cases: readonly [string, number][] = [['90', 90], ['90s', 90], ['10m', 600], ['10min', 600], ['1h30m', 5400], ['1h 30m', 5400], ['2d', 172_800], [' 1d2h3m4s ', 93_784], ['0s', 0]]
  for (const [text, seconds] of cases) t.is(parseDurationS(text), seconds, text)
})

test('anything else is not a duration', (t) => {
  for (const text of ['', ' ', 'soon', '1.5s', '-5s', '5 seconds', '30m1h', 's', '1w', '1e3']) t.is(parseDurationS(text), undefined, JSON.stringify(text))
})

test('seconds print in the largest units that fit, and read back', (t) => {
  t.deepEqual([0, 59, 60, 5400, 93_784, 604_800].map(formatDurationS), ['0s', '59s', '1m', '1h30m', '1d2h3m4s', '7d'])
  for (const seconds of [1, 61, 3599, 3601, 86_399, 700_000]) t.is(parseDurationS(formatDurationS(seconds)), seconds)
})
