/**
 * Plain-text tables and the small formats they use (times, durations, limits), for what
 * commands print to people. Scripts read `--json` instead, so nothing here is a contract.
 */
import { CONTROL_CHARACTER } from '../protocol/schemas.js'
import { UNLIMITED } from '../protocol/vocabulary.js'

const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'gu')
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * Text from the log as a terminal may show it: every control character written out
 * (`\n`, `\t`, `\x1b`), so a name typed or forged with an escape sequence reads as text
 * instead of clearing the screen of whoever lists it. The log has such names from before
 * input refused them, and a hostile key holder can still sign one.
 */
export function printable (text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) =>
    NAMED_ESCAPES[character] ?? `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/**
 * Columns padded to their widest cell, two spaces apart; the last column is not padded.
 * Cells are made printable and measured by the columns a terminal gives them, so a wide
 * character (CJK, most emoji) counts two and combining marks none.
 */
export type TableWriter = (header: readonly string[], rows: readonly (readonly string[])[]) => string

/**
 * The table writer, for a command about to print one. string-width builds its Unicode
 * tables (emoji, East Asian widths) as it loads, some 40 ms of start-up that every command
 * paid while most print no table (cr submit, cr job halt): it loads here, on demand.
 */
export async function tableWriter (): Promise<TableWriter> {
  const { default: stringWidth } = await import('string-width')
  const padToWidth = (cell: string, width: number): string => cell + ' '.repeat(Math.max(0, width - stringWidth(cell)))
  return (header, rows) => {
    const shown = [header, ...rows].map((row) => row.map(printable))
    // A loop, not Math.max(...cells): a table may have more rows than a call has room for arguments.
    const widths = header.map((_title, column) => shown.reduce((widest, row) => Math.max(widest, stringWidth(row[column] ?? '')), 0))
    const line = (cells: readonly string[]): string =>
      cells.map((cell, column) => (column === cells.length - 1 ? cell : padToWidth(cell, widths[column] ?? 0))).join('  ').trimEnd()
    return shown.map(line).join('\n')
  }
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
