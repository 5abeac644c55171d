/**
 * Plain-text tables and the small formats they use (times, durations, limits), for what
 * commands print to people. Scripts read `--json` instead, so nothing here is a contract.
 */
import { UNLIMITED } from '../protocol/vocabulary.js'

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table (header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** Local date and time to the second, e.g. 2026-11-28 14:03:05. */
export function localTime (ms: number): string {
  const at = new Date(ms)
  const two = (value: number): string => String(value).padStart(2, '0')
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`
}

export function duration (ms: number | null): string {
  if (ms === null) return '-'
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const minutes = Math.floor(ms / 60_000)
  return minutes < 60 ? `${minutes} m ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} m`
}

/** Time since `startedAt`, by another machine's clock: never below zero, should that clock run ahead of ours. */
export function elapsedMs (startedAt: number, nowMs: number): number {
  return Math.max(0, nowMs - startedAt)
}

/** A resource limit as the seed writes it, with -1 spelled out. */
export function limit (value: number, unit = ''): string {
  return value === UNLIMITED ? 'unlimited' : `${value}${unit}`
}

/** A job's short id, as the view derives it, for ids whose job may be gone from the view. */
export function shortIdOf (jobId: string): string {
  return jobId.replaceAll('-', '').slice(0, 8)
}
