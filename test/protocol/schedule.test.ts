import test from 'ava'
import { scheduleVerdict, type Schedule } from '../../src/protocol/schedule.js'

const office: Schedule = [
  { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00', mode: 'work-hours' },
  { days: ['fri'], start: '22:00', end: '06:00', mode: 'no-render' }
]
const at = (weekday: 'sun' | 'mon' | 'fri' | 'sat', hhmm: string) => {
  const [hours = 0, minutes = 0] = hhmm.split(':').map(Number)
  return { weekday, minuteOfDay: hours * 60 + minutes }
}

test('inside office hours the work-hour limits apply', (t) => {
  t.deepEqual(scheduleVerdict(office, at('mon', '09:00')), { mayRender: true, workHours: true })
  t.deepEqual(scheduleVerdict(office, at('mon', '17:59')), { mayRender: true, workHours: true })
  t.deepEqual(scheduleVerdict(office, at('mon', '18:00')), { mayRender: true, workHours: false })
  t.deepEqual(scheduleVerdict(office, at('sun', '12:00')), { mayRender: true, workHours: false })
})

test('an overnight no-render window covers the evening and the morning after', (t) => {
  t.false(scheduleVerdict(office, at('fri', '23:30')).mayRender)
  t.false(scheduleVerdict(office, at('sat', '05:59')).mayRender)
  t.true(scheduleVerdict(office, at('sat', '06:00')).mayRender)
  t.true(scheduleVerdict(office, at('fri', '21:59')).mayRender)
})

test('an empty schedule always renders with normal limits', (t) => {
  t.deepEqual(scheduleVerdict([], at('mon', '10:00')), { mayRender: true, workHours: false })
})
