/**
 * Runs the TUI on an open controller until the artist quits: the farm source on the
 * controller, the Ink app on the terminal (its alternate screen, so the shell's scrollback
 * comes back untouched), and everything stopped again on the way out.
 */
import { userInfo } from 'node:os'
import { render, type Instance, type RenderOptions } from 'ink'
import type { Controller } from '../node/controller/controller.js'
import type { Logger } from '../node/log.js'
import { App } from './components/App.js'
import { ControllerFarmSource } from './controller-source.js'
import type { FarmSource } from './farm-source.js'

export interface TuiRun {
  /** An open controller; it stays open: its owner closes it. */
  readonly controller: Controller
  readonly logger: Logger
  /** The farm as the header names it (its mDNS tag, or how its peers are reached). */
  readonly farm: string
  readonly logFile: string
  /** How long a catch-up waits for a peer, and a write for a peer to store it. */
  readonly timeoutMs: number
  /** Open on this job's detail screen. */
  readonly startOnJob?: string
}

export interface Terminal {
  readonly stdout: NodeJS.WriteStream
  readonly stdin: NodeJS.ReadStream
  /** Called after each frame Ink commits, with how long React and Ink took for it. */
  readonly onRender?: RenderOptions['onRender']
  readonly startOnJob?: string
}

/** The app on a terminal (the process's own, or one a benchmark provides), in its alternate screen. */
export function renderApp (source: FarmSource, terminal: Terminal): Instance {
  // Interactive asked for explicitly: Ink would fall back to printing one frame at exit where it guesses a CI.
  return render(<App source={source} user={userInfo().username} {...(terminal.startOnJob === undefined ? {} : { startOnJob: terminal.startOnJob })} />, {
    stdout: terminal.stdout,
    stdin: terminal.stdin,
    interactive: true,
    alternateScreen: true,
    exitOnCtrlC: true,
    patchConsole: true,
    ...(terminal.onRender === undefined ? {} : { onRender: terminal.onRender })
  })
}

export async function runTui (run: TuiRun): Promise<void> {
  const source = new ControllerFarmSource(run)
  await source.start()
  const app = renderApp(source, { stdout: process.stdout, stdin: process.stdin, ...(run.startOnJob === undefined ? {} : { startOnJob: run.startOnJob }) })
  try {
    await app.waitUntilExit()
  } finally {
    source.stop()
  }
}
