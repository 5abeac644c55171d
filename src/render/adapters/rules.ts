/**
 * Matching renderer output lines against an adapter's rules, and the pieces most adapters
 * share: reading a frame number out of a file name, reading a printed duration, and the
 * license and out-of-memory phrases every renderer family uses.
 */
import path from 'node:path'
import type { FailureReason } from '../result.js'
import type { LineEvent, OutputRule } from './types.js'

export function matchLine(rules: readonly OutputRule[], line: string): LineEvent | undefined {
  for (const rule of rules) {
    const match = rule.pattern.exec(line)
    if (match !== null) return rule.event(match)
  }
  return undefined
}

/**
 * The frame number in an output file name: the last run of digits before the extension,
 * after a '.' or '_' (name_0001.png, name.0001.exr, layer/name.beauty.0001.exr, name_-001.iff).
 */
export function frameOfFileName(fileName: string): number | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? fileName
  const match = /[._](-?\d+)\.[A-Za-z][A-Za-z0-9]*$/.exec(base)
  return match?.[1] === undefined ? undefined : Number.parseInt(match[1], 10)
}

/**
 * Milliseconds of a printed duration: clock style "00:00.11", "0:01.234", "1:02:03.5", or
 * seconds "12.5", "12.5 s", "0h 1m 9.1s".
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim()
  const hms = /^(?:(\d+)h\s*)?(?:(\d+)m\s*)?(\d+(?:\.\d+)?)\s*s$/.exec(trimmed)
  if (hms !== null) return Math.round((Number(hms[1] ?? 0) * 3600 + Number(hms[2] ?? 0) * 60 + Number(hms[3])) * 1000)
  const parts = trimmed.split(':')
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return undefined
  const seconds = parts.reduce((total, part) => total * 60 + Number(part), 0)
  return Math.round(seconds * 1000)
}

export function frameDone(frame?: number, ms?: number): LineEvent {
  return { kind: 'frame-done', ...(frame === undefined ? {} : { frame }), ...(ms === undefined ? {} : { ms }) }
}

/** Frame done, for a line naming the written file in group 1 and, if the pattern has one, seconds in group 2. */
export function frameDoneFromPath(match: RegExpExecArray): LineEvent {
  const seconds = match[2]
  return frameDone(match[1] === undefined ? undefined : frameOfFileName(match[1]), seconds === undefined ? undefined : Math.round(Number(seconds) * 1000))
}

/** Frame done (the next in order), timed by the duration in group 1. */
export function frameDoneTimed(match: RegExpExecArray): LineEvent {
  return frameDone(undefined, match[1] === undefined ? undefined : parseDuration(match[1]))
}

/** Percent in the first capture group as frame progress. */
export function percentProgress(match: RegExpExecArray): LineEvent {
  return { kind: 'frame-progress', fraction: Math.min(1, Number(match[1]) / 100) }
}

/** A rule action that reports this failure reason. */
export function error(reason: FailureReason): () => LineEvent {
  const event: LineEvent = { kind: 'error', reason }
  return () => event
}

export const warning = (): LineEvent => ({ kind: 'warning' })

/** License and memory phrases common to Autodesk, Foundry, Chaos and Solid Angle tools. */
export const COMMON_RULES: readonly OutputRule[] = [
  { pattern: /FLEXlm error|License was not obtained|licen[cs]e (?:is )?(?:not available|unavailable|expired|checkout failed)|(?:failed|unable) to (?:obtain|check ?out|get) (?:a )?licen[cs]e|no licen[cs]es? (?:available|found)/i, event: error('license') },
  { pattern: /std::bad_alloc|\bout of memory\b|memory allocation failed|cannot allocate memory/i, event: error('out-of-memory') }
]

/** Path helpers of the platform the command line is for (Windows paths on a Windows node). */
export function pathsOf(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix
}

/** The thread flag and its value, or nothing when threads are unlimited (the renderer's default: all). */
export function threadArgs(flag: string, threads: number): string[] {
  return threads > 0 ? [flag, String(threads)] : []
}

/** `[flag, value]` when the value is set, else nothing: optional flags without if-chains. */
export function optionalArgs(flag: string, value: string | undefined): string[] {
  return value === undefined ? [] : [flag, value]
}

/** A frame number zero-padded to `width` characters, sign included, as renderers write it (-001, 0042). */
export function padFrame(frame: number, width: number): string {
  return frame < 0 ? `-${String(-frame).padStart(width - 1, '0')}` : String(frame).padStart(width, '0')
}
