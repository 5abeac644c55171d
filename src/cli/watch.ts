/** `--watch` on a listing: drawn now, then again every second, until Ctrl+C or SIGTERM. */
import { untilInterrupted } from './interrupted.js'

export const WATCH_INTERVAL_MS = 1_000

/** On a terminal each drawing replaces the last; elsewhere (a pipe, a log) they follow one another. */
export async function watch (draw: () => string): Promise<void> {
  const interrupted = untilInterrupted().then(() => true)
  for (;;) {
    const text = draw()
    process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${text}\n` : `${text}\n\n`)
    let timer: NodeJS.Timeout | undefined
    const next = new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false) }, WATCH_INTERVAL_MS) })
    const stopped = await Promise.race([interrupted, next])
    clearTimeout(timer)
    if (stopped) return
  }
}
