/**
 * The node's log on disk: every author's feed, the feed heads, and the materialized farm
 * records, in LevelDB: a record per job (its own fields), per block and per node, so an
 * event rewrites only the small record it changed. An event, its feed head and the
 * records it touched are written in one atomic batch, so the records on disk always equal a replay of the events on disk
 * and a restart loads them instead of replaying everything.
 *
 * Every value the store writes is sealed with its sha256 (see seal.ts): bytes it did not
 * write are refused with a CorruptStoreError, never decoded into nonsense.
 *
 * A store knows it is sound before it serves anything. Each batch also writes a sealed
 * commit mark (how many events the store holds after it), and a checkpoint (the version
 * vector whose chains were last verified) is written every so many events and at close.
 * An open refuses LevelDB damage (see leveldb-files.ts), heads that disagree with the
 * commit mark, and any break in the hash chain of what was written since the checkpoint:
 * a clean store opens with one read per feed, a crashed one re-verifies only its tail.
 * What the store serves to peers is chain-checked as it is read.
 */
import path from 'node:path'
import { Level } from 'level'
import type { FarmAuthority } from '../../protocol/authority.js'
import { decodeEvent, encodeCanonical, encodeEvent, sha256 } from '../../protocol/encoding.js'
import { EventRejectedError } from '../../protocol/errors.js'
import type { DraftBody, SignedEvent, VerifiedEvent } from '../../protocol/events.js'
import { factJudge, type FactRefusal } from '../../protocol/fact-rules.js'
import { equalBytes, type FeedHead } from '../../protocol/feed.js'
import {
  emptyJobRecord, emptyRecords,
  type BlockRecord, type FarmRecords, type JobRecord, type NodeRecord, type RoleFact, type Touched
} from '../../protocol/records.js'
import { Replica } from '../../protocol/replica.js'
import { decodeStored } from '../../protocol/stored-cbor.js'
import { verifyEvent, type Signer } from '../../protocol/signing.js'
import { eventCount, type VersionVector } from '../../protocol/version-vector.js'
import type { FarmView } from '../../protocol/view.js'
import { ChainCheck } from './chain.js'
import { CorruptStoreError, ForeignStoreError, StoreClosedError, StoreWriteError } from './errors.js'
import { droppedAtRecovery, guardedRead, levelFailure, storeDirState } from './leveldb-files.js'
import { openSeal, seal } from './seal.js'

/** Events a scrub reads at once: small enough not to hold up the node's own reads and writes. */
const SCRUB_SLICE_EVENTS = 500

export const STORE_FORMAT = 'constellation-store/2'

/**
 * How many events a checkpoint may fall behind while the store runs: after a crash, an
 * open re-verifies the chains of at most about this many events (some 0.1 s of work).
 */
export const CHECKPOINT_INTERVAL_EVENTS = 10_000

/** Where a node keeps its store inside its data directory (beside identity.key). */
export function storeDirOf (dataDir: string): string {
  return path.join(dataDir, 'store')
}

/** The result of taking in one remote event; refusals are thrown as EventRejectedError. */
export type IngestResult =
  | { readonly kind: 'appended', readonly event: VerifiedEvent }
  | { readonly kind: 'gap', readonly author: string, readonly have: number, readonly got: number }

/**
 * One outcome per event of a batch: a refusal of one event does not stop the rest. A
 * failure of the store itself (a full disk, damaged bytes) is thrown instead.
 */
export type BatchOutcome = IngestResult | { readonly kind: 'rejected', readonly error: EventRejectedError }

/**
 * What a node must do about this store before it acts: 'created' when an open made it new
 * and empty, 'repaired' when `cr store repair` rebuilt it (so events may be missing that
 * peers still hold), 'none' for a store that is whole as far as it knows. 'created' and
 * 'repaired' are kept on disk until `markRecovered`, so a node that stops before it has
 * caught up from its peers still knows at its next start.
 */
export type StoreRecovery = 'none' | 'repaired' | 'created'

/** An event as the store holds it: its bytes, decoded, and its link (the sha256 of the bytes). */
export interface StoredEvent {
  readonly event: SignedEvent
  readonly bytes: Uint8Array
  readonly link: Uint8Array
}

export type AppendListener = (event: VerifiedEvent, bytes: Uint8Array) => void

/** A remote fact taken into the log that, by the farm's rules, has no effect. */
export interface RefusedFact {
  readonly author: string
  readonly seq: number
  readonly type: string
  readonly refusal: FactRefusal
}

export type RefusedFactListener = (refused: RefusedFact) => void

export interface EventStoreOptions {
  /** The farm's founder, from the swarm key file; without it the farm has no wranglers. */
  readonly authority?: FarmAuthority
  /** The wall clock, which admission bounds events' clocks by. */
  readonly now?: () => number
  /** See CHECKPOINT_INTERVAL_EVENTS. */
  readonly checkpointIntervalEvents?: number
}

/** The sealed marks a store keeps about itself, in the `integrity` sublevel. */
interface CommitMark { readonly events: number }
interface CheckpointMark { readonly vector: VersionVector }
interface DamageMark { readonly part: string, readonly why: string }
type RecoveryMark = Exclude<StoreRecovery, 'none'>

type Bytes = Uint8Array

function sublevelOf (db: Level<string, Bytes>, name: string) {
  return db.sublevel<string, Bytes>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
}
type Sublevel = ReturnType<typeof sublevelOf>
type BatchOp = { type: 'put', sublevel: Sublevel, key: string, value: Bytes } | { type: 'del', sublevel: Sublevel, key: string }

/** A job's fields without its blocks, which are stored one record each. */
function jobMeta (job: JobRecord | undefined): Omit<JobRecord, 'blocks'> | undefined {
  if (job === undefined) return undefined
  const { blocks: _blocks, ...meta } = job
  return meta
}

function blockRecordKey (jobId: string, block: number): string {
  return `${jobId}!${String(block).padStart(8, '0')}`
}

/** Seq numbers padded so LevelDB's byte order is seq order. */
function seqKey (author: string, seq: number): string {
  return `${author}!${String(seq).padStart(16, '0')}`
}

function seqOfKey (key: string): number {
  return Number(key.slice(key.lastIndexOf('!') + 1))
}

/** Every key of `author`'s feed sorts below this one ('"' follows '!'). */
function feedEndKey (author: string): string {
  return `${author}"`
}

function sealed (value: unknown): Bytes {
  return seal(encodeCanonical(value))
}

export class EventStore {
  private readonly db: Level<string, Bytes>
  private readonly events: Sublevel
  private readonly heads: Sublevel
  private readonly jobs: Sublevel
  private readonly blocks: Sublevel
  private readonly nodes: Sublevel
  private readonly roles: Sublevel
  private readonly marks: Sublevel
  private readonly authority: FarmAuthority
  private readonly checkpointIntervalEvents: number
  private readonly now: () => number
  private replica: Replica
  private readonly listeners = new Set<AppendListener>()
  private readonly refusedListeners = new Set<RefusedFactListener>()
  /** Writes run one at a time, in arrival order, so feed heads never race. */
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  private recoveryState: StoreRecovery = 'none'
  /** Events written since the last checkpoint; the next one is due at the interval. */
  private sinceCheckpoint = 0
  private verifiedEvents = 0

  private constructor (readonly location: string, readonly signer: Signer, db: Level<string, Bytes>, options: EventStoreOptions) {
    this.db = db
    this.authority = options.authority ?? { founder: null }
    this.now = options.now ?? Date.now
    this.checkpointIntervalEvents = options.checkpointIntervalEvents ?? CHECKPOINT_INTERVAL_EVENTS
    this.events = sublevelOf(db, 'events')
    this.heads = sublevelOf(db, 'heads')
    this.jobs = sublevelOf(db, 'jobs')
    this.blocks = sublevelOf(db, 'blocks')
    this.nodes = sublevelOf(db, 'nodes')
    this.roles = sublevelOf(db, 'roles')
    this.marks = sublevelOf(db, 'integrity')
    this.replica = new Replica({ authority: this.authority })
  }

  /**
   * Opens (or creates) the store in `location`, writing events as `signer`, once it has
   * verified what it loads. Throws CorruptStoreError, naming the damage and the repair
   * command, for a damaged store; StoreInUseError when another process has it open.
   */
  static async open (location: string, signer: Signer, options: EventStoreOptions = {}): Promise<EventStore> {
    const created = await storeDirState(location) === 'new'
    const db = new Level<string, Bytes>(location, { keyEncoding: 'utf8', valueEncoding: 'view', createIfMissing: created })
    try {
      await db.open()
    } catch (error) {
      throw levelFailure(location, error)
    }
    const store = new EventStore(location, signer, db, options)
    try {
      await store.checkFormat()
      await store.load()
    } catch (error) {
      await db.close()
      throw error
    }
    return store
  }

  /** See StoreRecovery. */
  get recovery (): StoreRecovery {
    return this.recoveryState
  }

  /** Events whose chain this open verified: one per feed for a store closed cleanly. */
  get verifiedAtOpen (): number {
    return this.verifiedEvents
  }

  /** Records that the node has caught up from its peers: from now on, and at the next open, 'none'. */
  async markRecovered (): Promise<void> {
    await this.serialized(async () => {
      await this.db.batch([{ type: 'del', sublevel: this.marks, key: 'recovery' }], { sync: true })
      this.recoveryState = 'none'
    })
  }

  /** For `cr store repair`: the rebuilt store may lack events its peers hold. */
  async markRepaired (): Promise<void> {
    await this.serialized(async () => this.putRecovery('repaired'))
  }

  get author (): string {
    return this.signer.author
  }

  versionVector (): VersionVector {
    return this.replica.versionVector()
  }

  view (): FarmView {
    return this.replica.view()
  }

  stateHash (): string {
    return this.replica.stateHash()
  }

  /** The records, for reports and tests; treat as read-only. */
  records (): FarmRecords {
    return this.replica.records
  }

  onAppended (listener: AppendListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Hears of remote facts that were taken in (their chain is sound) but break an authority
   * rule, so have no effect: a job steered by someone not allowed to, a block fact from a
   * peer that does not hold it. For logging; the view already ignores them.
   */
  onRefusedFact (listener: RefusedFactListener): () => void {
    this.refusedListeners.add(listener)
    return () => this.refusedListeners.delete(listener)
  }

  /** Takes in one remote event in wire form. Throws EventRejectedError subclasses on refusal. */
  async ingest (bytes: Bytes): Promise<IngestResult> {
    const [outcome] = await this.ingestBatch([bytes])
    if (outcome === undefined) throw new Error('ingestBatch returned no outcome')
    if (outcome.kind === 'rejected') throw outcome.error
    return outcome
  }

  /** Takes in many remote events with one disk write; each gets its own outcome. */
  async ingestBatch (list: readonly Bytes[]): Promise<BatchOutcome[]> {
    return this.serialized(async () => {
      // Admission changes nothing; only the commits below do, and the write makes them durable.
      const admissions = await this.replica.admitBatch(list, async (author, seq) => this.heldLink(author, seq), this.now())
      const appended: [VerifiedEvent, Bytes][] = []
      const touched: Touched[] = []
      const outcomes: BatchOutcome[] = []
      for (let index = 0; index < list.length; index++) {
        const admission = admissions[index]
        if (admission === undefined) throw new Error(`no admission for event ${index} of the batch`)
        if (admission.kind !== 'next') {
          outcomes.push(admission)
          continue
        }
        touched.push(this.replica.commit(admission.verified))
        // The canonical encoding, not the bytes as sent: stored bytes always hash to the
        // event's link (chain.ts relies on it), even should a peer send another encoding.
        appended.push([admission.verified, admission.bytes])
        outcomes.push({ kind: 'appended', event: admission.verified })
      }
      await this.write(appended, touched)
      this.judgeAppended(appended)
      return outcomes
    })
  }

  /** Judges a batch's facts against the view after it, once, and only when someone listens. */
  private judgeAppended (appended: readonly [VerifiedEvent, Bytes][]): void {
    if (this.refusedListeners.size === 0 || appended.length === 0) return
    const judge = factJudge(this.replica.view())
    for (const [{ event }] of appended) {
      const refusal = judge(event.author, event.body)
      if (refusal === null) continue
      for (const listener of this.refusedListeners) listener({ author: event.author, seq: event.seq, type: event.body.type, refusal })
    }
  }

  /** Writes a local event: validated, signed as this node, stored, then announced. */
  async append (body: DraftBody, wallTime: number): Promise<{ event: VerifiedEvent, bytes: Bytes }> {
    return this.serialized(async () => {
      const verified = this.replica.draft(this.signer, wallTime, body)
      const bytes = encodeEvent(verified.event)
      const touched = this.replica.commit(verified)
      await this.write([[verified, bytes]], [touched])
      return { event: verified, bytes }
    })
  }

  /**
   * Wire bytes of `author`'s events from `fromSeq`, in order, at most `limit` of them,
   * chain-checked as they are read (up to the head, or the event after the last served),
   * so the store never serves a peer bytes it did not write. Throws CorruptStoreError.
   */
  async readFeed (author: string, fromSeq: number, limit: number): Promise<Bytes[]> {
    const range = await this.feedRange(author, fromSeq, limit)
    if (range === null) return []
    const { head, last, toSeq } = range
    const check = new ChainCheck(author, fromSeq)
    const served: Bytes[] = []
    await this.servingRead(async () => {
      for await (const [key, bytes] of this.events.iterator({ gte: seqKey(author, fromSeq), lte: seqKey(author, toSeq) })) {
        if (!check.take(seqOfKey(key), bytes)) break
        if (served.length <= last - fromSeq) served.push(bytes)
      }
      const broken = check.end(toSeq, toSeq === head.seq ? head.link : null)
      if (broken !== null) throw new CorruptStoreError(this.location, `events/${seqKey(author, broken.seq)}`, broken.why)
    })
    return served
  }

  /**
   * `author`'s events from `fromSeq`, at most `limit`, decoded, for reports that read the
   * whole log: chain-checked up to the head as readFeed checks them, but decoded once and
   * without the schema check. Every stored event passed that check on its way in, and a
   * chain up to the head's sealed link proves these are its bytes still. Throws
   * CorruptStoreError.
   */
  async readStoredFeed (author: string, fromSeq: number, limit: number): Promise<StoredEvent[]> {
    const range = await this.feedRange(author, fromSeq, limit)
    if (range === null) return []
    const { head, last, toSeq } = range
    return this.servingRead(async () => {
      const entries = await this.events.iterator({ gte: seqKey(author, fromSeq), lte: seqKey(author, toSeq) }).all()
      const stored: StoredEvent[] = []
      let previous: Bytes | null = null
      for (const [index, [key, bytes]] of entries.entries()) {
        const seq = fromSeq + index
        const event = this.decodeLinked(key, bytes, author, seq, previous)
        previous = sha256(bytes)
        if (seq <= last) stored.push({ event, bytes, link: previous })
      }
      if (entries.length !== toSeq - fromSeq + 1) throw new CorruptStoreError(this.location, `events/${seqKey(author, fromSeq + entries.length)}`, 'missing')
      if (toSeq === head.seq && (previous === null || !equalBytes(previous, head.link))) {
        throw new CorruptStoreError(this.location, `events/${seqKey(author, toSeq)}`, 'its bytes do not hash to the feed head\'s link')
      }
      return stored
    })
  }

  /**
   * What a read of `author`'s feed from `fromSeq` (at most `limit` events) covers, once
   * the writes it covers are on disk: the head, the last event served and the last one
   * read (the one after the last served, when there is one, vouches for it by its prev).
   * Null when there is nothing to serve.
   */
  private async feedRange (author: string, fromSeq: number, limit: number): Promise<{ head: FeedHead, last: number, toSeq: number } | null> {
    // The head as committed now: every event it covers belongs to a write already queued,
    // so waiting for the queue puts it on disk. A write queued later commits in memory
    // before its disk write ends; reading the head after the wait would meet it half done.
    const head = this.replica.head(author)
    await this.writesInFlight()
    const last = Math.min(head?.seq ?? 0, fromSeq + limit - 1)
    if (head === undefined || last < fromSeq) return null
    return { head, last, toSeq: last < head.seq ? last + 1 : last }
  }

  /**
   * Reads every feed back, chain-checked, a slice at a time: what an open verifies only
   * above its checkpoint, a running node checks in the background, so damage in an old
   * table (which no open reads) is found within minutes, not when a peer asks for it.
   * Throws CorruptStoreError (and marks the store damaged) at the first damage.
   */
  async scrub (options: { readonly sliceEvents?: number, readonly stopped?: () => boolean } = {}): Promise<number> {
    const slice = options.sliceEvents ?? SCRUB_SLICE_EVENTS
    let checked = 0
    for (const [author, head] of Object.entries(this.versionVector())) {
      for (let from = 1; from <= head; from += slice) {
        if (this.closed || options.stopped?.() === true) return checked
        checked += (await this.readFeed(author, from, slice)).length
        // Between slices the node's own work goes first.
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    return checked
  }

  /** Every stored event, verified, feed by feed: for reports and replay checks. */
  async * allEvents (): AsyncGenerator<VerifiedEvent> {
    await this.writesInFlight()
    const iterator = this.events.iterator()
    try {
      for (;;) {
        const entry = await this.servingRead(async () => iterator.next())
        if (entry === undefined) return
        yield await this.servingRead(() => this.decodeVerified(entry[0], entry[1]))
      }
    } finally {
      await iterator.close()
    }
  }

  /** Closes the store, writing a checkpoint so the next open has nothing to re-verify. */
  async close (): Promise<void> {
    if (this.closed) return
    await this.serialized(async () => {
      if (this.sinceCheckpoint > 0) await this.db.batch(this.markOps(true))
    // A checkpoint is a shortcut, not a promise: without it the next open verifies more.
    }).catch(() => undefined)
    this.closed = true
    // Each queued write's failure went to its own caller; closing only waits for them.
    await this.queue.catch(() => undefined)
    await this.db.close()
  }

  private decodeVerified (key: string, bytes: Bytes): VerifiedEvent {
    try {
      return verifyEvent(decodeEvent(bytes))
    } catch (error) {
      throw new CorruptStoreError(this.location, `events/${key}`, (error as Error).message, { cause: error })
    }
  }

  /** The event stored under `key`, which must be `author`'s `seq` and name `previous` (the prior event's link) as its prev. */
  private decodeLinked (key: string, bytes: Bytes, author: string, seq: number, previous: Bytes | null): SignedEvent {
    const corrupt = (part: string, why: string, cause?: unknown): CorruptStoreError => new CorruptStoreError(this.location, `events/${part}`, why, { cause })
    if (seqOfKey(key) !== seq) throw corrupt(seqKey(author, seq), `missing (the next stored event is seq ${seqOfKey(key)})`)
    let event: SignedEvent
    try {
      // The chain up to the head's sealed link vouches for these bytes (see readStoredFeed).
      event = decodeStored(bytes) as SignedEvent
    } catch (error) {
      throw corrupt(key, (error as Error).message, error)
    }
    if (event.author !== author || event.seq !== seq) throw corrupt(key, 'the stored bytes are not this event')
    if (seq === 1 && event.prev !== null) throw corrupt(key, 'the first event names a prev')
    if (previous !== null && !(event.prev instanceof Uint8Array && equalBytes(event.prev, previous))) {
      throw corrupt(seqKey(author, seq - 1), `its bytes do not hash to the prev of seq ${seq}`)
    }
    return event
  }

  private async heldLink (author: string, seq: number): Promise<Uint8Array> {
    const key = seqKey(author, seq)
    const bytes = await this.servingRead(async () => this.events.get(key))
    if (bytes === undefined) throw new CorruptStoreError(this.location, `events/${key}`, 'below the feed head but missing')
    return this.decodeVerified(key, bytes).link
  }

  private async write (appended: readonly [VerifiedEvent, Bytes][], touched: readonly Touched[]): Promise<void> {
    if (appended.length === 0) return
    const ops: BatchOp[] = []
    for (const [verified, bytes] of appended) {
      ops.push({ type: 'put', sublevel: this.events, key: seqKey(verified.event.author, verified.event.seq), value: bytes })
    }
    for (const [author, head] of this.headsOf(appended)) {
      ops.push({ type: 'put', sublevel: this.heads, key: author, value: seal(encodeCanonical(head)) })
    }
    ops.push(...this.recordOps(touched))
    const checkpointDue = this.sinceCheckpoint + appended.length >= this.checkpointIntervalEvents
    ops.push(...this.markOps(checkpointDue))
    try {
      await this.db.batch(ops)
    } catch (error) {
      // Memory ran ahead of the disk: reload the truth before anyone reads it.
      this.replica = await this.loadReplica()
      throw new StoreWriteError(this.location, { cause: error })
    }
    this.sinceCheckpoint = checkpointDue ? 0 : this.sinceCheckpoint + appended.length
    for (const [verified, bytes] of appended) {
      for (const listener of this.listeners) listener(verified, bytes)
    }
  }

  private headsOf (appended: readonly [VerifiedEvent, Bytes][]): Map<string, FeedHead> {
    const heads = new Map<string, FeedHead>()
    for (const [verified] of appended) {
      const head = this.replica.head(verified.event.author)
      if (head !== undefined) heads.set(verified.event.author, head)
    }
    return heads
  }

  /** One put per record changed, however many events of the batch changed it. */
  private recordOps (touched: readonly Touched[]): BatchOp[] {
    const changed = new Map<string, { sublevel: Sublevel, key: string, record: () => unknown }>()
    const { records } = this.replica
    for (const touch of touched) {
      if (touch.kind === 'node') {
        changed.set(`node/${touch.id}`, { sublevel: this.nodes, key: touch.id, record: () => records.nodes[touch.id] })
      }
      if (touch.kind === 'role') {
        changed.set(`role/${touch.key}`, { sublevel: this.roles, key: touch.key, record: () => records.roles[touch.key] })
      }
      if (touch.kind !== 'job') continue
      if (touch.meta) {
        changed.set(`job/${touch.id}`, { sublevel: this.jobs, key: touch.id, record: () => jobMeta(records.jobs[touch.id]) })
      }
      // A compacted job's blocks are gone from the records: their records go from the disk.
      for (const block of [...('dropped' in touch ? touch.dropped : []), ...(touch.block === null ? [] : [touch.block])]) {
        const key = blockRecordKey(touch.id, block)
        changed.set(`block/${key}`, { sublevel: this.blocks, key, record: () => records.jobs[touch.id]?.blocks[String(block)] })
      }
    }
    return [...changed.values()].map(({ sublevel, key, record }): BatchOp => {
      const value = record()
      return value === undefined ? { type: 'del', sublevel, key } : { type: 'put', sublevel, key, value: seal(encodeCanonical(value)) }
    })
  }

  /** A new store gets its format and its 'created' mark in one write. */
  private async checkFormat (): Promise<void> {
    const meta = this.db.sublevel('meta', { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const found = await guardedRead(this.location, async () => meta.get('format'))
    if (found === undefined) {
      const anything = await guardedRead(this.location, async () => this.db.keys({ limit: 1 }).all())
      if (anything.length > 0) throw new ForeignStoreError(this.location, '(none)', STORE_FORMAT)
      await this.db.batch()
        .put('format', STORE_FORMAT, { sublevel: meta })
        .put('recovery', sealed('created' satisfies RecoveryMark), { sublevel: this.marks })
        .write({ sync: true })
      return
    }
    if (found !== STORE_FORMAT) throw new ForeignStoreError(this.location, found, STORE_FORMAT)
  }

  /**
   * Loads the heads and records and verifies them against the events (see the module
   * header). Damage found is also marked on disk, so that every later open refuses the
   * store too, even once LevelDB has forgotten what it dropped.
   */
  private async load (): Promise<void> {
    const damage = await this.mark<DamageMark>('damage')
    if (damage !== undefined) throw new CorruptStoreError(this.location, damage.part, damage.why)
    try {
      const dropped = await droppedAtRecovery(this.location)
      if (dropped.length > 0) {
        throw new CorruptStoreError(this.location, 'the LevelDB write-ahead log', `LevelDB dropped damaged writes while recovering it: ${dropped.join(', ')}`)
      }
      this.replica = await this.loadReplica()
      await this.verifyFeeds()
    } catch (error) {
      if (error instanceof CorruptStoreError) await this.markDamaged(error)
      throw error
    }
    this.recoveryState = await this.mark<RecoveryMark>('recovery') ?? 'none'
  }

  /**
   * Heads against the commit mark and the events: the heads hold as many events as the
   * last write left, and each feed's chain from the checkpoint up to its head is whole,
   * with nothing stored above the head. A store from before the marks is verified in full
   * once. Writes a checkpoint when it verified more than the heads.
   */
  private async verifyFeeds (): Promise<void> {
    const vector = this.replica.versionVector()
    const held = eventCount(vector)
    const commit = await this.mark<CommitMark>('commit')
    const checkpoint = (await this.mark<CheckpointMark>('checkpoint'))?.vector ?? {}
    if (commit === undefined ? Object.keys(checkpoint).length > 0 : commit.events !== held) {
      throw new CorruptStoreError(this.location, 'heads', `the feed heads hold ${held} events but the last write left ${commit?.events ?? 'no commit mark'}: writes went missing`)
    }
    for (const [author, seq] of Object.entries(checkpoint)) {
      if ((vector[author] ?? 0) < seq) throw new CorruptStoreError(this.location, `heads/${author}`, `at seq ${vector[author] ?? 0}, below the ${seq} verified at the last checkpoint`)
    }
    let verified = 0
    for (const author of Object.keys(vector)) {
      const head = this.replica.head(author)
      if (head === undefined) continue
      const check = new ChainCheck(author, Math.max(1, checkpoint[author] ?? 1))
      await guardedRead(this.location, async () => {
        for await (const [key, bytes] of this.events.iterator({ gte: seqKey(author, Math.max(1, checkpoint[author] ?? 1)), lt: feedEndKey(author) })) {
          const seq = seqOfKey(key)
          if (seq > head.seq) throw new CorruptStoreError(this.location, `events/${key}`, `stored above the feed head (seq ${head.seq})`)
          if (!check.take(seq, bytes)) break
        }
      })
      const broken = check.end(head.seq, head.link)
      if (broken !== null) throw new CorruptStoreError(this.location, `events/${seqKey(author, broken.seq)}`, broken.why)
      verified += check.count
    }
    this.verifiedEvents = verified
    if (verified > Object.keys(vector).length) await this.db.batch(this.markOps(true))
  }

  private async mark<T> (key: 'commit' | 'checkpoint' | 'damage' | 'recovery'): Promise<T | undefined> {
    const value = await guardedRead(this.location, async () => this.marks.get(key))
    return value === undefined ? undefined : this.unseal(`integrity/${key}`, value) as T
  }

  /**
   * A read of the running store. Damage it meets is also marked on disk, so the node's
   * next start refuses the store instead of meeting the damage again while it works.
   */
  private async servingRead<T> (read: () => T | Promise<T>): Promise<T> {
    try {
      return await guardedRead(this.location, read)
    } catch (error) {
      if (error instanceof CorruptStoreError) await this.markDamaged(error)
      throw error
    }
  }

  private async markDamaged (error: CorruptStoreError): Promise<void> {
    // The refusal matters more than the mark: a store too damaged to write it still refuses.
    await this.syncPut('damage', sealed({ part: error.part, why: error.why } satisfies DamageMark)).catch(() => undefined)
  }

  /** A mark that must survive a power cut, not only a crash of the process. */
  private async syncPut (key: string, value: Bytes): Promise<void> {
    await this.db.batch([{ type: 'put', sublevel: this.marks, key, value }], { sync: true })
  }

  /** The commit mark for the state in memory, with a checkpoint of it when `checkpoint`. */
  private markOps (checkpoint: boolean): BatchOp[] {
    const vector = this.replica.versionVector()
    const commit: BatchOp = { type: 'put', sublevel: this.marks, key: 'commit', value: sealed({ events: eventCount(vector) } satisfies CommitMark) }
    return checkpoint ? [commit, { type: 'put', sublevel: this.marks, key: 'checkpoint', value: sealed({ vector } satisfies CheckpointMark) }] : [commit]
  }

  private async putRecovery (mark: RecoveryMark): Promise<void> {
    await this.syncPut('recovery', sealed(mark))
    this.recoveryState = mark
  }

  private async loadReplica (): Promise<Replica> {
    return guardedRead(this.location, async () => this.readReplica())
  }

  private async readReplica (): Promise<Replica> {
    const heads = new Map<string, FeedHead>()
    for await (const [author, value] of this.heads.iterator()) {
      heads.set(author, this.unseal(`heads/${author}`, value) as FeedHead)
    }
    const records = emptyRecords()
    for await (const [id, value] of this.jobs.iterator()) {
      records.jobs[id] = { ...(this.unseal(`jobs/${id}`, value) as Omit<JobRecord, 'blocks'>), blocks: {} }
    }
    for await (const [key, value] of this.blocks.iterator()) {
      const [jobId = '', index = ''] = key.split('!')
      const job = records.jobs[jobId] ??= emptyJobRecord(jobId)
      job.blocks[String(Number(index))] = this.unseal(`blocks/${key}`, value) as BlockRecord
    }
    for await (const [id, value] of this.nodes.iterator()) {
      records.nodes[id] = this.unseal(`nodes/${id}`, value) as NodeRecord
    }
    for await (const [key, value] of this.roles.iterator()) {
      records.roles[key] = this.unseal(`roles/${key}`, value) as RoleFact
    }
    return new Replica({ snapshot: { heads, records }, authority: this.authority })
  }

  private unseal (key: string, value: Bytes): unknown {
    try {
      return openSeal(value)
    } catch (error) {
      throw new CorruptStoreError(this.location, key, (error as Error).message, { cause: error })
    }
  }

  /**
   * Waits for the writes already queued. The state shows an event from the moment it is
   * committed in memory, just before its disk write; a read of the events on disk waits
   * for that write, so it never lags what the state already shows.
   */
  private async writesInFlight (): Promise<void> {
    this.assertOpen()
    await this.queue
  }

  private assertOpen (): void {
    if (this.closed) throw new StoreClosedError(this.location)
  }

  private async serialized<T> (task: () => Promise<T>): Promise<T> {
    this.assertOpen()
    const run = this.queue.then(task, task)
    // The queue only orders writes; each write's caller hears its own failure through `run`.
    this.queue = run.catch(() => undefined)
    return run
  }
}

