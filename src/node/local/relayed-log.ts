/**
 * The holder's side of a command that writes through it (relay-controller.ts): a pull
 * over the local socket (what the command's store lacks, in bounded answers) and a relay
 * (the command's own events, admitted by the holder's store exactly as a peer's events
 * are: size, encoding, schema, signature, chain, clock). A local socket is no reason to
 * trust an event more than the mesh does.
 */
import { ReplayedEventError } from '../../protocol/errors.js'
import { missingFrom, type VersionVector } from '../../protocol/version-vector.js'
import type { EventStore } from '../store/event-store.js'
import { RelayRefusedError } from './errors.js'
import type { Pulled, Relayed } from './messages.js'

/** One pull's answer: a few round trips catch up a large log, each answer a bounded frame. */
const MAX_PULL_EVENTS = 1024
/** Checked between feed pages, so an answer may pass it by one page (at most 1024 events of 64 KiB), well inside the frame bound. */
const MAX_PULL_BYTES = 4 * 1024 * 1024

/** The events `have` lacks, feed by feed in seq order, up to the bounds; `more` says to ask again. */
export async function eventsMissingFrom (log: Pick<EventStore, 'versionVector' | 'readFeed'>, have: VersionVector): Promise<Pulled> {
  const held = log.versionVector()
  const events: Uint8Array[] = []
  let bytes = 0
  for (const range of missingFrom(have, held)) {
    for (let seq = range.fromSeq; seq <= range.toSeq;) {
      if (events.length >= MAX_PULL_EVENTS || bytes >= MAX_PULL_BYTES) return { have: held, events, more: true }
      const page = await log.readFeed(range.author, seq, Math.min(range.toSeq - seq + 1, MAX_PULL_EVENTS - events.length))
      // The store holds less than its vector said (it cannot): the asker pulls the rest another time.
      if (page.length === 0) break
      for (const event of page) bytes += event.length
      events.push(...page)
      seq += page.length
    }
  }
  return { have: held, events, more: false }
}

/**
 * Takes in relayed events as remote ones. Throws RelayRefusedError at the first the store
 * refuses (those before it are kept, as a pull keeps them); one it holds already is fine.
 */
export async function admitRelayed (log: Pick<EventStore, 'ingestBatch' | 'versionVector'>, events: readonly Uint8Array[]): Promise<Relayed> {
  for (const outcome of await log.ingestBatch(events)) {
    if (outcome.kind === 'gap') throw new RelayRefusedError(`${outcome.author}#${outcome.got} does not follow #${outcome.have}, the last of that feed this node holds`)
    if (outcome.kind === 'rejected' && !(outcome.error instanceof ReplayedEventError)) throw new RelayRefusedError(outcome.error.message, { cause: outcome.error })
  }
  return { have: log.versionVector() }
}
