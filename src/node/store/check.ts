/**
 * A store's self-check (`cr store check`): read every event back, verify its signature
 * and its feed's chain up to the head, replay them all from nothing, and compare with the
 * materialized records the node would load. What an operator runs after a crash, a full
 * disk or a restore from backup; damage throws CorruptStoreError (exit 3 in `cr`).
 */
import { encodeEvent } from '../../protocol/encoding.js'
import type { VerifiedEvent } from '../../protocol/events.js'
import { reduce } from '../../protocol/records.js'
import { stateHash } from '../../protocol/state-hash.js'
import { eventCount } from '../../protocol/version-vector.js'
import { ChainCheck } from './chain.js'
import { CorruptStoreError } from './errors.js'
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

/** Throws CorruptStoreError on the first event that does not verify or breaks its chain. */
export async function checkStore (store: EventStore): Promise<StoreCheck> {
  const events: VerifiedEvent[] = []
  const vector = store.versionVector()
  let chain: { author: string, check: ChainCheck } | undefined
  const endFeed = (): void => {
    if (chain === undefined) return
    const head = store.versionVector()[chain.author] ?? 0
    const broken = chain.check.end(head, null)
    if (broken !== null) throw new CorruptStoreError(store.location, `events/${chain.author}!${broken.seq}`, broken.why)
  }
  for await (const verified of store.allEvents()) {
    const { author, seq } = verified.event
    if (chain?.author !== author) {
      endFeed()
      chain = { author, check: new ChainCheck(author, 1) }
    }
    if (!chain.check.take(seq, encodeEvent(verified.event))) endFeed()
    events.push(verified)
  }
  endFeed()
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
