/** Small texts the screens share: progress bars, ages, ETAs, cells cut to a width. */
import stringWidth from 'string-width'
import { duration, elapsedMs, printable } from '../../cli/format.js'

/** `[#####.....]`, `width` cells inside the brackets; whole cells only, so it never overstates. */
export function progressBar (done: number, total: number, width: number): string {
  const filled = total <= 0 ? 0 : Math.floor((Math.min(done, total) / total) * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

/** How long ago, from our clock: `3 s ago`; never negative should the other clock run ahead. */
export function ago (atMs: number, nowMs: number): string {
  return `${duration(elapsedMs(atMs, nowMs))} ago`
}

/** `text` made printable, cut or padded to `width` terminal cells, wide characters counted as two. */
export function fit (text: string, width: number): string {
  if (width <= 0) return ''
  const shown = printable(text)
  let cut = shown
  while (stringWidth(cut) > width) cut = cut.slice(0, -1)
  if (cut !== shown && width > 1) {
    while (stringWidth(cut) > width - 1) cut = cut.slice(0, -1)
    cut += '~'
  }
  return cut + ' '.repeat(Math.max(0, width - stringWidth(cut)))
}
