/**
 * `cr store repair`: rebuilds a damaged store from what of it still verifies. It works on
 * a copy (LevelDB's own salvage, RepairDB, rewrites what it reads), keeps for each author
 * the longest run of events from seq 1 whose signatures and chain verify, replays them into
 * a fresh store built beside the old one, and only then swaps the directories, keeping the
 * damaged store as `store.damaged-<time>` so nothing is lost. The fresh store is marked
 * 'repaired': the node recovers what is missing from its peers before it acts.
 */
import { cp, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { Level } from 'level'
import type { FeedHead } from '../../protocol/feed.js'
import type { Signer } from '../../protocol/signing.js'
import { checkStore } from './check.js'
import { CorruptStoreError, NoStoreError, StoreInUseError } from './errors.js'
import { EventStore, storeDirOf } from './event-store.js'
import { lockHolder, storeDirState } from './leveldb-files.js'
import { openSeal } from './seal.js'

/** Events replayed into the new store per write. */
const REPLAY_BATCH_EVENTS = 2_000

export interface FeedRepair {
  readonly author: string
  /** Events kept: seq 1 to `kept`. */
  readonly kept: number
  /** Events found beyond the first that did not verify or did not follow. */
  readonly dropped: number
  /** Events the damaged store's head of this feed counted that could not be read at all. */
  readonly missing: number
}

export type RepairResult =
  | { readonly kind: 'sound', readonly events: number }
  | { readonly kind: 'repaired', readonly feeds: readonly FeedRepair[], readonly damagedKeptAt: string }

/** A timestamp safe in a directory name: 2026-01-31T12-00-00-000Z. */
function stamp (now: number): string {
  return new Date(now).toISOString().replaceAll(':', '-').replace('.', '-')
}

/** Whether the store opens and checks out; a damaged one is left to be rebuilt. */
async function isSound (location: string, signer: Signer): Promise<number | null> {
  let store: EventStore
  try {
    store = await EventStore.open(location, signer)
  } catch (error) {
    if (error instanceof CorruptStoreError) return null
    throw error
  }
  try {
    const result = await checkStore(store)
    return result.consistent ? result.events : null
  } catch (error) {
    if (error instanceof CorruptStoreError) return null
    throw error
  } finally {
    await store.close()
  }
}

interface Salvage {
  /** Every event found, by author, by seq. */
  readonly feeds: Map<string, Map<number, Uint8Array>>
  /** The seq each author's sealed head named, where it still reads. */
  readonly heads: Map<string, number>
}

/** Reads every event and head LevelDB can still give after its salvage of the copy. */
async function salvage (location: string): Promise<Salvage> {
  // The level package is classic-level in Node, whose types it does not re-export.
  await (Level as unknown as { repair: (location: string) => Promise<void> }).repair(location)
  const db = new Level<string, Uint8Array>(location, { createIfMissing: false, valueEncoding: 'view' })
  await db.open()
  const feeds = new Map<string, Map<number, Uint8Array>>()
  const heads = new Map<string, number>()
  try {
    await readAll(db.sublevel<string, Uint8Array>('events', { valueEncoding: 'view' }), (key, bytes) => {
      const split = key.lastIndexOf('!')
      const author = key.slice(0, split)
      let feed = feeds.get(author)
      if (feed === undefined) feeds.set(author, feed = new Map<number, Uint8Array>())
      feed.set(Number(key.slice(split + 1)), bytes)
    })
    await readAll(db.sublevel<string, Uint8Array>('heads', { valueEncoding: 'view' }), (author, value) => {
      try {
        heads.set(author, (openSeal(value) as FeedHead).seq)
      } catch {
        // A damaged head only makes the count of missing events unknown for its feed.
      }
    })
  } finally {
    await db.close()
  }
  return { feeds, heads }
}

/** Every entry a sublevel still reads; a read LevelDB refuses ends the sublevel there. */
async function readAll (sublevel: { iterator: () => AsyncIterable<[string, Uint8Array]> }, take: (key: string, value: Uint8Array) => void): Promise<void> {
  try {
    for await (const [key, value] of sublevel.iterator()) take(key, value)
  } catch {
    // What RepairDB could not mend is lost to this read; the report counts it as missing.
  }
}

/** The events of one feed in seq order from 1, up to the first gap. */
function runFromOne (feed: ReadonlyMap<number, Uint8Array>): Uint8Array[] {
  const run: Uint8Array[] = []
  for (let seq = 1; feed.has(seq); seq++) run.push(feed.get(seq) as Uint8Array)
  return run
}

/** Replays each author's run into the new store, which verifies signatures and chains. */
async function replay (store: EventStore, found: Salvage): Promise<FeedRepair[]> {
  const repairs: FeedRepair[] = []
  const authors = new Set([...found.feeds.keys(), ...found.heads.keys()])
  for (const author of [...authors].sort()) {
    const feed = found.feeds.get(author) ?? new Map<number, Uint8Array>()
    const run = runFromOne(feed)
    let kept = 0
    for (let index = 0; index < run.length && kept === index; index += REPLAY_BATCH_EVENTS) {
      const outcomes = await store.ingestBatch(run.slice(index, index + REPLAY_BATCH_EVENTS))
      const firstRefused = outcomes.findIndex((outcome) => outcome.kind !== 'appended')
      kept += firstRefused === -1 ? outcomes.length : firstRefused
    }
    const highest = Math.max(found.heads.get(author) ?? 0, ...feed.keys())
    repairs.push({ author, kept, dropped: feed.size - kept, missing: Math.max(0, highest - feed.size) })
  }
  return repairs
}

/**
 * Rebuilds the store of the node in `dataDir` (stopped), or says it is sound. Throws
 * NoStoreError, StoreInUseError.
 */
export async function repairStore (dataDir: string, signer: Signer, now: number): Promise<RepairResult> {
  const location = storeDirOf(dataDir)
  if (await storeDirState(location).catch((error: unknown) => {
    if (error instanceof CorruptStoreError) return 'existing'
    throw error
  }) === 'new') throw new NoStoreError(location)
  const holder = await lockHolder(location)
  if (holder !== null) throw new StoreInUseError(location, `process ${holder}`)
  const suffix = stamp(now)
  const work = path.join(dataDir, `store.salvage-${suffix}`)
  const fresh = path.join(dataDir, `store.new-${suffix}`)
  const damagedKeptAt = path.join(dataDir, `store.damaged-${suffix}`)
  await cp(location, work, { recursive: true })
  try {
    const sound = await isSound(work, signer)
    if (sound !== null) return { kind: 'sound', events: sound }
    await rm(work, { recursive: true, force: true })
    await cp(location, work, { recursive: true })
    const found = await salvage(work)
    const store = await EventStore.open(fresh, signer, { now: () => now })
    let feeds: FeedRepair[]
    try {
      feeds = await replay(store, found)
      await store.markRepaired()
    } finally {
      await store.close()
    }
    if (await isSound(fresh, signer) === null) throw new Error(`the rebuilt store at ${fresh} does not check out; the damaged store is untouched`)
    await rename(location, damagedKeptAt)
    await rename(fresh, location)
    return { kind: 'repaired', feeds, damagedKeptAt }
  } finally {
    await rm(work, { recursive: true, force: true })
    await rm(fresh, { recursive: true, force: true })
  }
}
