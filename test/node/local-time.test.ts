import test from 'ava'
import { localTimeIn, UnknownTimeZoneError } from '../../src/node/local-time.js'
import { effectiveLimits, scheduleVerdict } from '../../src/protocol/schedule.js'

// Monday 2026-11-30 08:30 UTC.
const mondayMorningUtc = Date.UTC(2026, 10, 30, 8, 30)

test('local time follows the configured zone, across the date line', (t) => {
  t.deepEqual(localTimeIn('UTC')(mondayMorningUtc), { weekday: 'mon', minuteOfDay: 8 * 60 + 30 })
  t.deepEqual(localTimeIn('Asia/Tokyo')(mondayMorningUtc), { weekday: 'mon', minuteOfDay: 17 * 60 + 30 })
  t.deepEqual(localTimeIn('America/Los_Angeles')(mondayMorningUtc), { weekday: 'mon', minuteOfDay: 30 })
  t.deepEqual(localTimeIn('Pacific/Honolulu')(mondayMorningUtc), { weekday: 'sun', minuteOfDay: 22 * 60 + 30 })
})

test.serial('without a configured zone, local time follows the system\'s', (t) => {
  const system = process.env.TZ
  t.teardown(() => {
    if (system === undefined) delete process.env.TZ
    else process.env.TZ = system
  })
  // Node re-reads its zone when TZ is assigned.
  process.env.TZ = 'Pacific/Honolulu'
  t.deepEqual(localTimeIn()(mondayMorningUtc), { weekday: 'sun', minuteOfDay: 22 * 60 + 30 })
  process.env.TZ = 'Asia/Kathmandu'
  t.deepEqual(localTimeIn()(mondayMorningUtc), { weekday: 'mon', minuteOfDay: 14 * 60 + 15 })
})

test('each minute is read once, and the next minute afresh, across a daylight-saving change', (t) => {
  const london = localTimeIn('Europe/London')
  // Sunday 2026-03-29 00:59 UTC: a minute later, 01:00 UTC is 02:00 in London (BST begins).
  const beforeChange = Date.UTC(2026, 2, 29, 0, 59)
  const first = london(beforeChange)
  t.deepEqual(first, { weekday: 'sun', minuteOfDay: 59 })
  t.is(london(beforeChange + 59_999), first, 'the same minute: the same answer, not read again')
  t.deepEqual(london(beforeChange + 60_000), { weekday: 'sun', minuteOfDay: 2 * 60 })
})

test('a misspelt zone is refused at once', (t) => {
  t.throws(() => localTimeIn('Europe/Londn'), { instanceOf: UnknownTimeZoneError, message: /Europe\/Londn/ })
})

test('inside work hours the work-hour limits reach the render, outside the normal ones', (t) => {
  const settings = { threadLimit: -1, memoryLimitMb: -1, workThreadLimit: 2, workMemoryLimitMb: 4096 }
  const office = [{ days: ['mon'] as const, start: '09:00', end: '18:00', mode: 'work-hours' as const }]
  const inTokyo = localTimeIn('Asia/Tokyo')(mondayMorningUtc)
  t.deepEqual(effectiveLimits(settings, scheduleVerdict(office, inTokyo)), { threads: 2, memoryMb: 4096 })
  const inLondon = localTimeIn('Europe/London')(mondayMorningUtc)
  t.deepEqual(effectiveLimits(settings, scheduleVerdict(office, inLondon)), { threads: -1, memoryMb: -1 })
})
