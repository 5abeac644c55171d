/**
 * Taking remote events into the log, as both gossip (push.ts) and pull (sync.ts) do: what
 * the mesh needs of the store for that.
 */
import type { EventRejectedError, EventRef } from '../../protocol/errors.js'

/** One event's fate, as the store reports it; store failures are thrown, not reported. */
export type IngestOutcome =
  | { readonly kind: 'appended', readonly event: { readonly event: EventRef } }
  | { readonly kind: 'gap', readonly author: string, readonly have: number, readonly got: number }
  | { readonly kind: 'rejected', readonly error: EventRejectedError }

/** What the mesh needs to take events in: many at once, each with its own outcome. */
export interface IngestingLog {
  ingestBatch: (list: readonly Uint8Array[]) => Promise<readonly IngestOutcome[]>
}
