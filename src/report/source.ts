/**
 * What an export reads: a replica's view and records, its version vector, and its
 * events (all of them, or only those after a vector). An EventStore provides it, whether
 * opened offline from a data dir or kept up to date by a read-only mesh peer.
 */
import type { EventStore } from '../node/store/event-store.js'
import type { VerifiedEvent } from '../protocol/events.js'
import type { FarmRecords } from '../protocol/records.js'
import type { VersionVector } from '../protocol/version-vector.js'
import type { FarmView } from '../protocol/view.js'
import { verifiedFromStore } from './event-id.js'

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

/** A replica to export from: its feeds read as stored, decoded once (readStoredFeed). */
export type StoreReads = Pick<EventStore, 'view' | 'records' | 'versionVector' | 'readStoredFeed'>

/** A source that also says when the replica takes in an event, for --follow. */
export interface LiveSource extends ExportSource {
  /** Calls `listener` for each event the replica takes in; returns the unsubscribe. */
  onAppended: (listener: (event: VerifiedEvent) => void) => () => void
}

/**
 * One slice of a feed. Both reads check each run's links up to the store's head (whose
 * signature was verified when it was stored): the chain vouches for every event, so no
 * signature is checked again. That is what keeps a full export of a million events to
 * seconds; EventStore.allEvents verifies each signature and would take minutes.
 */
async function feedSlice (store: StoreReads, author: string, from: number, limit: number): Promise<VerifiedEvent[]> {
  return (await store.readStoredFeed(author, from, limit)).map(verifiedFromStore)
}

/** Every slice to read, feed by feed, in order. */
function * slicesBetween (since: VersionVector, upTo: VersionVector): Generator<{ author: string, from: number, limit: number }, void> {
  for (const [author, head] of Object.entries(upTo)) {
    for (let from = (since[author] ?? 0) + 1; from <= head; from += FEED_SLICE_EVENTS) yield { author, from, limit: Math.min(FEED_SLICE_EVENTS, head - from + 1) }
  }
}

/**
 * Slices read ahead of the one the caller works through: LevelDB reads them on libuv's
 * threads while this one decodes, so a full export rarely waits on the disk.
 */
const READ_AHEAD_SLICES = 3

/** The events slice by slice, the next slices read while the caller works through this one. */
async function * feedsBetween (store: StoreReads, since: VersionVector, upTo: VersionVector): AsyncGenerator<VerifiedEvent> {
  const slices = slicesBetween(since, upTo)
  const pending: Array<Promise<VerifiedEvent[]>> = []
  const readAhead = (): void => {
    while (pending.length < READ_AHEAD_SLICES) {
      const next = slices.next()
      if (next.done === true) return
      pending.push(feedSlice(store, next.value.author, next.value.from, next.value.limit))
    }
  }
  try {
    readAhead()
    for (let slice = pending.shift(); slice !== undefined; slice = pending.shift()) {
      const events = await slice
      readAhead()
      yield * events
    }
  } finally {
    // A caller that stops early (its sink failed) leaves reads in flight: their failures are no one's to hear.
    for (const read of pending) read.catch(() => undefined)
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
