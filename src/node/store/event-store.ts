/**
 * The node's log on disk: every author's feed, the feed heads, and the materialized farm
 * records, in LevelDB: a record per job (its own fields), per block and per node, so an
 * event rewrites only the small record it changed. An event, its feed head and the
 * records it touched are written in one atomic batch, so the records on disk always equal a replay of the events on disk
 * and a restart loads them instead of replaying everything.
 *
 * Every value the store writes is sealed with its sha256 (see seal.ts): bytes it did not
 * write are refused with a CorruptStoreError, never decoded into nonsense.
 */
import path from 'node:path'
import { Level } from 'level'
import type { FarmAuthority } from '../../protocol/authority.js'
import { decodeEvent, encodeCanonical, encodeEvent } from '../../protocol/encoding.js'
import { EventRejectedError } from '../../protocol/errors.js'
import type { DraftBody, VerifiedEvent } from '../../protocol/events.js'
import { factJudge, type FactRefusal } from '../../protocol/fact-rules.js'
import type { FeedHead } from '../../protocol/feed.js'
import {
  emptyJobRecord, emptyRecords,
  type BlockRecord, type FarmRecords, type JobRecord, type NodeRecord, type RoleFact, type Touched
} from '../../protocol/records.js'
import { Replica } from '../../protocol/replica.js'
import { verifyEvent, type Signer } from '../../protocol/signing.js'
import type { VersionVector } from '../../protocol/version-vector.js'
import type { FarmView } from '../../protocol/view.js'
import { CorruptStoreError, ForeignStoreError, StoreClosedError, StoreWriteError } from './errors.js'
import { openSeal, seal } from './seal.js'

export const STORE_FORMAT = 'constellation-store/2'

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
}

type Bytes = Uint8Array

function sublevelOf (db: Level<string, Bytes>, name: string) {
  return db.sublevel<string, Bytes>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
}
type Sublevel = ReturnType<typeof sublevelOf>
interface BatchOp { type: 'put', sublevel: Sublevel, key: string, value: Bytes }

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

export class EventStore {
  private readonly db: Level<string, Bytes>
  private readonly events: Sublevel
  private readonly heads: Sublevel
  private readonly jobs: Sublevel
  private readonly blocks: Sublevel
  private readonly nodes: Sublevel
  private readonly roles: Sublevel
  private readonly authority: FarmAuthority
  private readonly now: () => number
  private replica: Replica
  private readonly listeners = new Set<AppendListener>()
  private readonly refusedListeners = new Set<RefusedFactListener>()
  /** Writes run one at a time, in arrival order, so feed heads never race. */
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false

  private constructor (readonly location: string, readonly signer: Signer, db: Level<string, Bytes>, options: EventStoreOptions) {
    this.db = db
    this.authority = options.authority ?? { founder: null }
    this.now = options.now ?? Date.now
    this.events = sublevelOf(db, 'events')
    this.heads = sublevelOf(db, 'heads')
    this.jobs = sublevelOf(db, 'jobs')
    this.blocks = sublevelOf(db, 'blocks')
    this.nodes = sublevelOf(db, 'nodes')
    this.roles = sublevelOf(db, 'roles')
    this.replica = new Replica({ authority: this.authority })
  }

  /** Opens (or creates) the store in `location`, writing events as `signer`. */
  static async open (location: string, signer: Signer, options: EventStoreOptions = {}): Promise<EventStore> {
    const db = new Level<string, Bytes>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open()
    const store = new EventStore(location, signer, db, options)
    try {
      await store.checkFormat()
      store.replica = await store.loadReplica()
    } catch (error) {
      await db.close()
      throw error
    }
    return store
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
      for (const [index, bytes] of list.entries()) {
        const admission = admissions[index]
        if (admission === undefined) throw new Error(`no admission for event ${index} of the batch`)
        if (admission.kind !== 'next') {
          outcomes.push(admission)
          continue
        }
        touched.push(this.replica.commit(admission.verified))
        appended.push([admission.verified, bytes])
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

  /** Wire bytes of `author`'s events from `fromSeq`, in order, at most `limit` of them. */
  async readFeed (author: string, fromSeq: number, limit: number): Promise<Bytes[]> {
    await this.writesInFlight()
    const last = Math.min(this.replica.head(author)?.seq ?? 0, fromSeq + limit - 1)
    if (last < fromSeq) return []
    return this.events.values({ gte: seqKey(author, fromSeq), lte: seqKey(author, last) }).all()
  }

  /** Every stored event, verified, feed by feed: for reports and replay checks. */
  async * allEvents (): AsyncGenerator<VerifiedEvent> {
    await this.writesInFlight()
    for await (const [key, bytes] of this.events.iterator()) {
      yield this.decodeStored(key, bytes)
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue.catch(() => undefined)
    await this.db.close()
  }

  private decodeStored (key: string, bytes: Bytes): VerifiedEvent {
    try {
      return verifyEvent(decodeEvent(bytes))
    } catch (error) {
      throw new CorruptStoreError(this.location, `events/${key}`, (error as Error).message, { cause: error })
    }
  }

  private async heldLink (author: string, seq: number): Promise<Uint8Array> {
    const key = seqKey(author, seq)
    const bytes = await this.events.get(key)
    if (bytes === undefined) throw new CorruptStoreError(this.location, `events/${key}`, 'below the feed head but missing')
    return this.decodeStored(key, bytes).link
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
    try {
      await this.db.batch(ops)
    } catch (error) {
      // Memory ran ahead of the disk: reload the truth before anyone reads it.
      this.replica = await this.loadReplica()
      throw new StoreWriteError(this.location, { cause: error })
    }
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
      const { block } = touch
      if (block !== null) {
        const key = blockRecordKey(touch.id, block)
        changed.set(`block/${key}`, { sublevel: this.blocks, key, record: () => records.jobs[touch.id]?.blocks[String(block)] })
      }
    }
    return [...changed.values()].map(({ sublevel, key, record }) => ({ type: 'put', sublevel, key, value: seal(encodeCanonical(record())) }))
  }

  private async checkFormat (): Promise<void> {
    const meta = this.db.sublevel('meta', { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const found = await meta.get('format')
    if (found === undefined) {
      const anything = await this.db.keys({ limit: 1 }).all()
      if (anything.length > 0) throw new ForeignStoreError(this.location, '(none)', STORE_FORMAT)
      await meta.put('format', STORE_FORMAT)
      return
    }
    if (found !== STORE_FORMAT) throw new ForeignStoreError(this.location, found, STORE_FORMAT)
  }

  private async loadReplica (): Promise<Replica> {
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
    this.queue = run.catch(() => undefined)
    return run
  }
}

