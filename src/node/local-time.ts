/**
 * The node's wall clock as its working-hour schedule reads it: weekday and minute of the
 * day in the node's time zone (the system's unless configured), daylight saving included.
 * The agent asks every tick, so each answer is kept for the rest of its minute; and the
 * system's zone is read through Date, since Intl's date formats alone keep megabytes of
 * locale data resident in a node that runs for weeks.
 */
import { WEEKDAYS, type LocalTime, type Weekday } from '../protocol/schedule.js'

export class UnknownTimeZoneError extends Error {
  override readonly name = 'UnknownTimeZoneError'
  constructor (readonly timeZone: string) {
    super(`unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as Europe/London`)
  }
}

const MINUTE_MS = 60_000
const SHORT_WEEKDAYS: Readonly<Record<string, Weekday>> = { Sun: 'sun', Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat' }

type LocalTimeOf = (epochMs: number) => LocalTime

function weekdayOf (dayIndex: number): Weekday {
  return WEEKDAYS[dayIndex] ?? 'sun'
}

/** The system's zone, as Date's local fields read it. */
function systemLocalTime (epochMs: number): LocalTime {
  const date = new Date(epochMs)
  return { weekday: weekdayOf(date.getDay()), minuteOfDay: date.getHours() * 60 + date.getMinutes() }
}

/** A named zone, through Intl; throws UnknownTimeZoneError for a name it does not know. */
function zonedLocalTime (timeZone: string): LocalTimeOf {
  let format: Intl.DateTimeFormat
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  } catch (error) {
    if (error instanceof RangeError) throw new UnknownTimeZoneError(timeZone)
    throw error
  }
  return (epochMs) => {
    const parts = Object.fromEntries(format.formatToParts(epochMs).map((part) => [part.type, part.value]))
    const weekday = SHORT_WEEKDAYS[parts.weekday ?? ''] ?? weekdayOf(new Date(epochMs).getUTCDay())
    return { weekday, minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute) }
  }
}

/**
 * Answers once per UTC minute. Every zone in use today is offset from UTC by whole
 * minutes and changes offset on a minute, so a local minute never straddles a UTC one.
 */
function perMinute (localTimeOf: LocalTimeOf): LocalTimeOf {
  let cached: { readonly minute: number, readonly at: LocalTime } | undefined
  return (epochMs) => {
    const minute = Math.floor(epochMs / MINUTE_MS)
    if (cached?.minute !== minute) cached = { minute, at: localTimeOf(epochMs) }
    return cached.at
  }
}

/** A converter from epoch ms to local time in `timeZone`; throws UnknownTimeZoneError at once for a bad name. */
export function localTimeIn (timeZone?: string): LocalTimeOf {
  return perMinute(timeZone === undefined ? systemLocalTime : zonedLocalTime(timeZone))
}
