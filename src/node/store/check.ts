/**
 * A store's self-check (`cr store check`): read every event back, verify it, replay them
 * all from nothing, and compare with the materialized records the node would load.
 * What an operator runs after a crash, a full disk or a restore from backup.
 */
import { reduce } from '../../protocol/records.js'
import { stateHash } from '../../protocol/state-hash.js'
import { eventCount } from '../../protocol/version-vector.js'
import type { EventStore } from './event-store.js'

export interface StoreCheck {
  readonly authors: number
  readonly events: number
  /** The hash of the records a restart loads. */
  readonly materializedHash: string
  /** The hash of a full replay of the events on disk. */
  readonly replayedHash: string
  readonly consistent: boolean
}

/** Throws CorruptStoreError on the first event that does not verify. */
export async function checkStore (store: EventStore): Promise<StoreCheck> {
  const events = []
  for await (const verified of store.allEvents()) events.push(verified)
  const vector = store.versionVector()
  const materializedHash = store.stateHash()
  const replayedHash = stateHash(reduce(events))
  return {
    authors: Object.keys(vector).length,
    events: events.length,
    materializedHash,
    replayedHash,
    consistent: materializedHash === replayedHash && events.length === eventCount(vector)
  }
}
