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
