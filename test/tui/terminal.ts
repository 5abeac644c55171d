/**
 * A real terminal for end-to-end tests: one tmux server of the test's own (its socket
 * name), so nothing touches anyone's sessions. The command runs under a shell that says
 * how it exited and keeps the pane open to read.
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)
/** A guard against hanging forever, not a deadline under test. */
const PANE_WAIT_MS = 90_000

export class Terminal {
  private constructor (private readonly socket: string) {}

  static async start (command: readonly string[], size = { columns: 120, rows: 40 }): Promise<Terminal> {
    const terminal = new Terminal(`cr-tui-${randomUUID().slice(0, 8)}`)
    await terminal.tmux('new-session', '-d', '-s', 'tui', '-x', String(size.columns), '-y', String(size.rows),
      'sh', '-c', '"$@"; echo "cr exited with $?"; exec sleep 600', 'sh', ...command)
    return terminal
  }

  private async tmux (...args: readonly string[]): Promise<string> {
    return (await run('tmux', ['-L', this.socket, ...args])).stdout
  }

  async pane (): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'tui')
  }

  /** Keys by tmux's names (Enter, Tab, Escape, or a character), one at a time as a person presses them. */
  async keys (...keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.tmux('send-keys', '-t', 'tui', key)
  }

  async type (text: string): Promise<void> {
    await this.tmux('send-keys', '-t', 'tui', '-l', text)
  }

  async until (check: (pane: string) => boolean, what: string): Promise<string> {
    const started = Date.now()
    for (;;) {
      const pane = await this.pane()
      if (check(pane)) return pane
      if (Date.now() - started > PANE_WAIT_MS) throw new Error(`no ${what} on screen after ${PANE_WAIT_MS} ms; the pane shows:\n${pane}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async stop (): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined)
  }
}
