/** Driving the app in ink-testing-library: mount it on a farm, send keys, wait for a frame showing what is expected. */
import { render } from 'ink-testing-library'
import { App } from '../../src/tui/components/App.js'
import { MemoryFarmSource } from './memory-source.js'

export const KEYS = {
  up: '\u001B[A',
  down: '\u001B[B',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  backspace: '\u007F'
} as const

export interface Mounted {
  readonly source: MemoryFarmSource
  readonly frame: () => string
  /** Types `keys`, one write per key as a terminal sends them, letting the app take each in. */
  readonly press: (...keys: readonly string[]) => Promise<void>
  /** Waits until the last frame satisfies `check` (the app renders at most every 50 ms). */
  readonly until: (check: (frame: string) => boolean, what: string) => Promise<string>
  readonly unmount: () => void
}

const WAIT_MS = 3_000

export async function mount (source: MemoryFarmSource, size = { columns: 120, rows: 30 }): Promise<Mounted> {
  const app = render(<App source={source} user='artist' size={size} />)
  const frame = (): string => app.lastFrame() ?? ''
  const pause = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
  const until = async (check: (frame: string) => boolean, what: string): Promise<string> => {
    const started = Date.now()
    while (!check(frame())) {
      if (Date.now() - started > WAIT_MS) throw new Error(`no frame with ${what} within ${WAIT_MS} ms; the last was:\n${frame()}`)
      await pause(10)
    }
    return frame()
  }
  const press = async (...keys: readonly string[]): Promise<void> => {
    for (const key of keys) {
      app.stdin.write(key)
      await pause(20)
    }
  }
  await pause(20)
  return { source, frame, press, until, unmount: app.unmount }
}
