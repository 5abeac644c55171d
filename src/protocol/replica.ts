/**
 * A replica of the log in memory: the head of every author's feed, the records those
 * events reduce to, and the highest Lamport clock seen. Stores (LevelDB on disk, memory in
 * the simulator) keep the events themselves and wrap a Replica for the rest, so both
 * decide and apply exactly alike.
 */
import type { FarmAuthority } from './authority.js'
import { decodeEvent, encodeEvent, MAX_EVENT_BYTES, validateBody } from './encoding.js'
import { EventRejectedError, OversizedEventError } from './errors.js'
import type { DraftBody, EventBody, HashedEvent, VerifiedEvent } from './events.js'
import { FarmViewCache } from './farm-view.js'
import { draftNext, headOf, judgeHeld, place, type FeedHead } from './feed.js'
import { jobIdFor } from './job-id.js'
import { applyEvent, emptyRecords, type FarmRecords, type Touched } from './records.js'
import { hashEncoded, signEvent, verifySignature, vouchedByChain, type Signer } from './signing.js'
import { stateHash } from './state-hash.js'
import type { VersionVector } from './version-vector.js'
import type { FarmView } from './view.js'

/** Where an admitted remote event stands. */
export type Admission =
  /** Authenticated and next in its feed: commit it, and store `bytes`, its canonical encoding (what its link hashes). */
  | { readonly kind: 'next', readonly verified: VerifiedEvent, readonly bytes: Uint8Array }
  /** Events of its feed are missing before it: pull from `have + 1`. */
  | { readonly kind: 'gap', readonly author: string, readonly have: number, readonly got: number }

/** One outcome per event of a batch: refusals are reported, so the rest still count. */
export type BatchAdmission = Admission | { readonly kind: 'rejected', readonly error: EventRejectedError }

export interface ReplicaSnapshot {
  readonly heads: ReadonlyMap<string, FeedHead>
  readonly records: FarmRecords
}

export interface ReplicaOptions {
  readonly snapshot?: ReplicaSnapshot
  /** Who founded the farm (from the swarm key file): the first wrangler. */
  readonly authority?: FarmAuthority
}

/** Looks up the link hash of an event the store holds, for telling a replay from a fork. */
export type HeldLinkLookup = (author: string, seq: number) => Promise<Uint8Array>

/** Events of one author accepted so far in a batch, waiting for the newest one's signature. */
type Run = { readonly index: number, readonly hashed: HashedEvent, readonly encoded: Uint8Array }[]

function rejected (error: unknown): BatchAdmission {
  if (error instanceof EventRejectedError) return { kind: 'rejected', error }
  throw error
}

export class Replica {
  private readonly heads: Map<string, FeedHead>
  readonly records: FarmRecords
  private highestLamport = 0
  private readonly views: FarmViewCache
  private cachedHash: string | null = null
  readonly authority: FarmAuthority

  constructor (options: ReplicaOptions = {}) {
    this.heads = new Map(options.snapshot?.heads ?? [])
    this.records = options.snapshot?.records ?? emptyRecords()
    this.authority = options.authority ?? { founder: null }
    for (const head of this.heads.values()) this.highestLamport = Math.max(this.highestLamport, head.lamport)
    this.views = new FarmViewCache(this.records, this.authority)
  }

  head (author: string): FeedHead | undefined {
    return this.heads.get(author)
  }

  versionVector (): VersionVector {
    return Object.fromEntries([...this.heads].map(([author, head]) => [author, head.seq]))
  }

  /** Decodes, authenticates and places one untrusted event; throws the typed refusal. `nowMs`: this peer's wall clock. */
  async admit (bytes: Uint8Array, heldLink: HeldLinkLookup, nowMs: number): Promise<Admission> {
    const [admission] = await this.admitBatch([bytes], heldLink, nowMs)
    if (admission === undefined) throw new Error('admitBatch returned no outcome')
    if (admission.kind === 'rejected') throw admission.error
    return admission
  }

  /**
   * Decodes and places a batch of untrusted events without changing the replica; commit
   * the `next` ones in order to keep them. Each author's run of consecutive events is
   * authenticated by the signature of its newest event, whose `prev` links vouch for the
   * rest (signatures included): one Ed25519 check per run instead of one per event, which
   * is what makes catching up on a long log fast. Should that signature fail, the run's
   * events are checked one by one, so every good event before a bad one still counts.
   * `nowMs` is this peer's wall clock: events whose clock runs too far ahead of it wait.
   */
  async admitBatch (list: readonly Uint8Array[], heldLink: HeldLinkLookup, nowMs: number): Promise<BatchAdmission[]> {
    const results: BatchAdmission[] = []
    const heads = new Map<string, FeedHead>()
    const runs = new Map<string, Run>()
    const pendingLinks = new Map<string, Uint8Array>()
    for (const [index, bytes] of list.entries()) {
      try {
        const event = decodeEvent(bytes)
        // Encoded once: both hashes come from it, and it is what the store keeps.
        const encoded = encodeEvent(event)
        const hashed = hashEncoded(event, encoded)
        const { author, seq } = hashed.event
        const placement = place(heads.get(author) ?? this.heads.get(author), hashed, nowMs)
        if (placement.kind === 'gap') {
          results.push({ kind: 'gap', author, have: placement.have, got: seq })
        } else if (placement.kind === 'held') {
          judgeHeld(pendingLinks.get(`${author}#${seq}`) ?? await heldLink(author, seq), hashed, verifySignature)
        } else {
          heads.set(author, headOf(hashed))
          pendingLinks.set(`${author}#${seq}`, hashed.link)
          let run = runs.get(author)
          if (run === undefined) runs.set(author, run = [])
          run.push({ index, hashed, encoded })
          results.push({ kind: 'next', verified: vouchedByChain(hashed), bytes: encoded })
        }
      } catch (error) {
        results.push(rejected(error))
      }
    }
    for (const run of runs.values()) authenticateRun(run, results)
    return results
  }

  /**
   * Signs the writer's next event with this replica's clocks; commit it to keep it. A
   * submission gets its job id here, from the event's place in the feed. The event is
   * held to every rule peers apply to it (its size, its clock) before anything is
   * written: a node never writes an event its peers would refuse.
   */
  draft (signer: Signer, wallTime: number, body: DraftBody): VerifiedEvent {
    const head = this.heads.get(signer.author)
    const seq = (head?.seq ?? 0) + 1
    const full: EventBody = body.type === 'job.submitted' ? { type: body.type, job: { ...body.job, id: jobIdFor(signer.author, seq) } } : body
    const unsigned = draftNext(signer.author, head, this.highestLamport, wallTime, validateBody(full))
    const signed = signEvent(unsigned, signer)
    const bytes = encodeEvent(signed.event)
    if (bytes.length > MAX_EVENT_BYTES) throw new OversizedEventError(bytes.length, MAX_EVENT_BYTES)
    place(head, signed, wallTime)
    return signed
  }

  /** Applies an admitted (or drafted) event: advances its feed and reduces it into the records. */
  commit (verified: VerifiedEvent): Touched {
    const { author, lamport } = verified.event
    this.heads.set(author, headOf(verified))
    this.highestLamport = Math.max(this.highestLamport, lamport)
    this.cachedHash = null
    const touched = applyEvent(this.records, verified)
    this.views.touched(touched)
    return touched
  }

  view (): FarmView {
    return this.views.view()
  }

  stateHash (): string {
    return this.cachedHash ??= stateHash(this.records)
  }
}

/**
 * Settles a run's outcomes: all of it on its newest event's signature, or else event by
 * event up to the first forgery, after which the rest have nothing to follow.
 */
function authenticateRun (run: Run, results: BatchAdmission[]): void {
  const newest = run.at(-1)
  if (newest === undefined) return
  try {
    results[newest.index] = { kind: 'next', verified: verifySignature(newest.hashed), bytes: newest.encoded }
    return
  } catch (error) {
    rejected(error)
  }
  let forged: HashedEvent | undefined
  for (const { index, hashed, encoded } of run) {
    if (forged !== undefined) {
      results[index] = { kind: 'gap', author: hashed.event.author, have: forged.event.seq - 1, got: hashed.event.seq }
      continue
    }
    try {
      results[index] = { kind: 'next', verified: verifySignature(hashed), bytes: encoded }
    } catch (error) {
      results[index] = rejected(error)
      forged = hashed
    }
  }
}
