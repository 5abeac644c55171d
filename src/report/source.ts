/**
 * What an export reads: a replica's view and records, its version vector, and its
 * events (all of them, or only those after a vector). An EventStore provides it, whether
 * opened offline from a data dir or kept up to date by a read-only mesh peer.
 */
import type { EventStore } from '../node/store/event-store.js'
import { decodeEvent } from '../protocol/encoding.js'
import type { VerifiedEvent } from '../protocol/events.js'
import type { FarmRecords } from '../protocol/records.js'
import { hashEvent, vouchedByChain } from '../protocol/signing.js'
import type { VersionVector } from '../protocol/version-vector.js'
import type { FarmView } from '../protocol/view.js'

export interface ExportSource {
  view: () => FarmView
  records: () => FarmRecords
  versionVector: () => VersionVector
  allEvents: () => AsyncIterable<VerifiedEvent>
  /** Events above `since` and up to `upTo`, feed by feed. */
  eventsBetween: (since: VersionVector, upTo: VersionVector) => AsyncIterable<VerifiedEvent>
}

/** Events read per feed request: enough to amortize a LevelDB iterator, small enough to hold. */
const FEED_SLICE_EVENTS = 1_000

export type StoreReads = Pick<EventStore, 'view' | 'records' | 'versionVector' | 'readFeed'>

/** A source that also says when the replica takes in an event, for --follow. */
export interface LiveSource extends ExportSource {
  /** Calls `listener` for each event the replica takes in; returns the unsubscribe. */
  onAppended: (listener: (event: VerifiedEvent) => void) => () => void
}

/**
 * Reads feeds through `readFeed`, which checks each run's links up to the store's head
 * (whose signature was verified when it was stored): the chain vouches for every event,
 * so no signature is checked again. That is what keeps a full export of a million events
 * to seconds; EventStore.allEvents verifies each signature and would take minutes.
 */
async function * feedsBetween (store: StoreReads, since: VersionVector, upTo: VersionVector): AsyncGenerator<VerifiedEvent> {
  for (const [author, head] of Object.entries(upTo)) {
    for (let from = (since[author] ?? 0) + 1; from <= head; from += FEED_SLICE_EVENTS) {
      const slice = await store.readFeed(author, from, Math.min(FEED_SLICE_EVENTS, head - from + 1))
      for (const bytes of slice) yield vouchedByChain(hashEvent(decodeEvent(bytes)))
    }
  }
}

export function storeSource (store: StoreReads): ExportSource {
  return {
    view: () => store.view(),
    records: () => store.records(),
    versionVector: () => store.versionVector(),
    allEvents: () => feedsBetween(store, {}, store.versionVector()),
    eventsBetween: (since, upTo) => feedsBetween(store, since, upTo)
  } satisfies ExportSource
}

export function liveStoreSource (store: StoreReads & Pick<EventStore, 'onAppended'>): LiveSource {
  return { ...storeSource(store), onAppended: (listener) => store.onAppended(listener) }
}
