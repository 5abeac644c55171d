/**
 * The node's wall clock as its working-hour schedule reads it: weekday and minute of the
 * day in the node's time zone (the system's unless configured), daylight saving included.
 */
import { WEEKDAYS, type LocalTime, type Weekday } from '../protocol/schedule.js'

export class UnknownTimeZoneError extends Error {
  override readonly name = 'UnknownTimeZoneError'
  constructor (readonly timeZone: string) {
    super(`unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as Europe/London`)
  }
}

const SHORT_WEEKDAYS: Readonly<Record<string, Weekday>> = { Sun: 'sun', Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat' }

/** A converter from epoch ms to local time in `timeZone`; throws UnknownTimeZoneError at once for a bad name. */
export function localTimeIn (timeZone?: string): (epochMs: number) => LocalTime {
  let format: Intl.DateTimeFormat
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  } catch (error) {
    if (error instanceof RangeError && timeZone !== undefined) throw new UnknownTimeZoneError(timeZone)
    throw error
  }
  return (epochMs) => {
    const parts = Object.fromEntries(format.formatToParts(epochMs).map((part) => [part.type, part.value]))
    const weekday = SHORT_WEEKDAYS[parts.weekday ?? ''] ?? WEEKDAYS[new Date(epochMs).getUTCDay()] ?? 'sun'
    return { weekday, minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute) }
  }
}
