/**
 * Where the TUI's farm comes from and where its actions go: a controller on the mesh in
 * `cr tui` (controller-source.ts), an in-memory replica in tests. The app only reads
 * snapshots, hears that something changed, and writes event bodies.
 */
import type { DraftBody } from '../protocol/events.js'
import type { FarmSnapshot } from './model/snapshot.js'

export interface FarmSource {
  /** The farm now; cheap to call again while nothing changed. */
  snapshot: () => FarmSnapshot
  /** Called on every change (an event stored, a heartbeat, a peer met or lost), unthrottled. */
  subscribe: (listener: () => void) => () => void
  /** Writes `body` and resolves once a peer stored it; rejects with the controller's typed errors. */
  write: (body: DraftBody) => Promise<void>
}
