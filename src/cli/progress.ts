/**
 * The status line of a long wait (looking for peers, catching up, waiting for a peer to
 * store a change), on stderr only, so stdout stays clean for scripts and `--json`. On a
 * terminal it rewrites one line; elsewhere it stays quiet unless `--verbose` asks for it,
 * then it writes each new status on a line of its own.
 */
import type { ControllerProgress } from '../node/controller/controller.js'

export class StatusLine {
  private shown = ''

  constructor (private readonly stream: NodeJS.WriteStream, private readonly verbose: boolean) {}

  show (text: string): void {
    if (text === this.shown) return
    this.shown = text
    if (this.stream.isTTY) this.stream.write(`\r\x1b[2K${text}`)
    else if (this.verbose) this.stream.write(`${text}\n`)
  }

  /** Removes the line before anything else is printed. */
  clear (): void {
    if (this.shown !== '' && this.stream.isTTY) this.stream.write('\r\x1b[2K')
    this.shown = ''
  }

  /** Shows a controller's progress in words. */
  readonly report = (progress: ControllerProgress): void => {
    this.show(describe(progress))
  }
}

function describe (progress: ControllerProgress): string {
  switch (progress.phase) {
    case 'looking-for-peers':
      return `looking for peers... ${Math.floor(progress.elapsedMs / 1000)} s`
    case 'catching-up':
      return `catching up from ${progress.peers} peer${progress.peers === 1 ? '' : 's'}: ${progress.appended} new events`
    case 'awaiting-storage':
      return `waiting for a peer to store the change... ${Math.floor(progress.elapsedMs / 1000)} s (${progress.peers} connected)`
  }
}
