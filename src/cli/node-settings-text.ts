/**
 * A node's settings as people type and read them, in `cr node set` and the TUI's node
 * editor alike: limits (`unlimited` or a number), classes (`AB`, `A,B` or `all`) and the
 * weekly schedule (`mon-fri 09:00-18:00 work-hours; ...`).
 */
import { WEEKDAYS, type Schedule, type Weekday } from '../protocol/schedule.js'
import { CLASSIFICATIONS, UNLIMITED } from '../protocol/vocabulary.js'
import { UsageError } from './exit.js'
import { numeric } from './parse.js'

export function limitValue (text: string | undefined): number | string | undefined {
  return text?.trim().toLowerCase() === 'unlimited' ? UNLIMITED : numeric(text)
}

export function parseClasses (text: string): string[] {
  if (text.trim().toLowerCase() === 'all') return [...CLASSIFICATIONS]
  // Letters with or without separators: A,B or AB.
  return Array.from(text.matchAll(/[^\s,]/g), ([letter]) => letter.toUpperCase())
}

export function classesText (classes: readonly string[]): string {
  return classes.length === CLASSIFICATIONS.length ? 'all' : classes.join('')
}

const WINDOW = /^(\S+)\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})\s+(\S+)$/

/**
 * `mon-fri 09:00-18:00 work-hours; sat,sun 00:00-24:00 no-render`, or `none` (or
 * `always`, as `scheduleText` shows it) for an empty schedule.
 */
export function parseSchedule (text: string): Schedule {
  if (['none', 'always'].includes(text.trim().toLowerCase())) return []
  return text.split(';').map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const match = WINDOW.exec(part)
    if (match === null) throw new UsageError('--schedule', `a window is DAYS START-END MODE, e.g. "mon-fri 09:00-18:00 work-hours"; got ${JSON.stringify(part)}`)
    const [, days = '', start = '', end = '', mode = ''] = match
    // Days and mode are checked by the protocol when the change is written.
    return { days: parseDays(days), start, end, mode } as Schedule[number]
  })
}

function parseDays (text: string): Weekday[] {
  return text.toLowerCase().split(',').flatMap((item) => {
    const [from, to] = item.split('-')
    const first = WEEKDAYS.indexOf(from as Weekday)
    const last = to === undefined ? first : WEEKDAYS.indexOf(to as Weekday)
    if (first < 0 || last < 0) throw new UsageError('--schedule', `unknown day in ${JSON.stringify(item)}; days are ${WEEKDAYS.join(', ')}`)
    // A range may wrap past Saturday (fri-mon).
    return Array.from({ length: ((last - first + WEEKDAYS.length) % WEEKDAYS.length) + 1 }, (_, step) => WEEKDAYS[(first + step) % WEEKDAYS.length] as Weekday)
  })
}

export function scheduleText (schedule: Schedule): string {
  if (schedule.length === 0) return 'always'
  return schedule.map((window) => `${window.days.join(',')} ${window.start}-${window.end} ${window.mode}`).join('; ')
}
