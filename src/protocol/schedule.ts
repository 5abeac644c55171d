/**
 * Working Hour (seed 4.0): a node's weekly schedule. Each window names days and a time
 * range in the node's local time, and what it means: inside a `work-hours` window the
 * artist is at the machine, so the node renders under its work-hour memory and thread
 * limits; inside a `no-render` window it takes no new blocks at all. Outside every
 * window the node renders with its normal limits.
 *
 * Pure: the caller turns its clock and time zone into a `LocalTime`.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type Weekday = (typeof WEEKDAYS)[number]

export const WINDOW_MODES = ['work-hours', 'no-render'] as const
export type WindowMode = (typeof WINDOW_MODES)[number]

/** `HH:MM`, 00:00 to 24:00. A window whose end is before its start runs past midnight. */
export type ClockTime = string

export interface ScheduleWindow {
  readonly days: readonly Weekday[]
  readonly start: ClockTime
  readonly end: ClockTime
  readonly mode: WindowMode
}

export type Schedule = readonly ScheduleWindow[]

export interface LocalTime {
  readonly weekday: Weekday
  /** Minutes since local midnight, 0 to 1439. */
  readonly minuteOfDay: number
}

export interface ScheduleVerdict {
  /** False inside a no-render window. */
  readonly mayRender: boolean
  /** True inside a work-hours window: the work-hour limits apply. */
  readonly workHours: boolean
}

const CLOCK_TIME = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/

/** Minutes since midnight for a valid `HH:MM`, or undefined. */
export function parseClockTime (text: string): number | undefined {
  const match = CLOCK_TIME.exec(text)
  if (match === null) return undefined
  if (text === '24:00') return 24 * 60
  return Number(match[1]) * 60 + Number(match[2])
}

const MINUTES_PER_DAY = 24 * 60

function previousDay (day: Weekday): Weekday {
  const index = WEEKDAYS.indexOf(day)
  return WEEKDAYS[(index + WEEKDAYS.length - 1) % WEEKDAYS.length] ?? day
}

/** Whether `at` falls inside `window`, counting the part of an overnight window after midnight. */
export function windowContains (window: ScheduleWindow, at: LocalTime): boolean {
  const start = parseClockTime(window.start) ?? 0
  const end = parseClockTime(window.end) ?? MINUTES_PER_DAY
  const minute = at.minuteOfDay
  if (start < end) {
    return window.days.includes(at.weekday) && minute >= start && minute < end
  }
  // Overnight (22:00-06:00): the evening of a listed day, or the morning after one.
  const evening = window.days.includes(at.weekday) && minute >= start
  const morning = window.days.includes(previousDay(at.weekday)) && minute < end
  return evening || morning
}

/** What the schedule says at one moment. An empty schedule renders always, with normal limits. */
export function scheduleVerdict (schedule: Schedule, at: LocalTime): ScheduleVerdict {
  const active = schedule.filter((window) => windowContains(window, at))
  return {
    mayRender: !active.some((window) => window.mode === 'no-render'),
    workHours: active.some((window) => window.mode === 'work-hours')
  }
}

/**
 * When the no-render window `at` falls in ends (the latest end, should several overlap),
 * or null when none holds it.
 */
export function noRenderUntil (schedule: Schedule, at: LocalTime): ClockTime | null {
  let until: ClockTime | null = null
  for (const window of schedule) {
    if (window.mode !== 'no-render' || !windowContains(window, at)) continue
    if (until === null || minutesLeft(window.end, at) > minutesLeft(until, at)) until = window.end
  }
  return until
}

/** Minutes from `at` to the next `end` o'clock (an overnight end is tomorrow's). */
function minutesLeft (end: ClockTime, at: LocalTime): number {
  const left = (parseClockTime(end) ?? MINUTES_PER_DAY) - at.minuteOfDay
  return left > 0 ? left : left + MINUTES_PER_DAY
}

/** A node's resource limits; -1 is unlimited. */
export interface RenderLimits {
  readonly threads: number
  readonly memoryMb: number
}

interface LimitSettings {
  readonly threadLimit: number
  readonly memoryLimitMb: number
  readonly workThreadLimit: number
  readonly workMemoryLimitMb: number
}

/**
 * The limits a render starts under (seed: Memory and Thread Control): the work-hour
 * limits inside work hours, so the artist can keep using the machine, else the normal ones.
 */
export function effectiveLimits (settings: LimitSettings, verdict: ScheduleVerdict): RenderLimits {
  return verdict.workHours
    ? { threads: settings.workThreadLimit, memoryMb: settings.workMemoryLimitMb }
    : { threads: settings.threadLimit, memoryMb: settings.memoryLimitMb }
}
