/**
 * The node's last line against a bug: an error that no code handled (a promise rejection
 * nobody awaited, an exception thrown from a callback) is logged with where it surfaced,
 * and the node is told, so that the block it renders is failed as retryable and rendered
 * again (the running render may be what went wrong, and a block finished on doubtful
 * ground would be worse than one rendered twice). The process keeps running: Node's
 * default, exit on either, would cost the farm every lease the node holds for as long as
 * hail takes to notice, and a service manager restarting it would do no better.
 *
 * Faults are a process-wide fact, so there is one set of listeners per process; what
 * listens (the renderer slot) subscribes only while it has something to fail.
 */
import type { Logger } from '../log.js'

export type FaultOrigin = 'unhandledRejection' | 'uncaughtException'

export interface ProcessFault {
  readonly origin: FaultOrigin
  readonly error: unknown
  /** One line for logs and failure messages: the error's name and message. */
  readonly summary: string
}

export type FaultListener = (fault: ProcessFault) => void

/** What a consumer of faults needs: to subscribe, and to stop. */
export interface FaultSource {
  onFault: (listener: FaultListener) => () => void
}

const listeners = new Set<FaultListener>()

/** Hears every fault the installed guard catches; without a guard, nothing (Node's default applies). */
export const processFaults: FaultSource = {
  onFault (listener) {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }
}

export function summarize (error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return `a thrown ${typeof error}: ${String(error)}`
}

/**
 * Installs the guard in this process; returns the function that removes it. For the
 * node's entry only: a short-lived command is better off failing loudly.
 */
export function installProcessGuard (logger: Logger): () => void {
  const handle = (origin: FaultOrigin) => (error: unknown): void => {
    const fault: ProcessFault = { origin, error, summary: summarize(error) }
    logger.error('an error nobody handled: the node keeps running, and fails the block it renders', { origin, error, listeners: listeners.size })
    for (const listener of listeners) {
      try {
        listener(fault)
      } catch (failure) {
        // Throwing here would re-enter this handler; logged, and the other listeners still hear.
        logger.error('a fault listener failed', { origin, error: failure })
      }
    }
  }
  const rejection = handle('unhandledRejection')
  const exception = handle('uncaughtException')
  process.on('unhandledRejection', rejection)
  process.on('uncaughtException', exception)
  return () => {
    process.off('unhandledRejection', rejection)
    process.off('uncaughtException', exception)
  }
}
