/** Which slice of a long list fits the terminal, keeping the selected row in sight. */

export interface ListWindow {
  readonly start: number
  readonly end: number
}

/** Rows [start, end) of `count` that fit `height` lines with `selected` visible, scrolled as little as possible. */
export function windowOf (count: number, selected: number, height: number): ListWindow {
  const size = Math.max(1, height)
  if (count <= size) return { start: 0, end: count }
  const start = Math.min(Math.max(0, selected - Math.floor(size / 2)), count - size)
  return { start, end: start + size }
}

/** `selected` kept inside a list of `count` rows (0 when it is empty). */
export function clampSelection (selected: number, count: number): number {
  return Math.max(0, Math.min(selected, count - 1))
}
