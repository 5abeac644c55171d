/**
 * Durations as people write them in flags, job files and node configs (`90s`, `10m`,
 * `1h30m`, `2d`, or bare seconds), and back. Pure: shared by the CLI, the node config
 * and the render timeout's messages.
 */

const UNIT_S: Readonly<Record<string, number>> = { d: 86_400, h: 3_600, m: 60, s: 1 }
const DURATION = /^(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?$/i

/**
 * Whole seconds from `90`, `90s`, `10m`, `1h30m`, `1h 30m` or `2d`; undefined for
 * anything else (fractions, negative numbers, unknown units, nothing at all).
 */
export function parseDurationS (text: string): number | undefined {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  const match = DURATION.exec(trimmed)
  if (match === null || trimmed === '') return undefined
  const [, days, hours, minutes, seconds] = match
  const total = [days, hours, minutes, seconds].reduce<number>((sum, part, i) => sum + Number(part ?? 0) * (Object.values(UNIT_S)[i] ?? 0), 0)
  return Number.isSafeInteger(total) ? total : undefined
}

/** Whole seconds as the largest units that fit: 5400 is `1h30m`, 0 is `0s`. parseDurationS reads it back. */
export function formatDurationS (totalS: number): string {
  let rest = Math.round(totalS)
  const parts: string[] = []
  for (const [unit, size] of Object.entries(UNIT_S)) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
  }
  return parts.length === 0 ? '0s' : parts.join('')
}
