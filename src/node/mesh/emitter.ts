/**
 * A small typed event emitter for the mesh's public events. A listener that throws is
 * logged and does not stop the others: one subscriber's bug must not cost the rest their
 * events, nor unwind the network code that emitted them. A listener that returns a
 * promise (an async function passed where the type says void) has its rejection logged
 * the same way, rather than left loose in the process.
 */
import type { Logger } from '../log.js'

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(detail: never) => void>>()
  private readonly logger: Logger

  constructor (logger: Logger) {
    this.logger = logger
  }

  on<K extends keyof Events> (event: K, listener: (detail: Events[K]) => void): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener)
    return () => set.delete(listener)
  }

  emit<K extends keyof Events> (event: K, detail: Events[K]): void {
    const failed = (error: unknown): void => { this.logger.error('event listener failed', { event: String(event), error }) }
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        const returned = (listener as (detail: Events[K]) => unknown)(detail)
        if (returned instanceof Promise) returned.catch(failed)
      } catch (error) {
        failed(error)
      }
    }
  }
}
